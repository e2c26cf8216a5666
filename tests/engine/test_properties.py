"""Property tests over random timelines: ledger invariants, determinism, stores agree.

Each example is a random timeline of calls on three accounts under one of a
few policy variants (both cap strategies, both credit-back lots, short and
long lifetimes). ``INMAIL_FUZZ_N`` scales the number of examples (default
CI-friendly; e.g. ``INMAIL_FUZZ_N=2000`` for a long soak).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Decision, Engine, InvalidCall
from engine.store.base import open_store
from engine.store.memory import MemoryStore

from .engine_helpers import policy_for

N = int(os.environ.get("INMAIL_FUZZ_N", "100"))
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ACCOUNTS = ("a0", "a1", "a2")
PEOPLE = (*ACCOUNTS, "p0", "p1", "p2", "p3")
PLANS = ("basic", "career", "business", "sales_navigator")
POLICIES = (
    "",
    "cap: {on_overflow: trim_new}\ncredit_back: {lot: original}",
    "credits: {lifetime_days: 31}\nreminder: {after_days: 0}",
    "credits: {lifetime_days: 365}\ncap: {applies_to: [monthly]}\n"
    "credit_back: {lot: original, window_days: 10}",
)

gap = st.one_of(st.just(0), st.integers(1, 3600), st.integers(1, 40 * 86400))
op = st.one_of(
    st.tuples(st.just("send"), st.sampled_from(ACCOUNTS), st.sampled_from(PEOPLE)),
    st.tuples(st.just("send"), st.sampled_from(ACCOUNTS), st.sampled_from(PEOPLE)),
    st.tuples(
        st.just("respond"), st.integers(0, 30), st.sampled_from(("reply", "interested", "not_interested"))
    ),
    st.tuples(st.just("purchase"), st.sampled_from(ACCOUNTS), st.integers(1, 12)),
    st.tuples(st.just("cancel"), st.sampled_from(ACCOUNTS)),
    st.tuples(st.just("subscribe"), st.sampled_from(ACCOUNTS), st.sampled_from(PLANS)),
    st.tuples(st.just("change_plan"), st.sampled_from(ACCOUNTS), st.sampled_from(PLANS)),
    st.tuples(st.just("set_payment"), st.sampled_from(ACCOUNTS), st.sampled_from(("valid", "expired"))),
    st.tuples(st.just("connect"), st.sampled_from(ACCOUNTS), st.sampled_from(PEOPLE)),
    st.tuples(st.just("advance")),
    st.tuples(st.just("balance"), st.sampled_from(ACCOUNTS)),
)
timeline = st.tuples(
    st.sampled_from(range(len(POLICIES))),
    st.lists(st.sampled_from(PLANS), min_size=3, max_size=3),
    st.lists(st.tuples(gap, op), min_size=1, max_size=60),
)


def replay(eng: Engine, plans: list[str], steps: list[tuple[int, tuple[Any, ...]]]) -> list[Any]:
    """Run a timeline; returns each call's Decision (as a dict) or the InvalidCall code."""
    out: list[Any] = []
    t = START
    for name, plan in zip(ACCOUNTS, plans, strict=True):
        out.append(eng.subscribe(name, plan, at=t).to_dict())
    sent: list[str] = []
    for seconds, (kind, *args) in steps:
        t += dt.timedelta(seconds=seconds)
        try:
            if kind == "send":
                d: Any = eng.send(args[0], args[1], at=t)
                if d.outcome != "denied":
                    sent.append(d.message)
            elif kind == "respond":
                d = eng.respond(sent[args[0] % len(sent)] if sent else "none", args[1], at=t)
            elif kind == "advance":
                d = [x.to_dict() for x in eng.advance(t)]
            elif kind == "balance":
                d = eng.balance(args[0], at=t)
            else:
                d = getattr(eng, kind)(*args, at=t)
        except InvalidCall as exc:
            out.append(exc.code)
            continue
        if isinstance(d, Decision):
            assert d.balance == eng.balance(d.account).credits
            out.append(d.to_dict())
        else:
            out.append(d)
    out.append([x.to_dict() for x in eng.advance(t + dt.timedelta(days=400))])
    return out


def engine(policy: int, db: str = "memory") -> Engine:
    pol, book = policy_for(POLICIES[policy])
    return Engine(open_store(db), pol, book)


def check_ledger(eng: Engine) -> None:
    """The invariants every ledger must satisfy, whatever happened."""
    store = eng._store
    assert isinstance(store, MemoryStore)
    credits_back: Counter[str | None] = Counter()
    for name in eng.accounts():
        lots = store.lots(name)
        remaining = dict.fromkeys(lots, 0)
        total = 0
        for e in eng.history(name):
            total += e.amount
            assert e.balance_after == total >= 0
            assert e.rule and e.requirements
            if e.lot is not None and e.amount:
                lot = lots[e.lot]
                remaining[e.lot] += e.amount
                assert 0 <= remaining[e.lot] <= lot.amount
                assert lot.granted_at <= e.at <= lot.expires_at
                if e.kind in ("consume", "credit_back"):
                    assert e.at < lot.expires_at, "nothing is used from (or returned to) an expired lot"
            if e.kind == "credit_back":
                credits_back[e.message] += 1
        bal = eng.balance(name)
        assert bal.credits == total == sum(lot.remaining for lot in bal.lots) >= 0
        assert all(lot.granted_at <= bal.at < lot.expires_at and lot.remaining > 0 for lot in bal.lots)
        live = {lot.id: lot.remaining for lot in bal.lots}
        for lot_id, n in remaining.items():  # what the entries leave in a lot is what it holds now
            assert n == live.get(lot_id, 0)
    assert all(n == 1 for n in credits_back.values()), "at most one credit back per InMail"


@settings(max_examples=N, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timeline)
def test_ledger_invariants_and_deterministic_replay(case: tuple[int, list[str], list[Any]]) -> None:
    policy, plans, steps = case
    first, second = engine(policy), engine(policy)
    a = replay(first, plans, steps)
    check_ledger(first)
    b = replay(second, plans, steps)
    assert a == b
    assert {n: first.history(n) for n in ACCOUNTS} == {n: second.history(n) for n in ACCOUNTS}
    assert first.reminded() == second.reminded()


@settings(max_examples=max(3, N // 4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timeline)
def test_memory_and_sqlite_give_identical_ledgers(case: tuple[int, list[str], list[Any]]) -> None:
    policy, plans, steps = case
    with tempfile.TemporaryDirectory() as tmp:
        mem, sql = engine(policy), engine(policy, f"{tmp}/ledger.db")
        try:
            assert replay(mem, plans, steps) == replay(sql, plans, steps)
            assert sql.accounts() == mem.accounts()
            for n in ACCOUNTS:
                assert sql.history(n) == mem.history(n)
                assert sql.balance(n) == mem.balance(n)
            assert sql.reminded() == mem.reminded()
        finally:
            sql._store.close()
