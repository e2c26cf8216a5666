"""The in-memory store's due queue: stale entries are dropped, and no account stops coming due.

Each save that moves an account's next due instant pushes a new entry and leaves the old one
behind; the store rebuilds the queue from the instants it has queued once the stale entries
are half of it, and only after a unit commits: a unit taken back restores due instants whose
entries a rebuild inside it would have dropped.
"""

from __future__ import annotations

import datetime as dt

import pytest

from engine.ledger.state import AccountState
from engine.store import memory
from engine.store.memory import MemoryStore

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NAMES = ("ana", "ben", "cai")


def _store() -> MemoryStore:
    store = MemoryStore()
    with store.unit() as unit:
        for name in NAMES:
            unit.new_account(AccountState(name, "business", "valid", T0, T0))
    return store


def _move(store: MemoryStore, name: str, due: dt.datetime | None) -> None:
    with store.unit() as unit:
        acct = unit.account(name)
        assert acct is not None
        acct.next_due = due
        unit.save(acct)


def _due_by(store: MemoryStore) -> dict[dt.datetime, list[str]]:
    """Which accounts ``due_accounts`` names at each instant of interest, asked the way a replay asks."""
    return {at: store.due_accounts(at) for at in (T0, T0 + dt.timedelta(days=5), T0 + dt.timedelta(days=50))}


def test_the_queue_stays_bounded_while_accounts_move_their_due_instant_back_and_forth() -> None:
    store = _store()
    rounds = 3 * memory._DUE_SLACK
    for i in range(rounds):
        for name in NAMES:  # a reminder set far ahead, then cancelled: the entry it pushed goes stale
            _move(store, name, T0 + dt.timedelta(days=30 + i % 7))
            _move(store, name, T0 + dt.timedelta(days=40))
        assert len(store._due) <= 2 * len(NAMES) + memory._DUE_SLACK + 1
    _move(store, "ben", T0 + dt.timedelta(days=3))
    _move(store, "cai", None)  # nothing due: not queued at all
    assert _due_by(store) == {
        T0: [],
        T0 + dt.timedelta(days=5): ["ben"],
        T0 + dt.timedelta(days=50): ["ana", "ben"],
    }


def test_a_unit_taken_back_keeps_the_due_instant_it_restores_even_across_a_rebuild() -> None:
    store = _store()
    for name in NAMES:
        _move(store, name, T0 + dt.timedelta(days=2))
    # fill the queue with stale entries up to just under the rebuild
    while len(store._due) < 2 * len(NAMES) + memory._DUE_SLACK - 1:
        _move(store, "ana", T0 + dt.timedelta(days=60))
        _move(store, "ana", T0 + dt.timedelta(days=2))
    with pytest.raises(RuntimeError), store.unit() as unit:  # pushes past the rebuild, then fails
        for name in NAMES:
            acct = unit.account(name)
            assert acct is not None
            acct.next_due = T0 + dt.timedelta(days=90)
            unit.save(acct)
        raise RuntimeError("the call fails after saving")
    assert len(store._due) > 2 * len(NAMES) + memory._DUE_SLACK  # no rebuild while taking back
    assert store.due_accounts(T0 + dt.timedelta(days=5)) == list(NAMES)
    _move(store, "ben", T0 + dt.timedelta(days=2))  # a committed unit: now the queue is rebuilt
    assert len(store._due) == len(NAMES)
    assert _due_by(store) == {
        T0: [],
        T0 + dt.timedelta(days=5): list(NAMES),
        T0 + dt.timedelta(days=50): list(NAMES),
    }
