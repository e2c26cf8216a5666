"""The SQL store on PostgreSQL, when one is available: ``INMAIL_PG_URL=postgresql://user@host:port/db``.

Each test creates (and drops) its own database on that server, so the URL's
database is only used to connect. Without the variable these tests skip: CI
machines have no PostgreSQL server.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from engine import Engine, InvalidCall
from tests.pg import needs_pg

from .store_worker import race_sends, workload

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("store_worker.py")
pytestmark = needs_pg


def test_postgres_gives_the_same_ledger_as_memory(pg_url: str) -> None:
    calls = workload(600)
    with Engine.open() as ref, Engine.open(db=pg_url) as pg:
        for method, args, kwargs in calls:
            results = []
            for eng in (ref, pg):
                try:
                    results.append(getattr(eng, method)(*args, **kwargs))
                except InvalidCall as exc:
                    results.append(exc.code)
            assert results[0] == results[1]
        for name in ref.accounts():
            assert pg.history(name) == ref.history(name)
            assert pg.balance(name) == ref.balance(name)
        assert pg.reminded() == ref.reminded()
        # retried keys answer the first result
        method, args, kwargs = calls[7]
        assert getattr(pg, method)(*args, **kwargs) == getattr(ref, method)(*args, **kwargs)


def test_postgres_serialises_writers_of_one_account(pg_url: str, tmp_path: Path) -> None:
    with Engine.open(db=pg_url) as eng:
        eng.subscribe("alice", "career", at="2026-01-01")
    barrier = tmp_path / "go"
    results = race_sends(pg_url, barrier)
    assert sorted(r["outcome"] for r in results) == ["denied"] * 3 + ["sent"] * 5


def test_postgres_logs_every_call_and_replays_to_its_ledger(pg_url: str) -> None:
    from engine.impact.replay import replay_store

    calls = workload(200)
    with Engine.open() as ref, Engine.open(db=pg_url) as pg:
        for method, args, kwargs in calls:
            for eng in (ref, pg):
                with contextlib.suppress(InvalidCall):
                    getattr(eng, method)(*args, **kwargs)
        assert [c.to_dict() | {"seq": 0} for c in pg.log()] == [c.to_dict() | {"seq": 0} for c in ref.log()]
        assert pg.log_complete
    report = replay_store(pg_url)
    assert report.same, report.difference
