"""Lot arithmetic without rules or stores: spend order, caps, credit back, forfeits, past balances."""

from __future__ import annotations

import datetime as dt

from engine.ledger import lots as ledger
from engine.ledger.state import AccountState, Cause

UTC = dt.UTC
CAUSE = Cause("test", "a-rule", ("R01",))
CAPPED = ("monthly", "credit_back")


def d(day: int) -> dt.datetime:
    """Day ``day`` counted from 2026-01-01 (day 1)."""
    return dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(days=day - 1)


def account(*lots: tuple[str, int, dt.datetime, dt.datetime]) -> AccountState:
    acct = AccountState("alice", "career", "valid", d(1), d(1))
    for source, amount, granted, expires in lots:
        ledger.grant(acct, granted, source, amount, expires, "grant", CAUSE)
    return acct


def test_consume_soonest_expiry_then_earliest_grant_then_id() -> None:
    acct = account(
        ("monthly", 1, d(2), d(20)),
        ("purchase", 1, d(1), d(20)),
        ("monthly", 1, d(1), d(20)),
        ("credit_back", 1, d(3), d(10)),
    )
    order = [ledger.consume(acct, d(5), CAUSE) for _ in range(4)]
    assert [lot.id for lot in order if lot] == [4, 2, 3, 1]
    assert ledger.consume(acct, d(5), CAUSE) is None
    assert acct.balance == 0


def test_consume_skips_expired_and_future_lots() -> None:
    acct = account(("monthly", 1, d(1), d(10)), ("monthly", 1, d(8), d(30)))
    lot = ledger.consume(acct, d(10), CAUSE)  # lot 1 expires at d(10): not usable then
    assert lot is not None and lot.id == 2
    acct = account(("monthly", 1, d(8), d(30)))
    assert ledger.consume(acct, d(7), CAUSE) is None


def test_entries_carry_signed_amounts_and_running_balance() -> None:
    acct = account(("monthly", 5, d(1), d(20)))
    ledger.consume(acct, d(2), Cause("send", "send-inmail", ("R01",), "m1"))
    e = acct.entries
    assert [(x.seq, x.kind, x.amount, x.balance_after) for x in e] == [
        (1, "grant", 5, 5),
        (2, "consume", -1, 4),
    ]
    assert (e[1].event, e[1].rule, e[1].requirements, e[1].message) == ("send", "send-inmail", ("R01",), "m1")


def test_forfeit_over_cap_takes_capped_credits_soonest_expiring_first() -> None:
    acct = account(
        ("monthly", 5, d(1), d(28)),
        ("purchase", 10, d(1), d(5)),
        ("credit_back", 1, d(2), d(25)),
        ("monthly", 5, d(3), d(30)),
    )
    assert ledger.capped_total(acct, CAPPED) == 11
    assert ledger.room_under_cap(acct, 15, CAPPED) == 4
    ledger.grant(acct, d(4), "monthly", 5, d(31), "grant", CAUSE)
    dropped = ledger.forfeit_over_cap(acct, d(4), 8, CAPPED, CAUSE)
    assert dropped == 8
    assert [(e.lot, e.amount) for e in acct.entries if e.kind == "forfeit_cap"] == [(3, -1), (1, -5), (4, -2)]
    assert ledger.capped_total(acct, CAPPED) == 8 and acct.balance == 18
    assert ledger.forfeit_over_cap(acct, d(4), 8, CAPPED, CAUSE) == 0
    assert ledger.room_under_cap(acct, 5, CAPPED) == 0


def test_credit_back_to_the_original_lot() -> None:
    acct = account(("monthly", 2, d(1), d(10)))
    lot = ledger.consume(acct, d(2), CAUSE)
    assert lot is not None
    assert ledger.credit_back_original(acct, lot.id, d(3), CAUSE)
    assert acct.balance == 2 and acct.entries[-1].amount == 1
    ledger.consume(acct, d(4), CAUSE)
    assert not ledger.credit_back_original(acct, lot.id, d(10), CAUSE)  # expired at d(10)
    assert (acct.entries[-1].amount, acct.entries[-1].note) == (0, "original lot already expired")
    assert not ledger.credit_back_original(acct, 99, d(5), CAUSE)


def test_expire_and_forfeit_all() -> None:
    acct = account(("monthly", 3, d(1), d(10)), ("purchase", 4, d(1), d(40)))
    assert [lot.id for lot in ledger.expiring(acct, d(10))] == [1]
    assert ledger.next_expiry(acct) == d(10)
    ledger.expire(acct, acct.lots[0], d(10), CAUSE)
    ledger.prune(acct, d(10))
    assert [lot.id for lot in acct.lots] == [2] and acct.balance == 4
    ledger.forfeit_all(acct, d(11), CAUSE)
    assert acct.balance == 0 and acct.entries[-1].kind == "forfeit_cancel"
    assert ledger.next_expiry(acct) is None


def test_spent_lots_leave_the_working_set_unless_they_may_be_refilled() -> None:
    acct = account(("monthly", 1, d(1), d(10)))
    acct.keep_spent = False
    ledger.consume(acct, d(2), CAUSE)
    assert acct.lots == [] and 1 in acct.dirty


def test_balance_at_rebuilds_the_past_from_entries() -> None:
    acct = account(("monthly", 5, d(1), d(10)))
    ledger.consume(acct, d(3), CAUSE)
    ledger.grant(acct, d(5), "credit_back", 1, d(20), "credit_back", CAUSE)
    lots = list(acct.dirty.values())
    assert ledger.balance_at("alice", d(2), lots, acct.entries).credits == 5
    assert ledger.balance_at("alice", d(3), lots, acct.entries).credits == 4  # events at the instant count
    assert ledger.balance_at("alice", d(5), lots, acct.entries).credits == 5
    late = ledger.balance_at("alice", d(10), lots, acct.entries)  # lot 1 expired at d(10)
    assert (late.credits, [lot.id for lot in late.lots]) == (1, [2])
    now = ledger.current_balance(acct, d(6))
    assert (now.credits, [(lot.id, lot.remaining) for lot in now.lots]) == (5, [(1, 4), (2, 1)])
