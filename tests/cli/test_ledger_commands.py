"""`inmail balance` and `inmail history` read a store that `inmail simulate --db` left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "scenarios" / "career-first-quarter.yaml"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("run") / "run.db")
    result = CliRunner().invoke(main, ["simulate", str(SCENARIO), "--db", db])
    assert result.exit_code == 0, result.output
    return db


def test_history_lists_every_entry_with_its_rule(store: str) -> None:
    result = CliRunner().invoke(main, ["history", "alice", "--db", store, "--format", "json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert entries[0] == {
        **entries[0],
        "kind": "grant",
        "amount": 5,
        "balance_after": 5,
        "rule": "monthly-allotment",
    }
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert all(e["rule"] and e["requirements"] for e in entries)
    # the hand-computed end of the scenario: 15 credits, capped
    assert entries[-1]["balance_after"] == 15


def test_balance_at_a_past_instant_shows_the_lots(store: str) -> None:
    result = CliRunner().invoke(
        main, ["balance", "alice", "--db", store, "--at", "2026-02-01", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    b = json.loads(result.stdout)
    assert b["credits"] == 4 == sum(lot["remaining"] for lot in b["lots"])
    table = CliRunner().invoke(main, ["balance", "alice", "--db", store])
    assert table.exit_code == 0 and "15 credits" in table.stdout


def test_unknown_account_and_missing_store_are_exit_2(store: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["history", "zed", "--db", store])
    assert result.exit_code == 2 and "unknown_account" in result.stderr
    missing = tmp_path / "nothere.db"
    result = CliRunner().invoke(main, ["balance", "alice", "--db", str(missing)])
    assert result.exit_code == 2 and "store_not_found" in result.stderr
    assert not missing.exists()


def test_log_lists_every_decided_call_and_only_reads(store: str) -> None:
    before = Path(store).read_bytes()
    result = CliRunner().invoke(main, ["log", "--db", store, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    calls = [json.loads(line) for line in result.stdout.splitlines()]
    assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    assert calls[0]["method"] == "subscribe" and calls[0]["args"]["account"] == "alice"
    assert {c["outcome"] for c in calls} >= {"sent", "denied", "credited_back"}
    only = CliRunner().invoke(main, ["log", "--db", store, "--format", "jsonl", "--since", "2026-01-20"])
    assert all(json.loads(line)["at"] >= "2026-01-20" for line in only.stdout.splitlines())
    table = CliRunner().invoke(main, ["log", "--db", store])
    assert table.exit_code == 0 and "event log" in table.stdout
    assert Path(store).read_bytes() == before


def test_log_as_a_scenario_runs_and_passes_and_notices_an_edit(tmp_path: Path) -> None:
    db = str(tmp_path / "run.db")
    source = ROOT / "examples" / "scenarios" / "buying-credits.yaml"
    assert CliRunner().invoke(main, ["simulate", str(source), "--db", db]).exit_code == 0
    exported = CliRunner().invoke(main, ["log", "--db", db, "--format", "scenario"])
    assert exported.exit_code == 0, exported.output
    path = tmp_path / "history.yaml"
    path.write_text(exported.stdout, encoding="utf-8")
    run = CliRunner().invoke(main, ["simulate", str(path)])
    assert run.exit_code == 0, run.stdout
    assert "expectations passed, 0 failed" in run.stdout
    policy = tmp_path / "policies.yaml"
    policy.write_text(
        (ROOT / "policies.yaml")
        .read_text(encoding="utf-8")
        .replace("monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10"),
        encoding="utf-8",
    )
    edited = CliRunner().invoke(main, ["simulate", str(path), "--policy", str(policy)])
    assert edited.exit_code == 1 and "expectation_failed" in edited.stdout


def test_the_cli_and_the_service_show_one_shape_of_entry_and_balance(store: str) -> None:
    """One JSON form per record, whichever door: ``inmail history|balance --format json`` and HTTP."""
    from fastapi.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.state import Service, ServiceConfig

    at = "2026-04-01"
    cli_history = json.loads(
        CliRunner().invoke(main, ["history", "alice", "--db", store, "--format", "json"]).stdout
    )
    cli_balance = json.loads(
        CliRunner().invoke(main, ["balance", "alice", "--db", store, "--at", at, "--format", "json"]).stdout
    )
    service = Service(ServiceConfig(db=store))
    with TestClient(create_app(service=service), base_url="http://127.0.0.1") as c:
        http_history = c.get("/v1/accounts/alice/history").json()
        http_balance = c.get("/v1/accounts/alice/balance", params={"at": at}).json()
    assert http_history == {"account": "alice", "entries": cli_history}
    assert http_balance == cli_balance and cli_balance["lots"]
