"""``calls_paged()``: the whole log a page at a time; ``calls_of()``: some accounts' calls; all stores agree.

A reader of a long log (the partitioner of an impact run on a cluster) reads it this way so that it
never holds the whole log; what it is given must still be the log, call for call and in order, and
a call logged while it reads is not slipped in halfway (the log as it was when the read began).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "memory":
        yield "memory"
    elif request.param == "sqlite":
        yield str(tmp_path / "paged.db")
    else:
        yield request.getfixturevalue("pg_url")


def _fill(eng: Engine) -> None:
    for i in range(4):
        eng.subscribe(f"a{i}", "career", at="2026-01-05")
    eng.connect("a0", "a1", at="2026-01-06")
    for n in range(3):
        eng.send("a0", "a1", at=f"2026-01-{10 + n}")
        eng.send("a2", "a3", at=f"2026-01-{10 + n}")
    eng.send("a3", "a0", at="2026-01-20")
    eng.advance("2026-03-01")  # logged once per account it moved


@pytest.mark.parametrize("page", [1, 3, 10_000])
def test_the_paged_log_is_the_log(db: str, page: int) -> None:
    with Engine.open(db=db) as eng:
        store = eng._store
        assert list(store.calls_paged(page)) == []
        _fill(eng)
        whole = store.calls()
        assert len(whole) > 12 and any(c.method == "advance" for c in whole)
        assert list(store.calls_paged(page)) == whole


def test_a_call_logged_while_the_log_is_read_is_not_in_that_read(db: str) -> None:
    with Engine.open(db=db) as eng:
        _fill(eng)
        store = eng._store
        before = store.calls()
        reading = store.calls_paged(2)
        first = next(reading)
        eng.send("a1", "a2", at="2026-03-02")
        assert [first, *reading] == before
        assert len(store.calls()) == len(before) + 1


@pytest.mark.parametrize("in_list", [2, 500])
def test_the_calls_of_some_accounts_are_theirs_in_log_order(
    db: str, in_list: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a worker reads for its partition: a few names a statement (2 here, to cross statements)."""
    import engine.store._sql_reads as reads

    monkeypatch.setattr(reads, "_IN_LIST", in_list)
    with Engine.open(db=db) as eng:
        _fill(eng)
        store = eng._store
        whole = store.calls()
        for accounts in (["a0"], ["a3", "a1", "a2"], ["a0", "a1", "a2", "a3", "nobody"], []):
            assert store.calls_of(accounts) == [c for c in whole if c.account in accounts]
