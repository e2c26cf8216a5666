"""Sending, responding, caps, credit back, purchases, plans, payment and cancel, on both stores."""

from __future__ import annotations

import pytest

from engine import Engine, InvalidCall

from .engine_helpers import MakeEngine, T


def test_send_consumes_blocks_and_schedules(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    d = eng.send("alice", "carol", at="2026-01-02", message_id="m1")
    assert (d.outcome, d.rule, d.balance, d.message, d.account) == ("sent", "send-inmail", 4, "m1", "alice")
    assert d.effects == ("consume_credit", "await_response", "schedule_reminder")
    assert d.requirements == ("R01", "R05", "R06") and d.revision == eng.revision
    assert [(e.kind, e.lot, e.amount, e.balance_after, e.message) for e in d.entries] == [
        ("consume", 1, -1, 4, "m1")
    ]
    again = eng.send("alice", "carol", at="2026-01-03")
    assert (again.outcome, again.reason, again.message) == ("denied", "awaiting_response", None)
    assert eng.send("alice", "dave", at="2026-01-03").outcome == "sent"


def test_out_of_credits_says_whether_buying_is_possible(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.subscribe("sam", "sales_navigator", at="2026-01-01")
    for i in range(5):
        assert eng.send("alice", f"r{i}", at="2026-01-02").outcome == "sent"
    for i in range(20):
        assert eng.send("sam", f"r{i}", at="2026-01-02").outcome == "sent"
    d = eng.send("alice", "zed", at="2026-01-02")
    assert (d.outcome, d.reason, d.purchase_possible, d.rule) == (
        "denied",
        "no_credits",
        True,
        "no-credits-can-buy",
    )
    d = eng.send("sam", "zed", at="2026-01-02")
    assert (d.outcome, d.reason, d.purchase_possible) == ("denied", "no_credits", False)
    assert eng.balance("alice").credits == 0


def test_messages_to_connections_are_free_for_any_plan(eng: Engine) -> None:
    eng.subscribe("bo", "basic", at="2026-01-01")
    assert eng.send("bo", "carol", at="2026-01-02").reason == "upgrade_required"
    eng.connect("bo", "carol", at="2026-01-02")
    d = eng.send("bo", "carol", at="2026-01-03", message_id="f1")
    assert (d.outcome, d.entries, d.balance) == ("sent_free", (), 0)
    r = eng.respond("f1", "reply", at="2026-01-04")
    assert (r.outcome, r.reason, r.status) == ("not_credited", "not_inmail", "replied")
    assert eng.reminded("2026-02-01") == []


def test_basic_accounts_get_no_renewals(eng: Engine) -> None:
    eng.subscribe("bo", "basic", at="2026-01-01")
    out = eng.advance("2026-03-01")
    assert [(d.event, d.outcome, d.reason) for d in out] == [("renew", "skipped", "not_premium")] * 2
    assert eng.history("bo") == []


def test_credit_back_new_lot_lives_from_the_response(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.send("alice", "carol", at="2026-01-02", message_id="m1")
    d = eng.respond("m1", "interested", at="2026-01-20T08:00:00Z")
    assert (d.outcome, d.status, d.balance, d.account) == ("credited_back", "accepted", 5, "alice")
    lot = next(lot for lot in eng.balance("alice").lots if lot.source == "credit_back")
    assert (lot.granted_at, lot.expires_at, lot.amount) == (
        T("2026-01-20T08:00:00"),
        T("2026-04-20T08:00:00"),
        1,
    )
    dup = eng.respond("m1", "reply", at="2026-01-21")
    assert (dup.outcome, dup.reason, dup.status, dup.entries, dup.balance) == (
        "not_credited",
        "already_responded",
        "replied",
        (),
        5,
    )


def test_credit_back_original_returns_to_the_consumed_lot(make: MakeEngine) -> None:
    eng = make("credit_back: {lot: original}")
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.send("alice", "carol", at="2026-01-02", message_id="m1")
    d = eng.respond("m1", "reply", at="2026-01-03")
    assert [(e.kind, e.lot, e.amount) for e in d.entries] == [("credit_back", 1, 1)]
    assert [(lot.id, lot.remaining) for lot in eng.balance("alice").lots] == [(1, 5)]


def test_credit_back_original_to_an_expired_lot_is_gone(make: MakeEngine) -> None:
    eng = make("credit_back: {lot: original}")
    eng.subscribe("alice", "career", at="2026-01-01")  # lot 1 expires 2026-04-01
    d = eng.send("alice", "carol", at="2026-03-20", message_id="m1")
    assert d.entries[0].lot == 1
    before = eng.balance("alice", "2026-04-05").credits
    r = eng.respond("m1", "reply", at="2026-04-05")
    assert r.outcome == "credited_back"  # the rules decided; the ledger shows where the credit went
    assert [(e.kind, e.lot, e.amount, e.note) for e in r.entries] == [
        ("credit_back", 1, 0, "original lot already expired")
    ]
    assert r.balance == before == eng.balance("alice").credits


def test_credit_back_after_cancel_is_refused_but_unblocks(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.send("alice", "carol", at="2026-01-02", message_id="m1")
    c = eng.cancel("alice", at="2026-01-03")
    assert (c.outcome, c.balance) == ("canceled", 0)
    assert [(e.kind, e.amount) for e in c.entries] == [("forfeit_cancel", -4)]
    r = eng.respond("m1", "reply", at="2026-01-04")
    assert (r.outcome, r.reason, r.balance) == ("not_credited", "not_premium", 0)
    assert eng.send("alice", "dave", at="2026-01-05").reason == "upgrade_required"
    eng.subscribe("alice", "career", at="2026-01-10")
    assert eng.send("alice", "carol", at="2026-01-11").outcome == "sent"


def test_cancel_stops_renewals_and_resubscribe_starts_a_new_cycle(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.purchase("alice", 10, at="2026-01-02")
    d = eng.cancel("alice", at="2026-01-15")
    assert sorted(e.amount for e in d.entries) == [-10, -5]
    assert eng.advance("2026-12-31") == []
    assert eng.balance("alice", "2026-12-31").credits == 0
    s = eng.subscribe("alice", "business", at="2027-01-10", billing_anchor="2027-01-05")
    assert (s.outcome, s.balance) == ("subscribed", 15)
    out = eng.advance("2027-02-06")
    assert [(d.at.date().isoformat(), d.outcome) for d in out] == [("2027-02-05", "renewed")]


def test_subscribe_twice_is_refused(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    try:
        eng.subscribe("alice", "business", at="2026-01-02")
    except Exception as exc:
        assert getattr(exc, "code", None) == "account_exists"
    else:  # pragma: no cover
        raise AssertionError("expected account_exists")


def test_cap_forfeit_oldest(make: MakeEngine) -> None:
    eng = make("credits: {lifetime_days: 365}")
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.purchase("alice", 10, at="2026-01-02")  # purchases are outside the cap
    out = eng.advance("2026-04-01")
    assert [d.balance for d in out] == [20, 25, 25]
    last = out[-1]
    assert [(e.kind, e.lot, e.amount) for e in last.entries] == [("grant", 5, 5), ("forfeit_cap", 1, -5)]
    assert last.entries[-1].rule == "monthly-allotment"


def test_cap_counts_credit_back_lots(make: MakeEngine) -> None:
    eng = make("credits: {lifetime_days: 365}")
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.advance("2026-03-01")  # 15 = the cap
    eng.send("alice", "carol", at="2026-03-02", message_id="m1")  # 14, lot 1 has 4
    eng.respond("m1", "reply", at="2026-03-03")  # 15 again, one in a credit_back lot
    out = eng.advance("2026-04-01")
    assert [(e.kind, e.lot, e.amount) for e in out[-1].entries] == [
        ("grant", 5, 5),
        ("forfeit_cap", 1, -4),
        ("forfeit_cap", 2, -1),
    ]
    assert out[-1].balance == 15


def test_cap_trim_new(make: MakeEngine) -> None:
    eng = make("credits: {lifetime_days: 365}\ncap: {on_overflow: trim_new}")
    eng.subscribe("alice", "career", at="2026-01-01")
    out = eng.advance("2026-04-01")
    assert [(d.outcome, d.balance, len(d.entries)) for d in out] == [
        ("renewed", 10, 1),
        ("renewed", 15, 1),
        ("renewed", 15, 0),
    ]
    eng.send("alice", "r1", at="2026-04-02")
    eng.send("alice", "r2", at="2026-04-02")
    out = eng.advance("2026-05-01")
    assert [(e.kind, e.amount) for e in out[-1].entries] == [("grant", 2)]
    assert out[-1].balance == 15


def test_purchase_rules(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.subscribe("sam", "sales_navigator", at="2026-01-01")
    eng.subscribe("bo", "basic", at="2026-01-01")
    d = eng.purchase("alice", 10, at="2026-01-02T10:00:00Z")
    assert (d.outcome, d.balance) == ("purchased", 15)
    lot = next(lot for lot in eng.balance("alice").lots if lot.source == "purchase")
    assert (lot.amount, lot.expires_at) == (10, T("2027-01-02T10:00:00"))
    assert eng.purchase("sam", 5, at="2026-01-02").reason == "not_purchasable"
    assert eng.purchase("bo", 5, at="2026-01-02").reason == "upgrade_required"


def test_expired_card_blocks_sends_and_purchases_but_not_renewals(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    assert eng.set_payment("alice", "expired", at="2026-01-05").outcome == "payment_updated"
    assert eng.send("alice", "carol", at="2026-01-06").reason == "update_payment_required"
    assert eng.purchase("alice", 5, at="2026-01-06").reason == "update_payment_required"
    assert eng.balance("alice", "2026-02-01").credits == 10
    eng.set_payment("alice", "valid", at="2026-02-02")
    assert eng.send("alice", "carol", at="2026-02-02").outcome == "sent"


def test_change_plan_eligibility_at_once_allotment_at_next_renewal(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    d = eng.change_plan("alice", "sales_navigator", at="2026-01-10")
    assert (d.outcome, d.balance) == ("plan_changed", 5)
    assert eng.purchase("alice", 5, at="2026-01-11").reason == "not_purchasable"
    assert eng.balance("alice", "2026-02-01").credits == 25
    eng.change_plan("alice", "basic", at="2026-02-02")
    assert eng.send("alice", "carol", at="2026-02-03").reason == "upgrade_required"
    assert eng.balance("alice").credits == 25  # lots are kept
    out = eng.advance("2026-03-01")
    assert [(x.outcome, x.reason) for x in out] == [("skipped", "not_premium")]


def test_generated_message_ids_are_unique(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.subscribe("bob", "career", at="2026-01-01")
    eng.send("bob", "x", at="2026-01-02", message_id="alice/2")
    ids = [eng.send("alice", f"r{i}", at="2026-01-02").message for i in range(3)]
    assert ids == ["alice/1", "alice/3", "alice/4"]
    assert eng.respond("alice/3", "reply", at="2026-01-03").outcome == "credited_back"


def test_connect_is_symmetric_and_other_need_not_be_an_account(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.subscribe("bob", "career", at="2026-01-01")
    assert eng.connect("alice", "bob", at="2026-01-02").outcome == "connected"
    assert eng.connect("alice", "stranger", at="2026-01-02").outcome == "connected"
    assert eng.send("bob", "alice", at="2026-01-03").outcome == "sent_free"
    assert eng.send("alice", "stranger", at="2026-01-03").outcome == "sent_free"
    assert eng.accounts() == ["alice", "bob"]


def test_every_balance_change_cites_a_rule_and_sums_up(eng: Engine) -> None:
    eng.subscribe("alice", "business", at="2026-01-01")
    for i in range(12):
        eng.send("alice", f"r{i}", at=f"2026-01-{i + 2:02d}", message_id=f"m{i}")
    for i in range(0, 12, 2):
        eng.respond(f"m{i}", "reply", at="2026-02-15")
    eng.purchase("alice", 3, at="2026-02-16")
    eng.advance("2026-07-01")
    total = 0
    for e in eng.history("alice"):
        total += e.amount
        assert e.balance_after == total and e.rule and e.requirements
    assert total == eng.balance("alice").credits


def test_basic_member_upgrades_by_subscribing(eng: Engine) -> None:
    """Upgrading from Basic is a new subscription: new start, anchor and start grant at once."""
    eng.subscribe("bob", "basic", at="2026-01-01")
    assert eng.send("bob", "carol", at="2026-01-05").reason == "upgrade_required"
    d = eng.subscribe("bob", "career", at="2026-01-10")
    assert (d.outcome, d.balance) == ("subscribed", 5)
    assert eng.send("bob", "carol", at="2026-01-11").outcome == "sent"
    renewals = [s for s in eng.advance("2026-02-10") if s.event == "renew"]
    assert [r.at for r in renewals] == [T("2026-02-10T00:00:00")]


def test_premium_member_cannot_subscribe_twice(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    with pytest.raises(InvalidCall) as err:
        eng.subscribe("alice", "business", at="2026-01-02")
    assert err.value.code == "account_exists"
