"""Every public Engine method, driven with arbitrary values: only EngineErrors escape, refusals change
nothing.

An embedding app may pass anything (None, numbers where names belong, huge
counts, times far outside the calendar, terminal escapes in names). Whatever
it passes, the engine either carries the call out or raises an
:class:`~engine.EngineError` with a code, and a refused call, like a read,
leaves every observable thing (accounts, ledgers, reminders, balances)
exactly as it was, on the in-memory store and on SQLite alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine, EngineError
from engine.store.base import open_store
from tests.depth import examples

from .engine_helpers import policy_for

NAMES = ["alice", "bob", "carol", "m1", "alice/1"]
GOOD_TIMES = ["2026-01-01", "2026-01-15T10:00:00Z", "2026-02-01T00:00:00+01:00", "2026-06-30"]

anything: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.text(alphabet="\x00\x1b[31m\n\t é", max_size=6),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.datetimes(),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.dates(),
    st.sampled_from(
        ["", " ", "9999-12-31", "0001-01-01", "2026-02-30", "2026-03-29T02:30:00", "next tuesday", "x" * 300]
    ),
)
name = st.one_of(st.sampled_from(NAMES), anything)
time = st.one_of(st.sampled_from(GOOD_TIMES), anything)
key = st.one_of(st.none(), st.sampled_from(["k1", "k2"]), anything)

CALLS: dict[str, Callable[..., Any]] = {
    "subscribe": lambda e, a, b, t, k: e.subscribe(a, b, at=t, key=k),
    "send": lambda e, a, b, t, k: e.send(a, b, at=t, key=k, message_id=None if k is None else k),
    "respond": lambda e, a, b, t, k: e.respond(a, b, at=t, key=k),
    "purchase": lambda e, a, b, t, k: e.purchase(a, b, at=t, key=k),
    "cancel": lambda e, a, b, t, k: e.cancel(a, at=t, key=k),
    "change_plan": lambda e, a, b, t, k: e.change_plan(a, b, at=t, key=k),
    "set_payment": lambda e, a, b, t, k: e.set_payment(a, b, at=t, key=k),
    "connect": lambda e, a, b, t, k: e.connect(a, b, at=t, key=k),
    "balance": lambda e, a, b, t, k: e.balance(a, at=t),
    "history": lambda e, a, b, t, k: e.history(a),
    "reminded": lambda e, a, b, t, k: e.reminded(t),
    "decide": lambda e, a, b, t, k: e.decide(a, b),
}
READS = {"balance", "history", "reminded", "decide"}
second = st.one_of(
    st.sampled_from(
        ["career", "basic", "reply", "interested", "valid", "expired", 1, 5, 1_000_000, 1_000_001, 0, -1]
    ),
    name,
)
call = st.tuples(st.sampled_from(sorted(CALLS)), name, second, time, key)


def snapshot(eng: Engine) -> Any:
    accounts = eng.accounts()
    return (
        accounts,
        {a: eng.history(a) for a in accounts},
        eng.reminded(),
        {a: eng.balance(a) for a in accounts},
    )


def _engine(db: str) -> Engine:
    policy, book = policy_for()
    eng = Engine(open_store(db), policy, book)
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.send("alice", "carol", at="2026-01-02", message_id="m1")
    return eng


@pytest.mark.parametrize("db", ["memory", "sqlite://"])
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(call, min_size=1, max_size=12))
def test_any_arguments_give_a_result_or_an_engine_error_and_refusals_change_nothing(
    db: str, calls: list[tuple[str, Any, Any, Any, Any]]
) -> None:
    eng = _engine(db)
    try:
        for method, a, b, t, k in calls:
            before = snapshot(eng)
            try:
                CALLS[method](eng, a, b, t, k)
            except EngineError as exc:
                assert exc.code and exc.code != "engine_error", exc
                assert snapshot(eng) == before, f"{method} refused ({exc.code}) but changed the store"
                continue
            if method in READS:
                assert snapshot(eng) == before, f"{method} is a read but changed the store"
    finally:
        eng._store.close()  # the shared rule book stays open for the other examples


@pytest.mark.parametrize("db", ["memory", "sqlite://"])
@settings(max_examples=40, deadline=None)
@given(to=time)
def test_advance_takes_only_instants(db: str, to: Any) -> None:
    eng = _engine(db)
    try:
        before = snapshot(eng)
        try:
            eng.advance(to)
        except EngineError as exc:
            assert exc.code in ("invalid_time", "time_out_of_range", "nonexistent_local_time")
            assert snapshot(eng) == before
    finally:
        eng._store.close()


@settings(max_examples=40, deadline=None)
@given(db=anything, policy=anything, rules=anything, override=anything)
def test_open_refuses_what_is_not_a_path_or_a_policy(
    db: Any, policy: Any, rules: Any, override: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if isinstance(db, str) and db not in ("", " ", "memory"):
        db = None  # a string is a database name: the test must not create files named after it
    if isinstance(policy, str) or isinstance(rules, str):
        policy = rules = None  # likewise for file names; their handling has its own tests
    try:
        eng = Engine.open(db=db, policy=policy, rules=rules, policy_override=override)
    except EngineError as exc:
        assert exc.code
        return
    eng.close()
