"""The SQL store on PostgreSQL, when one is available: ``INMAIL_PG_URL=postgresql://user@host:port/db``.

Each test creates (and drops) its own database on that server, so the URL's
database is only used to connect. Without the variable these tests skip: CI
machines have no PostgreSQL server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine import Engine, InvalidCall, StoreUnavailable
from engine.ledger.state import MsgRec
from engine.store._sql_exec import PgExec
from engine.store.sql import SqlStore
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


def test_a_send_on_postgres_is_five_round_trips(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reads of a call go in pipelines and its writes wait for the next read or the commit
    (engine.store._sql_exec.PgExec): a send was fifteen round trips before, and each costs about
    a tenth of a millisecond on loopback. Counted here so that a change that adds one is seen."""
    with Engine.open(db=pg_url) as eng:
        eng.subscribe("alice", "career", at="2026-01-01")
        trips: list[str] = []
        for name in ("gather", "commit", "rollback"):
            real = getattr(PgExec, name)

            def counted(self: PgExec, *args: Any, _real: Any = real, _name: str = name) -> Any:
                trips.append(_name)
                return _real(self, *args)

            monkeypatch.setattr(PgExec, name, counted)
        sent = eng.send("alice", "bob", at="2026-01-02")
        assert sent.outcome == "sent"
        assert len(trips) == 5, trips
        trips.clear()
        assert eng.send("alice", "bob", at="2026-01-03").outcome == "denied"  # awaiting a response
        assert len(trips) == 5, trips


def test_a_write_that_fails_when_it_is_sent_fails_its_whole_call(pg_url: str) -> None:
    """A write waits for the commit, so the database refuses it there: still the call's error, a
    store_conflict, and nothing of the call is kept (the message written before it neither)."""
    store = SqlStore(pg_url)
    try:
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        with pytest.raises(StoreUnavailable) as err, store.unit() as u:
            u.add_message(MsgRec("m2", 1, "alice", "bob", "inmail", at))
            u.add_message(MsgRec("m1", 2, "alice", "bob", "inmail", at))
            u.add_message(MsgRec("m1", 3, "alice", "bob", "inmail", at))  # the same id again
        assert err.value.code == "store_conflict"
        with store.unit(write=False) as u:
            assert not u.message_exists("m1") and not u.message_exists("m2")
        with store.unit() as u:  # the thread's connection is usable again
            u.add_message(MsgRec("m1", 1, "alice", "bob", "inmail", at))
        with store.unit(write=False) as u:
            assert u.message_exists("m1")
    finally:
        store.close()


def test_a_connection_the_server_dropped_is_replaced(pg_url: str) -> None:
    """Each thread keeps its own connection for its calls; if the server ends it, the call in
    flight fails as store_unavailable (nothing written) and the next one gets a new connection.
    (Ended between calls, it is found gone before use: tests/store/test_store_identity.py.)"""
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with Engine.open(db=pg_url) as eng:
            eng.subscribe("alice", "career", at="2026-01-01")

            def end_backend(_decision: object, _facts: object) -> None:  # inside the call's transaction
                with admin.connect() as c:
                    c.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )

            eng.observe(end_backend)
            with pytest.raises(StoreUnavailable) as err:
                eng.send("alice", "bob", at="2026-01-02")
            eng.observe(None)
            assert err.value.code == "store_unavailable"
            assert eng.send("alice", "bob", at="2026-01-02").outcome == "sent"
            assert [e.kind for e in eng.history("alice")].count("consume") == 1
    finally:
        admin.dispose()
