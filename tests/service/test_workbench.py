"""The workbench's routes (TestClient): drafts, saving safely, trying, running, comparing."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.service.app import create_app
from engine.service.state import Service, ServiceConfig

from .folders import policy_folder, snapshot, workbench_client

ROOT = Path(__file__).resolve().parents[2]
TYPO = ("monthly_allotment: 5", "monthly_alotment: 5")
EIGHT = ("monthly_allotment: 5", "monthly_allotment: 8")


def _client(folder: Path) -> TestClient:
    return workbench_client(folder)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return policy_folder(tmp_path, features=False)


@pytest.fixture
def wb(folder: Path) -> TestClient:
    with _client(folder) as c:
        yield c


def _policy(c: TestClient) -> dict[str, Any]:
    return next(f for f in c.get("/wb/api/files").json()["files"] if f["name"] == "policies.yaml")


def test_the_page_and_its_assets_are_served_from_the_package(wb: TestClient) -> None:
    page = wb.get("/")
    assert page.status_code == 200 and "inmail workbench" in page.text
    for asset in ("wb/main.js", "workbench.css"):
        assert wb.get(f"/wb/static/{asset}").status_code == 200
    assert "http" not in page.text.replace("http://www.w3.org", "")  # nothing from another host


def test_files_lists_the_policy_and_every_rules_file(wb: TestClient) -> None:
    names = [f["name"] for f in wb.get("/wb/api/files").json()["files"]]
    assert names[0] == "policies.yaml" and "rules/send.yaml" in names and len(names) == 12


def test_a_typo_in_the_draft_is_a_diagnostic_with_its_line_and_a_suggestion(wb: TestClient) -> None:
    text = _policy(wb)["text"]
    r = wb.post("/wb/api/check", json={"files": {"policies.yaml": text.replace(*TYPO, 1)}}).json()
    assert not r["ok"] and r["plans"] is None
    d = r["diagnostics"][0]
    assert (d["file"], d["code"]) == ("policies.yaml", "unknown_key") and d["line"] == 68
    assert "monthly_allotment" in d["help"]
    fixed = wb.post("/wb/api/check", json={"files": {"policies.yaml": text.replace(*EIGHT, 1)}}).json()
    assert fixed["ok"] and fixed["plans"][1]["monthly_allotment"] == 8
    assert fixed["saved_plans"][1]["monthly_allotment"] == 5


def test_a_rules_typo_names_the_rules_file_not_the_drafts_copy(wb: TestClient) -> None:
    text = next(f for f in wb.get("/wb/api/files").json()["files"] if f["name"] == "rules/send.yaml")["text"]
    typo = text.replace("sender.balance", "sender.balanse", 1)
    r = wb.post("/wb/api/check", json={"files": {"rules/send.yaml": typo}})
    d = r.json()["diagnostics"][0]
    assert d["file"] == "rules/send.yaml" and d["line"] > 0 and "sender.balance" in (d["help"] or "")


@pytest.mark.parametrize("name", ["policies.yaml", "rules/respond.yaml"])
def test_a_save_never_writes_through_a_link_left_in_the_folder(
    wb: TestClient, folder: Path, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "victim.txt"
    outside.write_text("not yours\n")
    target = folder / name
    planted = [
        target.with_name(f".{target.name}.inmail-tmp"),
        target.with_name(f"{target.name}.tmp"),
        target.with_name(f".{target.name}.swp"),
    ]
    for link in planted:  # the names a save used to take, and the usual ones
        link.symlink_to(outside)
    opened = next(f for f in wb.get("/wb/api/files").json()["files"] if f["name"] == name)
    text = opened["text"] + "\n# edited\n"
    saved = wb.post("/wb/api/save", json={"file": name, "text": text, "token": opened["token"]})
    assert saved.status_code == 200, saved.text
    assert outside.read_text() == "not yours\n"
    assert target.read_text() == text and not target.is_symlink()
    assert all(link.is_symlink() for link in planted)  # left as they were: not ours to remove
    assert not [p for p in target.parent.glob(".*inmail-tmp") if not p.is_symlink()]


def test_save_shows_the_diff_writes_a_valid_file_and_can_be_undone(wb: TestClient, folder: Path) -> None:
    before = (folder / "policies.yaml").read_text()
    opened = _policy(wb)
    draft = opened["text"].replace(*EIGHT, 1)
    diff = wb.post(
        "/wb/api/save",
        json={"file": "policies.yaml", "text": draft, "token": opened["token"], "dry_run": True},
    ).json()["diff"]
    assert "-    monthly_allotment: 5" in diff and "+    monthly_allotment: 8" in diff
    assert (folder / "policies.yaml").read_text() == before  # a dry run writes nothing
    saved = wb.post("/wb/api/save", json={"file": "policies.yaml", "text": draft, "token": opened["token"]})
    assert saved.status_code == 200 and (folder / "policies.yaml").read_text() == draft
    assert wb.get("/v1/plans").json()["plans"][1]["monthly_allotment"] == 8  # the service follows
    assert not list(folder.glob(".*inmail-tmp"))
    undone = wb.post("/wb/api/undo", json={"file": "policies.yaml"})
    assert undone.status_code == 200 and (folder / "policies.yaml").read_text() == before
    assert wb.post("/wb/api/undo", json={"file": "policies.yaml"}).json()["code"] == "nothing_to_undo"


def test_an_invalid_save_leaves_the_folder_byte_for_byte_unchanged(wb: TestClient, folder: Path) -> None:
    before = snapshot(folder)
    opened = _policy(wb)
    r = wb.post(
        "/wb/api/save",
        json={"file": "policies.yaml", "text": opened["text"].replace(*TYPO, 1), "token": opened["token"]},
    )
    assert r.status_code == 422 and r.json()["diagnostics"][0]["code"] == "unknown_key"
    cap = opened["text"].replace("cap: 15", "cap: 1", 1)  # below the allotment: refused by the loader
    assert (
        wb.post(
            "/wb/api/save", json={"file": "policies.yaml", "text": cap, "token": opened["token"]}
        ).status_code
        == 422
    )
    assert snapshot(folder) == before


def test_a_file_changed_on_disk_since_it_was_opened_is_not_overwritten(wb: TestClient, folder: Path) -> None:
    opened = _policy(wb)
    (folder / "policies.yaml").write_text(opened["text"] + "\n# edited elsewhere\n")
    r = wb.post(
        "/wb/api/save",
        json={"file": "policies.yaml", "text": opened["text"].replace(*EIGHT, 1), "token": opened["token"]},
    )
    assert (r.status_code, r.json()["code"]) == (409, "changed_on_disk")
    assert (folder / "policies.yaml").read_text().endswith("# edited elsewhere\n")


@pytest.mark.parametrize(
    "name",
    [
        "../policies.yaml",
        "/etc/passwd",
        "rules/../../x.yaml",
        "rules/a/b.yaml",
        "rules/.hidden.yaml",
        "policies.yml",
        "rules/send.yaml\x00",
        "README.md",
        "rules/%2e%2e.yaml",
        "",
    ],
)
def test_save_writes_only_the_folders_policy_and_rules(folder: Path, name: str) -> None:
    """Nothing is written in the workbench's folder or beside it: the folder is a subfolder, so its
    parent is this test's own (the session's temporary root, every earlier test's files, took most
    of a second to hash)."""
    inner = folder / "workbench"
    inner.mkdir()
    for part in ("policies.yaml", "rules"):
        (folder / part).rename(inner / part)
    before = snapshot(folder)
    with _client(inner) as wb:
        r = wb.post("/wb/api/save", json={"file": name, "text": "plans: {}\n", "token": ""})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_file")
        r = wb.post("/wb/api/check", json={"files": {name: "x"}})
        assert r.json()["code"] == "invalid_file"
    assert snapshot(folder) == before


def test_concurrent_saves_of_one_file_write_one_and_refuse_the_other(folder: Path) -> None:
    with _client(folder) as c:
        opened = _policy(c)
        results: list[int] = []

        def save(n: int) -> None:
            text = opened["text"].replace("monthly_allotment: 5", f"monthly_allotment: {6 + n}", 1)
            results.append(
                c.post(
                    "/wb/api/save", json={"file": "policies.yaml", "text": text, "token": opened["token"]}
                ).status_code
            )

        threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == [200, 409, 409, 409]
    assert "monthly_allotment: 5" not in (folder / "policies.yaml").read_text()


def test_a_folder_without_its_own_rules_gets_all_of_them_on_the_first_rules_save(tmp_path: Path) -> None:
    with _client(tmp_path) as c:
        files = c.get("/wb/api/files").json()["files"]
        assert all(f["packaged"] for f in files)
        send = next(f for f in files if f["name"] == "rules/send.yaml")
        r = c.post(
            "/wb/api/save",
            json={"file": "rules/send.yaml", "text": send["text"] + "\n", "token": send["token"]},
        )
        assert r.status_code == 200
    assert len(list((tmp_path / "rules").glob("*.yaml"))) == 11 and not (tmp_path / "policies.yaml").exists()


def test_try_a_decision_on_the_draft(wb: TestClient) -> None:
    text = _policy(wb)["text"].replace("purchasable: true           # R17", "purchasable: false", 1)
    r = wb.post(
        "/wb/api/decide",
        json={
            "files": {"policies.yaml": text},
            "event": "send",
            "facts": {"sender.balance": 0, "plan.purchasable": False},
        },
    ).json()
    assert (r["outcome"], r["reason"], r["file"]) == ("denied", "no_credits", "rules/send.yaml")
    assert "sender.balance" in r["read"] and r["description"]
    catalog = wb.get("/wb/api/catalog").json()["events"]["send"]
    plan = next(f for f in catalog if f["name"] == "sender.plan")
    assert "career" in plan["choices"] and plan["default"] == "career"


def test_run_a_scenario_on_the_draft_and_see_what_changed(wb: TestClient) -> None:
    scenario = (ROOT / "examples" / "scenarios" / "career-first-quarter.yaml").read_text()
    saved = wb.post("/wb/api/run", json={"scenario": scenario}).json()
    assert saved["ok"] and saved["result"]["expectations"]["failed"] == 0 and saved["ledger"]["alice"]
    lots = saved["lots"]["alice"]
    assert lots[0]["kind"] == "grant" and lots[0]["from"] < lots[0]["to"]
    assert {lot["end"] for lot in lots} <= {"live", "expire", "consume", "forfeit_cap", "forfeit_cancel"}
    text = _policy(wb)["text"].replace(*EIGHT, 1)
    draft = wb.post("/wb/api/run", json={"files": {"policies.yaml": text}, "scenario": scenario}).json()
    assert draft["result"]["expectations"]["failed"] > 0
    assert "expected balance of alice" in draft["failures"][0]["text"]
    broken = wb.post("/wb/api/run", json={"scenario": "title: x\ntimeline: 3\n"}).json()
    assert not broken["ok"] and broken["diagnostics"][0]["file"] == "scenario.yaml"


def test_impact_of_the_draft_over_the_folders_scenarios(wb: TestClient) -> None:
    names = [s["name"] for s in wb.get("/wb/api/scenarios").json()["scenarios"]]
    assert "examples/scenarios/career-first-quarter.yaml" in names
    text = _policy(wb)["text"].replace(*EIGHT, 1)
    r = wb.post("/wb/api/impact", json={"files": {"policies.yaml": text}, "scenarios": names}).json()
    assert "basic-and-connections/ben" in r["accounts"], list(r["accounts"])
    assert r["base"]["revision"] != r["new"]["revision"]
    bad = wb.post("/wb/api/impact", json={"scenarios": ["../secret.yaml"]})
    assert (bad.status_code, bad.json()["code"]) == (404, "unknown_scenario")


def test_spec_maps_every_requirement_the_rules_cite(wb: TestClient) -> None:
    reqs = wb.get("/wb/api/spec").json()["requirements"]
    assert "R14" in reqs and any(r["rule"] == "late-response" for r in reqs["R14"]["rules"])


def test_the_command_refuses_a_folder_that_is_not_there(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "workbench", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "file_not_found" in proc.stderr and "Traceback" not in proc.stderr


def test_spec_follows_each_requirement_to_its_feature_scenarios_and_rules(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "features", tmp_path / "features")
    with _client(tmp_path) as c:
        r14 = c.get("/wb/api/spec").json()["requirements"]["R14"]
    assert r14["title"] and r14["scenarios"] and r14["rules"]
    assert all(s["feature"].endswith(".feature") and s["line"] > 0 for s in r14["scenarios"])


def test_impact_over_the_history_of_a_store_given_at_start(folder: Path, tmp_path: Path) -> None:
    from engine import Engine

    db = str(tmp_path / "history.db")
    with Engine.open(db=db) as eng:
        eng.subscribe("zoe", "career", at="2026-01-01")
        eng.advance("2026-04-01")
    config = ServiceConfig(db="memory", policy=str(folder / "policies.yaml"), rules=str(folder / "rules"))
    with TestClient(
        create_app(service=Service(config), workbench=folder, workbench_store=db), base_url="http://127.0.0.1"
    ) as c:
        assert c.get("/wb/api/files").json()["store"] is True
        text = _policy(c)["text"].replace(*EIGHT, 1).replace("cap: 15", "cap: 24", 1)
        r = c.post("/wb/api/impact", json={"files": {"policies.yaml": text}, "store": True}).json()
        zoe = r["accounts"]["zoe"]
        assert (zoe["base"], zoe["new"], zoe["changed"]) == (15, 24, ["ledger", "balance"]), r
        assert zoe["first_divergence"]["text"] == "1 Jan 2026: a renewal's grant is 8 credits, was 5"
    with _client(folder) as c:
        assert c.post("/wb/api/impact", json={"store": True}).json()["code"] == "no_store"


def test_a_folder_whose_files_do_not_load_opens_to_be_fixed(folder: Path) -> None:
    import httpx

    from .server import workbench

    text = (folder / "policies.yaml").read_text()
    (folder / "policies.yaml").write_text(text.replace(*TYPO, 1))
    with workbench(folder) as base:
        check = httpx.post(base + "/wb/api/check", json={"files": {}}).json()
        assert check["diagnostics"][0]["code"] == "unknown_key" and check["saved_plans"] is None
        opened = httpx.get(base + "/wb/api/files").json()["files"][0]
        saved = httpx.post(
            base + "/wb/api/save", json={"file": "policies.yaml", "text": text, "token": opened["token"]}
        )
        assert saved.status_code == 200
        assert httpx.get(base + "/v1/plans").json()["revision"] == saved.json()["revision"]


def test_several_stores_each_replayed_on_demand_and_all_counted_before_a_save(
    folder: Path, tmp_path: Path
) -> None:
    from engine import Engine
    from engine.service.stores import bind, shown

    dbs = [str(tmp_path / "eu.db"), str(tmp_path / "us.db")]
    for db, who in zip(dbs, ("zoe", "yan"), strict=True):
        with Engine.open(db=db) as eng:
            eng.subscribe(who, "career", at="2026-01-01")
            eng.advance("2026-03-01")
    config = ServiceConfig(db="memory", policy=str(folder / "policies.yaml"), rules=str(folder / "rules"))
    app = create_app(service=Service(config), workbench=folder, workbench_store=dbs)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.get("/wb/api/files").json()["stores"] == dbs
        text = _policy(c)["text"].replace(*EIGHT, 1)
        for i, who in enumerate(("zoe", "yan")):
            r = c.post(
                "/wb/api/impact", json={"files": {"policies.yaml": text}, "store": True, "db": i}
            ).json()
            assert list(r["accounts"]) == [who], r
        r = c.post("/wb/api/impact", json={"files": {"policies.yaml": text}, "store": True, "db": 2})
        assert (r.status_code, r.json()["code"]) == (409, "no_store")
        # removing career is refused, naming each store whose accounts are on it
        no_career = _policy(c)["text"]
        no_career = no_career.replace(
            no_career[no_career.index("  career:") : no_career.index("  business:")], ""
        )
        checks = c.post(
            "/wb/api/save",
            json={"file": "policies.yaml", "text": no_career, "token": _policy(c)["token"], "dry_run": True},
        ).json()["checks"]
        said = [p["message"] for p in checks["plans_in_use"]]
        assert said == [
            f"1 account of the store `{dbs[0]}` is on `career` (zoe)",
            f"1 account of the store `{dbs[1]}` is on `career` (yan)",
        ]
    assert bind(["a.db", "a.db", "b.db"]) == bind(["a.db", "b.db"])
    assert shown("postgresql+psycopg://inmail:s3cret@db.internal:5432/credits") == (
        "postgresql+psycopg://inmail:***@db.internal:5432/credits"
    )
    assert "s3cret" not in str(bind("postgresql://u:s3cret@h/d")[0].label)
