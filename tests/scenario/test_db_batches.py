"""``simulate --db`` runs once, in batches: few transactions, no commit per step, the in-memory result.

The statements are counted as SQLite runs them (the driver's trace callback
on every connection the pool makes): a row of an ``executemany`` counts once.
Before batches held their calls, this scenario (17 steps) cost 394
statements, 19 write and 28 read transactions, and two runs of the scenario.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine import Engine
from engine.scenario import run as scenario_run
from engine.scenario.load import load_scenario
from engine.source.paths import resolve_policy, resolve_rules

from .conftest import EXAMPLES, Simulate
from .test_plot_and_db import DENIED

MAIN = str(EXAMPLES / "career-first-quarter.yaml")
simulate_cli = importlib.import_module("engine.cli.simulate")  # the module (the package names the command)


@pytest.fixture
def traced() -> Iterator[list[str]]:
    """Every statement SQLite runs on connections made from now on, in order."""
    seen: list[str] = []

    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.set_trace_callback(seen.append)

    sa.event.listen(sa.pool.Pool, "connect", _connect)
    try:
        yield seen
    finally:
        sa.event.remove(sa.pool.Pool, "connect", _connect)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a scenario was run (the rehearsal in memory included)."""
    count = [0]
    real = scenario_run.Runner.run

    def counted(self: scenario_run.Runner, progress: Any = None) -> Any:
        count[0] += 1
        return real(self, progress)

    monkeypatch.setattr(scenario_run.Runner, "run", counted)
    return count


def _shape(statements: list[str]) -> dict[str, int]:
    first = [s.split(None, 1)[0].upper() if s.strip() else "" for s in statements]
    return {
        "statements": len(statements),
        "write": sum(1 for s in statements if s.startswith("BEGIN IMMEDIATE")),
        "read": sum(1 for s in statements if s.strip() == "BEGIN"),
        "commit": first.count("COMMIT"),
        "savepoint": first.count("SAVEPOINT"),
    }


def _ledger(db: str | None, folder: Path) -> dict[str, Any]:
    """Every account's history, the log and the reminders of a store (``None``: a run in memory)."""
    if db is None:
        scenario = load_scenario(MAIN, resolve_policy(None, folder))  # as simulate resolves it there
        eng = Engine.open(policy=scenario.policy, rules=resolve_rules(None, folder))
        scenario_run.Runner(scenario, eng).run()
    else:
        eng = Engine.open(db=db, create=False)
    with eng:
        return {
            "history": {name: eng.history(name) for name in eng.accounts()},
            "log": [c.to_dict() for c in eng.log()],
            "reminded": eng.reminded(),
        }


def test_simulate_db_runs_once_in_one_batch(simulate: Simulate, traced: list[str], runs: list[int]) -> None:
    db = str(simulate.folder / "run.db")
    result = simulate(MAIN, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    shape = _shape(traced)
    assert runs[0] == 1  # no rehearsal in memory first
    # one write transaction makes the store, one holds every call of the run; reads: the open's checks
    assert shape["write"] == 2 and shape["read"] <= 3, shape
    assert shape["commit"] == shape["write"] + shape["read"] and shape["savepoint"] == 0, shape
    assert shape["statements"] < 200, shape  # 394 when every step committed
    del traced[:]
    memory = simulate(MAIN, "--format", "json")
    assert json.loads(memory.stdout) == json.loads(result.stdout)
    assert _ledger(db, simulate.folder) == _ledger(None, simulate.folder)


def test_a_run_longer_than_a_batch_commits_on_the_way_and_ends_the_same(
    simulate: Simulate, monkeypatch: pytest.MonkeyPatch, traced: list[str], runs: list[int]
) -> None:
    """Two calls per batch: the held state is kept or forgotten across many commits, same result."""
    monkeypatch.setattr(simulate_cli, "EVERY", 2)
    db = str(simulate.folder / "run.db")
    result = simulate(MAIN, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert runs[0] == 2  # rehearsed before its first commit, which comes before its last step
    assert _shape(traced)["write"] > 5  # a commit every two calls
    memory = simulate(MAIN, "--format", "json")
    assert json.loads(memory.stdout) == json.loads(result.stdout)
    assert _ledger(db, simulate.folder) == _ledger(None, simulate.folder)


@pytest.mark.parametrize("every", [1000, 2])
def test_a_refused_step_into_a_new_file_leaves_no_database(
    simulate: Simulate, monkeypatch: pytest.MonkeyPatch, runs: list[int], every: int
) -> None:
    """Within one batch the refusal rolls it back; a longer run is rehearsed before its first commit;
    either way the file the run made is removed again."""
    monkeypatch.setattr(simulate_cli, "EVERY", every)
    simulate.write("denied.yaml", DENIED)
    result = simulate("denied.yaml", "--db", "run.db")
    assert result.exit_code == 2 and "denied.yaml:8:5: unknown_message:" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert runs[0] == (1 if every == 1000 else 2)
    assert sorted(p.name for p in simulate.folder.iterdir()) == ["denied.yaml"]


def test_a_refused_step_into_an_empty_store_runs_once_and_leaves_it_empty(
    simulate: Simulate, runs: list[int]
) -> None:
    simulate.write("denied.yaml", DENIED)
    db = str(simulate.folder / "run.db")
    Engine.open(db=db).close()
    result = simulate("denied.yaml", "--db", db)
    assert result.exit_code == 2 and "unknown_message" in result.stderr
    assert runs[0] == 1
    with Engine.open(db=db, create=False) as eng:
        assert eng.accounts() == [] and eng.log() == []


def test_a_database_without_a_store_is_rehearsed_first(simulate: Simulate, runs: list[int]) -> None:
    """An empty file (no store yet, and not this run's to remove): as before batches, the refusal
    comes from the rehearsal in memory, and the file is not touched."""
    simulate.write("denied.yaml", DENIED)
    empty = simulate.folder / "empty.db"
    empty.write_bytes(b"")
    result = simulate("denied.yaml", "--db", str(empty))
    assert result.exit_code == 2 and "unknown_message" in result.stderr
    assert runs[0] == 1 and empty.read_bytes() == b""
