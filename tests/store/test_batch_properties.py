"""Random timelines in a SQLite batch give the ledgers of memory (the batch's held state is the truth).

The timelines, policies and replay are those of ``tests/engine/test_properties``
(both credit-back lots, so accounts held with and without their used-up
lots); here the SQLite side runs every call in ``Engine.batch`` with a small
``every``, so that calls, refusals, reads inside the batch (balances in the
past and future, ``advance``, histories) and commits interleave.
"""

from __future__ import annotations

import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.test_properties import ACCOUNTS, PLANS, POLICIES, N, engine, gap, replay, timeline

#: few people, many sends and responses: pairs that wait for an answer, reminders, credits back
FEW = (*ACCOUNTS, "p0")
crowded = st.tuples(
    st.sampled_from(range(len(POLICIES))),
    st.lists(st.sampled_from(PLANS), min_size=3, max_size=3),
    st.lists(
        st.tuples(
            gap,
            st.one_of(
                st.tuples(st.just("send"), st.sampled_from(ACCOUNTS), st.sampled_from(FEW)),
                st.tuples(st.just("send"), st.sampled_from(ACCOUNTS), st.sampled_from(FEW)),
                st.tuples(
                    st.just("respond"), st.integers(0, 30), st.sampled_from(("reply", "not_interested"))
                ),
                st.tuples(st.just("connect"), st.sampled_from(ACCOUNTS), st.sampled_from(FEW)),
                st.tuples(st.just("advance")),
                st.tuples(st.just("balance"), st.sampled_from(ACCOUNTS)),
                st.tuples(st.just("purchase"), st.sampled_from(ACCOUNTS), st.integers(1, 5)),
            ),
        ),
        min_size=1,
        max_size=60,
    ),
)


@settings(max_examples=max(3, N // 4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(timeline, crowded), st.integers(1, 9))
def test_a_sqlite_batch_gives_the_ledgers_of_memory(
    case: tuple[int, list[str], list[Any]], every: int
) -> None:
    policy, plans, steps = case
    with tempfile.TemporaryDirectory() as tmp:
        mem, sql = engine(policy), engine(policy, f"{tmp}/ledger.db")
        try:
            with sql.batch(every) as b:
                got = replay(sql, plans, steps)
                inside = {n: sql.history(n) for n in ACCOUNTS}
            assert got == replay(mem, plans, steps)
            assert b.pending == 0
            assert inside == {n: mem.history(n) for n in ACCOUNTS}
            assert sql.accounts() == mem.accounts()
            for n in ACCOUNTS:
                assert sql.history(n) == mem.history(n)
                assert sql.balance(n) == mem.balance(n)
            assert sql.reminded() == mem.reminded()
            assert [c.to_dict() for c in sql.log()] == [c.to_dict() for c in mem.log()]
        finally:
            sql._store.close()
