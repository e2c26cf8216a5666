"""The effect table: every effect a rule may name, and the one handler that carries it out.

Rules choose an outcome and a list of effects from a fixed vocabulary (the
catalog, :data:`engine.rules.catalog.EFFECTS`); this table is where each of
those names meets the ledger. There is no other place that matches effect
names, so an effect is either in this table or cannot run: a test checks
that the table's keys are exactly the catalog's, per event kind, so adding
an effect to the catalog without a handler fails the suite instead of
"firing" silently.

Effects run in the order of the table, whatever order a rule lists them in:
a renewal grants its allotment before the cap is applied, a send takes its
credit before it blocks the pair. Each handler declares what it needs
besides the account (``message``, ``lot`` or a call argument); a verdict whose
effects need something the event does not have (``consume_credit`` on a
``denied`` send, which creates no message) is refused before anything is
changed, as a :class:`~engine.errors.RuleEngineFailure`.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.codes import C
from engine.core.context import Context
from engine.ledger import lots as ledger
from engine.ledger.state import AccountState, Cause, LotRec, MsgRec
from engine.store.base import Unit


@dataclass(slots=True)
class Act:
    """One event's effects being carried out: what the handlers read and change."""

    ctx: Context
    unit: Unit
    acct: AccountState
    at: dt.datetime
    cause: Cause
    effects: tuple[str, ...]
    args: Mapping[str, Any] = field(default_factory=dict)
    msg: MsgRec | None = None
    lot: LotRec | None = None
    #: set by ``offer_purchase``: the Decision tells the caller that buying is possible
    purchase_possible: bool = False


Handler = Callable[[Act], None]


@dataclass(frozen=True)
class Effect:
    """A handler, the event kind whose rules may name it, and what it needs besides the account."""

    event: str
    needs: tuple[str, ...]
    run: Handler


# --- send -------------------------------------------------------------------------------------


def _consume_credit(a: Act) -> None:
    assert a.msg is not None
    lot = ledger.consume(a.acct, a.at, a.cause)
    a.msg.lot = None if lot is None else lot.id


def _await_response(a: Act) -> None:
    assert a.msg is not None
    a.msg.awaiting = True


def _schedule_reminder(a: Act) -> None:
    msg = a.msg
    assert msg is not None
    msg.reminder_at = a.ctx.cal.add_days(a.at, a.ctx.policy.reminder.after_days)
    heapq.heappush(a.acct.reminders, (msg.reminder_at, msg.seq, msg.id))


def _offer_purchase(a: Act) -> None:
    a.purchase_possible = True


# --- respond ----------------------------------------------------------------------------------


def _record_response(a: Act) -> None:
    msg = a.msg
    assert msg is not None
    if msg.responded_at is None:  # the first response is the one the message keeps
        msg.responded_at, msg.response_type, msg.status = a.at, a.args["response_type"], a.args["status"]


def _release_pair(a: Act) -> None:
    assert a.msg is not None
    a.msg.awaiting = False


def _credit_back(a: Act) -> None:
    msg = a.msg
    assert msg is not None
    msg.credited = True
    policy = a.ctx.policy
    if policy.credit_back.lot == "original":
        ledger.credit_back_original(a.acct, msg.lot, a.at, a.cause)
    else:
        expires = a.ctx.cal.add_days(a.at, policy.credits.lifetime_days)
        ledger.grant(a.acct, a.at, "credit_back", 1, expires, "credit_back", a.cause)


# --- purchase, renew, expire, remind ----------------------------------------------------------


def _grant_purchase(a: Act) -> None:
    expires = a.ctx.cal.add_days(a.at, a.ctx.policy.purchase.credit_lifetime_days)
    ledger.grant(a.acct, a.at, "purchase", a.args["credits"], expires, "purchase", a.cause)


def _grant_allotment(a: Act) -> None:
    policy = a.ctx.policy
    plan, cap = policy.plans[a.acct.plan], policy.cap
    amount = plan.monthly_allotment
    if "apply_cap" in a.effects and cap.on_overflow == "trim_new" and "monthly" in cap.applies_to:
        amount = min(amount, ledger.room_under_cap(a.acct, plan.cap, cap.applies_to))
    expires = a.ctx.cal.add_days(a.at, policy.credits.lifetime_days)
    ledger.grant(a.acct, a.at, "monthly", amount, expires, "grant", a.cause)


def _apply_cap(a: Act) -> None:
    cap = a.ctx.policy.cap
    if cap.on_overflow == "forfeit_oldest":  # trim_new already cut the new lot in _grant_allotment
        ledger.forfeit_over_cap(a.acct, a.at, a.ctx.policy.plans[a.acct.plan].cap, cap.applies_to, a.cause)


def _expire_lot(a: Act) -> None:
    assert a.lot is not None
    ledger.expire(a.acct, a.lot, a.at, a.cause)


def _send_reminder(a: Act) -> None:
    assert a.msg is not None
    a.msg.reminded_at = a.at


# --- account events ---------------------------------------------------------------------------


def _forfeit_all(a: Act) -> None:
    ledger.forfeit_all(a.acct, a.at, a.cause)


def _end_subscription(a: Act) -> None:
    a.acct.active = False
    a.acct.next_renewal = None


def _start_subscription(a: Act) -> None:
    acct, cal = a.acct, a.ctx.cal
    acct.plan, acct.payment, acct.active = a.args["plan"], a.args["payment"], True
    acct.since, acct.anchor = a.at, a.args["billing_anchor"]
    acct.start_pending = a.ctx.policy.renewal.grant_on_start
    acct.renew_k = cal.first_renewal_index(acct.anchor, a.at)
    acct.next_renewal = a.at if acct.start_pending else cal.add_months(acct.anchor, acct.renew_k)


def _change_plan(a: Act) -> None:
    a.acct.plan = a.args["plan"]


def _set_payment(a: Act) -> None:
    a.acct.payment = a.args["status"]


def _connect(a: Act) -> None:
    a.unit.connect(a.acct.name, a.args["other"], a.at)


#: Every effect, in the order effects are carried out.
TABLE: dict[str, Effect] = {
    "consume_credit": Effect("send", ("message",), _consume_credit),
    "await_response": Effect("send", ("message",), _await_response),
    "schedule_reminder": Effect("send", ("message",), _schedule_reminder),
    "offer_purchase": Effect("send", (), _offer_purchase),
    "record_response": Effect("respond", ("message", "response_type", "status"), _record_response),
    "release_pair": Effect("respond", ("message",), _release_pair),
    "credit_back": Effect("respond", ("message",), _credit_back),
    "grant_purchase": Effect("purchase", ("credits",), _grant_purchase),
    "grant_allotment": Effect("renew", (), _grant_allotment),
    "apply_cap": Effect("renew", (), _apply_cap),
    "expire_lot": Effect("expire", ("lot",), _expire_lot),
    "send_reminder": Effect("remind", ("message",), _send_reminder),
    "forfeit_all": Effect("cancel", (), _forfeit_all),
    "end_subscription": Effect("cancel", (), _end_subscription),
    "start_subscription": Effect("subscribe", ("plan", "payment", "billing_anchor"), _start_subscription),
    "change_plan": Effect("change_plan", ("plan",), _change_plan),
    "set_payment": Effect("payment", ("status",), _set_payment),
    "connect": Effect("connect", ("other",), _connect),
}

_ORDER = {name: i for i, name in enumerate(TABLE)}
#: (effects of a verdict, has a message, has a lot, call arguments) -> the handlers to run, in order
_PLANS: dict[tuple[tuple[str, ...], bool, bool, tuple[str, ...]], tuple[Handler, ...]] = {}


def carry_out(act: Act) -> None:
    """Run the handlers of ``act.effects`` in table order; refuse before any runs if one lacks a need."""
    key = (act.effects, act.msg is not None, act.lot is not None, tuple(act.args))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(act)
    for run in plan:
        run(act)


def _plan(act: Act) -> tuple[Handler, ...]:
    have = set(act.args)
    if act.msg is not None:
        have.add("message")
    if act.lot is not None:
        have.add("lot")
    for name in act.effects:
        missing = [need for need in TABLE[name].needs if need not in have]
        if missing:
            raise C.rule_engine_failure(
                f"rule `{act.cause.rule}` asks for `{name}`, which needs "
                f"{', '.join(missing)} that this `{act.cause.event}` event does not have"
            )
    return tuple(TABLE[name].run for name in sorted(act.effects, key=_ORDER.__getitem__))
