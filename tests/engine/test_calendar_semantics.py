"""Renewals, expiries, windows and same-instant order, through the Engine on both stores."""

from __future__ import annotations

from engine import Engine

from .engine_helpers import MakeEngine, T


def grant_times(eng: Engine, account: str) -> list[str]:
    return [e.at.strftime("%Y-%m-%d") for e in eng.history(account) if e.kind == "grant"]


def test_start_grant_gives_the_allotment_at_once(eng: Engine) -> None:
    d = eng.subscribe("alice", "career", at="2026-01-15T09:00:00Z")
    assert (d.outcome, d.balance) == ("subscribed", 5)
    assert [(s.event, s.outcome, s.rule) for s in d.system_events] == [
        ("renew", "renewed", "monthly-allotment")
    ]
    assert eng.balance("alice").credits == 5


def test_without_grant_on_start_the_first_credits_come_at_the_first_renewal(make: MakeEngine) -> None:
    eng = make("renewal: {grant_on_start: false}")
    assert eng.subscribe("alice", "career", at="2026-01-10").balance == 0
    assert eng.balance("alice", "2026-02-09T23:59:59Z").credits == 0
    assert eng.balance("alice", "2026-02-10").credits == 5


def test_anchor_on_the_31st_renews_on_the_last_day_of_short_months(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-31T12:00:00Z")
    eng.advance("2026-06-01")
    assert grant_times(eng, "alice") == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]


def test_anchor_on_the_31st_in_a_leap_year(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2028-01-31")
    eng.advance("2028-03-31")
    assert grant_times(eng, "alice") == ["2028-01-31", "2028-02-29", "2028-03-31"]


def test_leap_day_anchor_renews_on_the_29th_and_on_feb_28_in_common_years(eng: Engine) -> None:
    eng.subscribe("alice", "business", at="2028-02-29T08:00:00Z")
    eng.advance("2029-03-30")
    times = grant_times(eng, "alice")
    assert times[:3] == ["2028-02-29", "2028-03-29", "2028-04-29"]
    assert times[-2:] == ["2029-02-28", "2029-03-29"]
    assert len(times) == 14


def test_seat_date_does_not_move_the_billing_cycle_r08(eng: Engine) -> None:
    d = eng.subscribe(
        "sam", "sales_navigator", at="2026-01-10T15:00:00Z", billing_anchor="2026-01-01T00:00:00Z"
    )
    assert d.balance == 20  # the start grant on the seat date
    eng.advance("2026-03-02")
    assert grant_times(eng, "sam") == ["2026-01-10", "2026-02-01", "2026-03-01"]


def test_anchor_after_the_start_still_renews_between_the_two(eng: Engine) -> None:
    eng.subscribe("sam", "career", at="2026-01-10", billing_anchor="2026-01-20")
    eng.advance("2026-02-21")
    assert grant_times(eng, "sam") == ["2026-01-10", "2026-01-20", "2026-02-20"]


def test_credit_back_window_is_inclusive_to_the_second(make: MakeEngine) -> None:
    for delay, outcome, reason in (
        ("2026-04-15T10:00:00Z", "credited_back", None),
        ("2026-04-15T10:00:01Z", "not_credited", "late_response"),
    ):
        eng = make()
        eng.subscribe("alice", "career", at="2026-01-15T09:00:00Z")
        eng.send("alice", "carol", at="2026-01-15T10:00:00Z", message_id="m1")
        d = eng.respond("m1", "reply", at=delay)
        assert (d.outcome, d.reason, d.status) == (outcome, reason, "replied")


def test_late_response_still_unblocks_the_pair(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.send("alice", "carol", at="2026-01-02", message_id="m1")
    assert eng.send("alice", "carol", at="2026-03-01").reason == "awaiting_response"
    assert eng.respond("m1", "not_interested", at="2026-06-01").reason == "late_response"
    assert eng.send("alice", "carol", at="2026-06-02").outcome == "sent"


def test_a_lot_is_gone_at_its_expiry_instant(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01T00:00:00Z")  # lot 1 expires 2026-04-01T00:00
    before = eng.balance("alice", "2026-03-31T23:59:59.999999Z")
    assert [lot.id for lot in before.lots] == [1, 2, 3] and before.credits == 15
    eng.advance("2026-04-01T00:00:00Z")
    at_expiry = eng.balance("alice", "2026-04-01T00:00:00Z")
    assert [lot.id for lot in at_expiry.lots] == [2, 3, 4]
    expired = [e for e in eng.history("alice") if e.kind == "expire"]
    assert [(e.lot, e.amount, e.rule) for e in expired] == [(1, -5, "credits-expire")]
    # the past is unchanged
    assert [lot.id for lot in eng.balance("alice", "2026-03-31T23:59:59.999999Z").lots] == [1, 2, 3]
    d = eng.send("alice", "carol", at="2026-04-01T00:00:00Z")
    assert d.entries[0].lot == 2


def test_same_instant_order_is_expiry_renewal_reminder_then_the_call(make: MakeEngine) -> None:
    eng = make("credits: {lifetime_days: 31}")
    eng.subscribe("alice", "career", at="2026-01-01T00:00:00Z")  # lot 1 expires at the Feb 1 renewal
    eng.send("alice", "carol", at="2026-01-29T00:00:00Z", message_id="m1")  # reminder due Feb 1
    d = eng.send("alice", "dave", at="2026-02-01T00:00:00Z", message_id="m2")
    assert [(s.event, s.outcome) for s in d.system_events] == [
        ("expire", "expired"),
        ("renew", "renewed"),
        ("remind", "reminded"),
    ]
    assert [s.at for s in d.system_events] == [T("2026-02-01T00:00:00")] * 3
    assert d.system_events[0].entries[0].amount == -4
    assert d.system_events[2].message == "m1"
    assert (d.outcome, d.entries[0].lot, d.balance) == ("sent", 2, 4)
    assert eng.reminded("2026-02-01T00:00:00Z") == ["m1"]


def test_advance_returns_system_events_of_all_accounts_in_time_order(eng: Engine) -> None:
    eng.subscribe("bob", "career", at="2026-01-20")
    eng.subscribe("alice", "career", at="2026-01-10")
    eng.send("alice", "carol", at="2026-01-11", message_id="m1")
    out = eng.advance("2026-03-01")
    assert [(d.at.date().isoformat(), d.account, d.event) for d in out] == [
        ("2026-01-14", "alice", "remind"),
        ("2026-02-10", "alice", "renew"),
        ("2026-02-20", "bob", "renew"),
    ]
    assert eng.advance("2026-03-01") == []
    assert eng.reminded() == ["m1"]


def test_reminder_fires_only_while_unanswered(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.send("alice", "carol", at="2026-01-02T10:00:00Z", message_id="m1")
    eng.send("alice", "dave", at="2026-01-02T11:00:00Z", message_id="m2")
    eng.respond("m2", "maybe_later", at="2026-01-03")
    assert eng.reminded("2026-01-05T09:59:59Z") == []
    assert eng.reminded("2026-01-05T11:00:00Z") == ["m1"]
    # reminded() is a read: it computed those reminders without storing them, so advance applies them
    remind = [(d.message, d.outcome) for d in eng.advance("2026-02-02") if d.event == "remind"]
    assert remind == [("m1", "reminded"), ("m2", "skipped")]
    assert eng.reminded("2026-01-05T11:00:00Z") == ["m1"]
    d = eng.send("alice", "erin", at="2026-02-03")
    assert d.outcome == "sent"


def test_system_events_wait_for_the_account_to_be_touched(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    d = eng.send("alice", "carol", at="2026-03-15")
    assert [s.event for s in d.system_events] == ["renew", "renew"]
    assert d.balance == 14


def test_balance_in_the_past_is_rebuilt_from_the_ledger(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    for i in range(3):
        eng.send("alice", f"r{i}", at=f"2026-01-0{2 + i}")
    eng.advance("2026-02-15")
    assert eng.balance("alice", "2026-01-01").credits == 5
    assert eng.balance("alice", "2026-01-03").credits == 3
    assert eng.balance("alice", "2026-01-31").credits == 2
    assert eng.balance("alice", "2026-02-01").credits == 7
    assert eng.balance("alice", "2025-12-31").credits == 0


def test_non_utc_policy_reads_dates_in_its_zone(make: MakeEngine) -> None:
    eng = make("timezone: Europe/Paris")
    d = eng.subscribe("alice", "career", at="2026-01-31")
    assert d.at == T("2026-01-30T23:00:00")
    eng.advance("2026-04-01")
    assert [e.at for e in eng.history("alice") if e.kind == "grant"][1:] == [
        T("2026-02-27T23:00:00"),
        T("2026-03-30T22:00:00"),
    ]  # Feb 28 and Mar 31, Paris midnight


def test_advance_only_touches_accounts_with_something_due(eng: Engine) -> None:
    for day in (5, 10, 20):
        eng.subscribe(f"m{day}", "career", at=f"2026-01-{day:02d}")
    store = eng._store
    assert store.due_accounts(T("2026-02-09T00:00:00")) == ["m5"]
    assert [d.account for d in eng.advance("2026-02-09")] == ["m5"]
    assert store.due_accounts(T("2026-02-09T00:00:00")) == []
    assert store.due_accounts(T("2026-02-21T00:00:00")) == ["m10", "m20"]
