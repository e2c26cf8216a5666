"""The workbench's views of a draft over HTTP: the form, edits that keep comments, decision tables,
defaults that follow the chosen plan, which rows a decision passed, and where a plan is used."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from engine.core.engine import Engine
from engine.service.app import create_app
from engine.service.state import Service, ServiceConfig

from .test_workbench import _client, _policy
from .test_workbench import folder as folder
from .test_workbench import wb as wb


def _edit(wb: TestClient, file: str, text: str, *edits: dict[str, Any]) -> Any:
    return wb.post("/wb/api/edit", json={"file": file, "text": text, "edits": list(edits)})


def test_the_product_managers_task_through_the_form_changes_two_lines_and_keeps_every_comment(
    wb: TestClient, folder: Path
) -> None:
    """Business 20 a month with a cap of 60, by the form's routes alone; the saved file differs from the
    original in exactly those two values."""
    opened = _policy(wb)
    form = wb.post("/wb/api/form", json={}).json()
    business = next(p for p in form["plans"] if p["name"] == "business")
    assert (business["values"]["monthly_allotment"], business["values"]["cap"]) == (15, 45)
    labels = {k["key"]: k["label"] for k in form["plan_keys"]}
    assert labels["purchasable"] == "May buy credits"  # the words the CLI and the docs use too
    r = _edit(
        wb,
        "policies.yaml",
        opened["text"],
        {"path": ["plans", "business", "monthly_allotment"], "value": 20},
        {"path": ["plans", "business", "cap"], "value": 60},
    )
    assert r.status_code == 200, r.text
    text = r.json()["text"]
    draft = {"policies.yaml": text}
    assert wb.post("/wb/api/check", json={"files": draft}).json()["ok"] is True
    after = wb.post("/wb/api/form", json={"files": draft}).json()
    assert next(p for p in after["plans"] if p["name"] == "business")["values"]["cap"] == 60
    saved = wb.post("/wb/api/save", json={"file": "policies.yaml", "text": text, "token": opened["token"]})
    assert saved.status_code == 200, saved.text
    old, new = opened["text"].splitlines(), (folder / "policies.yaml").read_text().splitlines()
    changed = [line for line in difflib.ndiff(old, new) if line[:1] in "+-"]
    assert len(old) == len(new) and len(changed) == 4, changed
    assert all(a == b for a, b in zip(old, new, strict=True) if a.lstrip().startswith("#"))


def test_a_refused_edit_is_a_problem_with_a_diagnostic_and_the_text_is_not_changed(wb: TestClient) -> None:
    text = _policy(wb)["text"]
    r = _edit(wb, "policies.yaml", text, {"path": ["plans", "career", "cap", "deeper"], "value": 1})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_edit" and r.json()["diagnostics"][0]["file"] == "policies.yaml"
    bad = _edit(wb, "policies.yaml", "plans: [\n", {"path": ["plans"], "value": 1})
    assert bad.status_code == 422 and bad.json()["diagnostics"][0]["line"] is not None
    outside = _edit(wb, "../secrets.yaml", text, {"path": ["x"], "value": 1})
    assert outside.status_code == 422 and outside.json()["code"] == "invalid_file"


def test_a_rules_cell_is_edited_through_its_path_and_the_table_follows(wb: TestClient) -> None:
    send = next(f for f in wb.get("/wb/api/files").json()["files"] if f["name"] == "rules/send.yaml")["text"]
    table = wb.post("/wb/api/table", json={"file": "rules/send.yaml"}).json()
    assert table["hit_policy"] == "first match decides"
    row = next(r for r in table["rows"] if r["rule"] == "no-credits-can-buy")
    cell = row["cells"]["sender.balance"]
    assert cell["text"] == "below 1"
    text = _edit(wb, "rules/send.yaml", send, {"path": cell["edit"]["path"], "value": 2}).json()["text"]
    assert [a for a, b in zip(send.splitlines(), text.splitlines(), strict=True) if a != b] == [
        "      sender.balance: {below: 1}"
    ]
    again = wb.post(
        "/wb/api/table", json={"file": "rules/send.yaml", "files": {"rules/send.yaml": text}}
    ).json()
    assert next(r for r in again["rows"] if r["rule"] == "no-credits-can-buy")["cells"]["sender.balance"][
        "text"
    ] == ("below 2")
    for name in ("policies.yaml", "rules/nope.yaml", "rules/../policies.yaml"):
        assert wb.post("/wb/api/table", json={"file": name}).status_code == 422, name


def test_a_draft_whose_rules_do_not_load_gets_their_diagnostics_not_a_table(wb: TestClient) -> None:
    r = wb.post(
        "/wb/api/table", json={"file": "rules/send.yaml", "files": {"rules/send.yaml": "event: send\n"}}
    )
    assert r.status_code == 422 and any(d["file"] == "rules/send.yaml" for d in r.json()["diagnostics"])


def test_defaults_follow_the_chosen_plan_and_the_draft_policy(wb: TestClient) -> None:
    facts = wb.post("/wb/api/defaults", json={"event": "send", "facts": {"sender.plan": "sales_navigator"}})
    assert facts.json()["facts"]["plan.purchasable"] is False
    assert wb.post("/wb/api/defaults", json={"event": "send"}).json()["facts"]["plan.purchasable"] is True
    text = _policy(wb)["text"].replace("cap: 60", "cap: 61", 1)
    drafted = wb.post(
        "/wb/api/defaults",
        json={"event": "send", "facts": {"sender.plan": "sales_navigator"}, "files": {"policies.yaml": text}},
    )
    assert drafted.json()["facts"]["plan.cap"] == 61
    bad = wb.post("/wb/api/defaults", json={"event": "send", "facts": {"sender.plna": "career"}})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_fact"


def test_a_decision_lists_the_rows_it_passed_and_why_each_did_not_match(wb: TestClient) -> None:
    r = wb.post("/wb/api/decide", json={"event": "send", "facts": {"sender.balance": 0}}).json()
    assert r["rule"] == "no-credits-can-buy" and r["rows"][-1] == {
        "rule": "no-credits-can-buy",
        "matched": True,
        "failed": [],
        "other_failed": False,
    }
    assert all(not row["matched"] and row["failed"] for row in r["rows"][:-1])
    assert r["rows"][1] == {
        "rule": "basic-must-upgrade",
        "matched": False,
        "failed": ["sender.premium"],
        "other_failed": False,
    }


def test_the_schemas_are_served_for_the_editor(wb: TestClient) -> None:
    s = wb.get("/wb/api/schemas").json()
    assert s["policy"]["properties"]["plans"]["additionalProperties"]["properties"]["purchasable"]["title"]
    assert "send" in s["events"] and s["scenario"]["type"] == "object"


def test_where_a_plan_is_used_names_scenarios_and_an_account_of_the_bound_store(
    folder: Path, tmp_path: Path
) -> None:
    with _client(folder) as wb:
        use = wb.get("/wb/api/usage").json()
    assert use["store"] is False
    assert "examples/scenarios/billing-cycle.yaml" in use["plans"]["sales_navigator"]["scenarios"]
    db = str(tmp_path / "store.db")
    with Engine.open(db=db) as eng:
        eng.subscribe("ada", "business", at="2026-01-05")
    config = ServiceConfig(db="memory", policy=str(folder / "policies.yaml"), rules=str(folder / "rules"))
    app = create_app(service=Service(config), workbench=folder, workbench_store=db)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        use = c.get("/wb/api/usage").json()
    assert use["store"] is True and use["plans"]["business"]["account"] == "ada"
