"""``Engine.batch()``: many calls per transaction, each call still all or nothing, reads see them all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, InvalidCall

from .store_worker import workload

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "batch.db")
    else:
        yield request.getfixturevalue("pg_url")


def _play(eng: Engine, calls: list[tuple[str, tuple[object, ...], dict[str, object]]]) -> list[object]:
    out: list[object] = []
    for method, args, kwargs in calls:
        try:
            out.append(getattr(eng, method)(*args, **kwargs))
        except InvalidCall as exc:
            out.append(exc.code)
    return out


def test_a_batched_replay_gives_the_ledger_and_log_of_one_transaction_per_call(db: str) -> None:
    calls = workload(400)
    with Engine.open() as ref:
        expected = _play(ref, calls)
        with Engine.open(db=db) as eng:
            with eng.batch(every=7) as b:
                got = _play(eng, calls)
            assert got == expected  # refused calls included: each refused alone, the rest stand
            assert b.committed == sum(1 for r in expected if not isinstance(r, str)) and b.pending == 0
            for name in ref.accounts():
                assert eng.history(name) == ref.history(name)
            assert [c.to_dict() for c in eng.log()] == [c.to_dict() for c in ref.log()]


def test_a_batch_commits_every_n_calls_and_a_failed_block_loses_only_the_uncommitted(db: str) -> None:
    with Engine.open(db=db) as eng, Engine.open(db=db, create=False) as other:
        eng.subscribe("alice", "career", at=T0)
        with pytest.raises(RuntimeError), eng.batch(every=3) as b:
            for i in range(5):
                eng.send("alice", f"r{i}", at=T0 + dt.timedelta(hours=i), message_id=f"m{i}")
            assert (b.committed, b.pending) == (3, 2)
            raise RuntimeError("the bulk job fails")
        # another connection sees the committed three, and no trace of the other two
        assert [c.args["message_id"] for c in other.log() if c.method == "send"] == ["m0", "m1", "m2"]
        assert eng.balance("alice").credits == 2 == other.balance("alice").credits
        eng.send("alice", "r3", at=T0 + dt.timedelta(hours=3), message_id="m3")  # the job goes on
        assert eng.balance("alice").credits == 1


def test_reads_inside_a_batch_see_every_call_made_before_them(db: str) -> None:
    with Engine.open(db=db) as eng:
        with eng.batch(every=100) as b:
            eng.subscribe("bob", "business", at=T0)
            eng.send("bob", "carol", at=T0 + dt.timedelta(minutes=1), message_id="x1")
            assert eng.balance("bob").credits == 14  # a read unit inside the batch
            assert [e.kind for e in eng.history("bob")] == ["grant", "consume"]  # a read outside a call
            assert eng.accounts() == ["bob"] and [c.method for c in eng.log()] == ["subscribe", "send"]
            assert eng.advance(T0 + dt.timedelta(days=1)) == []  # nothing due: the batch's own answer
            assert b.pending == 2 and b.committed == 0  # ... none of which committed the batch
            with pytest.raises(InvalidCall) as refused:
                eng.send("bob", "carol", at=T0 + dt.timedelta(minutes=2), message_id="x1")
            assert refused.value.code == "message_exists"
            with eng.batch(every=5) as inner:  # a batch inside a batch joins it
                assert inner is b
                eng.purchase("bob", 5, at=T0 + dt.timedelta(minutes=3))
            assert b.pending == 3
        assert b.committed == 3 and eng.balance("bob").credits == 19


def test_the_memory_store_applies_each_call_at_once() -> None:
    with Engine.open() as eng, eng.batch(every=2) as b:
        eng.subscribe("ann", "career", at=T0)
        with pytest.raises(InvalidCall):
            eng.send("ann", "ann", at=T0)
        eng.send("ann", "bea", at=T0)
        assert (b.committed, b.pending) == (2, 0)
        assert eng.balance("ann").credits == 4


@pytest.mark.parametrize("every", [0, -1, 1.5, "10", True, 10**7])
def test_a_batch_size_that_is_not_a_count_is_refused(every: object) -> None:
    with Engine.open() as eng, pytest.raises(InvalidCall) as exc:
        eng.batch(every)  # type: ignore[arg-type]
    assert exc.value.code == "invalid_argument"


def test_a_batch_forgets_what_it_held_when_another_connection_wrote_between_its_commits(
    tmp_path: Path,
) -> None:
    """SQLite: between two transactions of a batch the write lock is free; ``PRAGMA data_version``
    tells the batch that another connection used it, and the accounts it held are read again."""
    db = str(tmp_path / "held.db")
    with Engine.open(db=db) as eng, Engine.open(db=db, create=False) as other:
        with eng.batch(every=1) as b:
            eng.subscribe("ann", "career", at=T0)  # committed: the lock is let go
            assert other.send("ann", "x", at=T0 + dt.timedelta(hours=1)).balance == 4
            assert eng.send("ann", "y", at=T0 + dt.timedelta(hours=2)).balance == 3
            eng.send("ann", "z", at=T0 + dt.timedelta(hours=3))  # no one else wrote: held, not read
        assert b.committed == 3
        assert [e.balance_after for e in other.history("ann")] == [5, 4, 3, 2]


@pytest.mark.parametrize(("accounts", "messages"), [(2, 10**9), (10**9, 3)])
def test_a_batch_that_forgets_what_it_held_at_its_commits_gives_the_same_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, accounts: int, messages: int
) -> None:
    """Past its bounds a SQLite batch forgets its accounts, or its messages, at a commit (a long bulk
    job's memory stays bounded) and reads them again: the ledger and log do not change."""
    from engine.store._sql_batch import SqliteBatch

    monkeypatch.setattr(SqliteBatch, "KEEP", accounts)
    monkeypatch.setattr(SqliteBatch, "KEEP_MESSAGES", messages)
    calls = workload(400)
    with Engine.open() as ref, Engine.open(db=str(tmp_path / "forget.db")) as eng:
        expected = _play(ref, calls)
        with eng.batch(every=5):
            assert _play(eng, calls) == expected
        for name in ref.accounts():
            assert eng.history(name) == ref.history(name)
        assert [c.to_dict() for c in eng.log()] == [c.to_dict() for c in ref.log()]
        assert eng.reminded() == ref.reminded()
