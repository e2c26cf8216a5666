"""Checks before save (TestClient): a plan some account is on cannot be removed; scenario expectations
that assume the old numbers are listed with where they are written, what they expect and what they
get now."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Engine
from engine.service.app import create_app
from engine.service.state import Service, ServiceConfig
from tests.service.folders import policy_folder, snapshot

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = "examples/scenarios"
BUSINESS = (
    ("    monthly_allotment: 15       # R10", "    monthly_allotment: 20       # R10"),
    ("    cap: 45                     # R11", "    cap: 60                     # R11"),
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return policy_folder(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A store with four Career accounts and one on Business."""
    db = str(tmp_path / "store.db")
    with Engine.open(db=db) as eng:
        for i in range(4):
            eng.subscribe(f"jobseeker-{i}", "career", at="2026-01-05")
        eng.subscribe("ada", "business", at="2026-01-05")
    return db


def _client(folder: Path, store: str | None = None) -> TestClient:
    config = ServiceConfig(db="memory", policy=str(folder / "policies.yaml"), rules=str(folder / "rules"))
    app = create_app(service=Service(config), workbench=folder, workbench_store=store)
    return TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1")


@pytest.fixture
def bound(folder: Path, store: str) -> Iterator[TestClient]:
    with _client(folder, store) as c:
        yield c


def _policy(c: TestClient) -> dict[str, Any]:
    return next(f for f in c.get("/wb/api/files").json()["files"] if f["name"] == "policies.yaml")


def _without(c: TestClient, text: str, plan: str) -> str:
    edit = {"file": "policies.yaml", "text": text, "edits": [{"path": ["plans", plan], "remove": True}]}
    r = c.post("/wb/api/edit", json=edit)
    assert r.status_code == 200, r.text
    return str(r.json()["text"])


def _dry_run(c: TestClient, text: str, token: str) -> dict[str, Any]:
    r = c.post("/wb/api/save", json={"file": "policies.yaml", "text": text, "token": token, "dry_run": True})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_removing_a_plan_the_bound_store_uses_is_refused_with_how_many_accounts_are_on_it(
    bound: TestClient, folder: Path
) -> None:
    opened = _policy(bound)
    text = _without(bound, opened["text"], "career")
    assert "career" not in text.split("plans:", 1)[1].split("\n\n", 1)[0]
    assert bound.post("/wb/api/check", json={"files": {"policies.yaml": text}}).json()["ok"]

    checks = _dry_run(bound, text, opened["token"])["checks"]
    assert checks["loads"] is True
    assert checks["plans_in_use"] == [
        {
            "plan": "career",
            "store": "store",
            "name": None,  # one store: no need to say which
            "accounts": 4,
            "examples": ["jobseeker-0", "jobseeker-1", "jobseeker-2"],
            "message": "4 accounts of the store are on `career` (jobseeker-0, jobseeker-1, jobseeker-2, …)",
        }
    ]
    # the scenarios on Career no longer load: listed, each at the line naming the plan
    broken = {b["scenario"]: b for b in checks["broken"]}
    first = broken[f"{SCENARIOS}/career-first-quarter.yaml"]
    assert first["code"] == "unknown_plan" and "career" in first["message"]
    lines = (folder / SCENARIOS / "career-first-quarter.yaml").read_text().splitlines()
    assert "career" in lines[first["line"] - 1]

    before = snapshot(folder)
    r = bound.post("/wb/api/save", json={"file": "policies.yaml", "text": text, "token": opened["token"]})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "plan_in_use"
    assert "4 accounts of the store are on `career` (jobseeker-0" in problem["detail"]
    assert snapshot(folder) == before  # nothing written
    assert bound.get("/v1/plans").json()["revision"] == _policy_revision(bound)


def _policy_revision(c: TestClient) -> str:
    return str(c.post("/wb/api/check", json={"files": {}}).json()["revision"])


def test_the_service_accounts_count_too_and_each_store_is_named(bound: TestClient, folder: Path) -> None:
    r = bound.post("/v1/accounts/alice/subscribe", json={"plan": "career", "at": "2026-02-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    opened = _policy(bound)
    text = _without(bound, opened["text"], "career")
    found = _dry_run(bound, text, opened["token"])["checks"]["plans_in_use"]
    assert [(f["store"], f["plan"], f["accounts"], f["examples"]) for f in found] == [
        ("store", "career", 4, ["jobseeker-0", "jobseeker-1", "jobseeker-2"]),
        ("service", "career", 1, ["alice"]),
    ]
    assert found[1]["message"] == "1 account of the workbench's service (`/v1`) is on `career` (alice)"
    # a plan only the service's accounts are on: refused as well, without a store bound
    with _client(folder) as c:
        c.post("/v1/accounts/bo/subscribe", json={"plan": "business", "at": "2026-02-01T00:00:00Z"})
        opened = _policy(c)
        text = _without(c, opened["text"], "business")
        before = snapshot(folder)
        r = c.post("/wb/api/save", json={"file": "policies.yaml", "text": text, "token": opened["token"]})
        assert r.json()["code"] == "plan_in_use", r.text
        assert "is on `business` (bo)" in r.json()["detail"]
        assert snapshot(folder) == before
        # a plan nobody is on may go
        text = _without(c, opened["text"], "recruiter_lite")
        assert _dry_run(c, text, opened["token"])["checks"]["plans_in_use"] == []
        r = c.post("/wb/api/save", json={"file": "policies.yaml", "text": text, "token": opened["token"]})
        assert r.status_code == 200, r.text


def test_undoing_the_save_that_added_a_plan_now_in_use_is_refused(folder: Path) -> None:
    with _client(folder) as c:
        opened = _policy(c)
        team = {"premium": True, "monthly_allotment": 5, "cap": 15, "purchasable": False}
        edit = {
            "file": "policies.yaml",
            "text": opened["text"],
            "edits": [{"path": ["plans", "team"], "value": team}],
        }
        text = c.post("/wb/api/edit", json=edit).json()["text"]
        r = c.post("/wb/api/save", json={"file": "policies.yaml", "text": text, "token": opened["token"]})
        assert r.status_code == 200, r.text
        assert (
            c.post(
                "/v1/accounts/tia/subscribe", json={"plan": "team", "at": "2026-02-01T00:00:00Z"}
            ).status_code
            == 200
        )
        before = snapshot(folder)
        r = c.post("/wb/api/undo", json={"file": "policies.yaml"})
        assert r.json()["code"] == "plan_in_use" and "`team` (tia)" in r.json()["detail"], r.text
        assert snapshot(folder) == before


def test_new_business_numbers_list_the_expectations_that_assume_the_old_ones(
    bound: TestClient, folder: Path
) -> None:
    opened = _policy(bound)
    text = _business(opened["text"])
    checks = _dry_run(bound, text, opened["token"])["checks"]
    assert checks["loads"] and checks["plans_in_use"] == [] and checks["broken"] == []
    assert checks["scenarios"] == len(list((folder / SCENARIOS).glob("*.yaml")))
    assert checks["features"] == len(list((folder / "features").glob("*.feature"))) > 0
    changed = checks["expectations"]
    compared = f"{SCENARIOS}/plans-compared.yaml"
    lines = (folder / compared).read_text().splitlines()
    bill = [(x["line"], x["expected"], x["now"]) for x in changed if x["scenario"] == compared]
    first = next(i for i, line in enumerate(lines, 1) if "bill: 15," in line)
    assert bill[0] == (first, 15, 20)
    assert [(e, n) for _, e, n in bill] == [(15, 20), (16, 21), (31, 41), (46, 61), (46, 61), (46, 61)]
    for x in changed:  # each points at its expectation, in words too
        assert x["key"].startswith("balance.") or x["key"] in ("outcome", "reason", "status", "reminded")
        written = (folder / x["scenario"]).read_text().splitlines()
        assert "expect" in written[x["line"] - 1] or str(x["expected"]) in written[x["line"] - 1]
        assert x["text"].startswith(f"expected {x['what']} ")
    assert {x["scenario"] for x in changed} >= {compared, f"{SCENARIOS}/cancel-and-resubscribe.yaml"}
    # listed, not refused: the save goes through, and then nothing differs from the saved file
    r = bound.post("/wb/api/save", json={"file": "policies.yaml", "text": text, "token": opened["token"]})
    assert r.status_code == 200, r.text
    again = _dry_run(bound, text, r.json()["token"])["checks"]
    assert again["expectations"] == [] and again["scenarios"] == 0


def _business(text: str) -> str:
    head, rest = text.split("  business:\n", 1)
    block, tail = rest.split("\n  sales_navigator:", 1)
    for old, new in BUSINESS:
        assert old in block
        block = block.replace(old, new, 1)
    return f"{head}  business:\n{block}\n  sales_navigator:{tail}"


def test_career_numbers_point_at_career_first_quarter(folder: Path) -> None:
    with _client(folder) as c:
        opened = _policy(c)
        text = opened["text"].replace("monthly_allotment: 5 ", "monthly_allotment: 8 ", 1)
        text = text.replace("cap: 15 ", "cap: 24 ", 1)
        changed = _dry_run(c, text, opened["token"])["checks"]["expectations"]
    quarter = [x for x in changed if x["scenario"] == f"{SCENARIOS}/career-first-quarter.yaml"]
    assert quarter, changed
    lines = (folder / SCENARIOS / "career-first-quarter.yaml").read_text().splitlines()
    balances = [x for x in quarter if x["key"] == "balance.alice"]
    assert balances and all(x["what"] == "balance of alice" for x in balances)
    for x in balances:
        assert f"alice: {x['expected']}" in lines[x["line"] - 1] and x["now"] != x["expected"]
        assert x["step_line"] <= x["line"]


def test_a_draft_that_does_not_load_runs_no_scenario_and_a_rules_file_is_checked_too(folder: Path) -> None:
    with _client(folder) as c:
        opened = _policy(c)
        broken = opened["text"].replace("monthly_allotment: 5", "monthly_alotment: 5", 1)
        checks = _dry_run(c, broken, opened["token"])["checks"]
        assert checks == {
            "loads": False,
            "plans_in_use": [],
            "expectations": [],
            "broken": [],
            "scenarios": 0,
            "features": len(list((folder / "features").glob("*.feature"))),
        }
        send = (folder / "rules" / "send.yaml").read_text()
        r = c.post(
            "/wb/api/save",
            json={"file": "rules/send.yaml", "text": send + "\n# a comment\n", "token": "", "dry_run": True},
        )
        assert r.status_code == 200 and r.json()["checks"]["loads"] is True
        assert r.json()["checks"]["expectations"] == []
