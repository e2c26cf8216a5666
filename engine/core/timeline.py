"""Time moving through the rules: the renewals, expiries and reminders an account has due.

Nothing happens to an account by itself: before any call at ``at``, the
events that fell due up to and including ``at`` are produced here and each
is decided by its ruleset (``expire``, ``renew``, ``remind``) like a call
would be, and carried out through the same effect table, so every credit
that appears or disappears cites a rule.

Order: across instants, chronological; at one instant, first the expiries
(lots with credits left, in spend order), then the renewal (allotment, then
cap), then the reminders (in send order), then the caller's event. The
schedule itself is calendar, not policy: a renewal instant passes whatever
its rule decides.
"""

from __future__ import annotations

import datetime as dt
import heapq

from engine.core.context import Context
from engine.core.effects import Act, carry_out
from engine.ledger import lots as ledger
from engine.ledger.state import AccountState, Cause, LotRec, MsgRec
from engine.model import Decision
from engine.store.base import Unit


def next_due(acct: AccountState) -> dt.datetime | None:
    """The next instant something happens to the account by itself (None: nothing scheduled)."""
    due = ledger.next_expiry(acct)
    if acct.active and acct.next_renewal is not None and (due is None or acct.next_renewal < due):
        due = acct.next_renewal
    if acct.reminders and (due is None or acct.reminders[0][0] < due):
        due = acct.reminders[0][0]
    return due


def settle(ctx: Context, u: Unit, acct: AccountState, t: dt.datetime) -> list[Decision]:
    """Apply every system event of ``acct`` due at or before ``t``; the account's clock follows.

    ``acct.next_due`` is kept exact after every event (and stored), so an
    account with nothing due costs one comparison here.
    """
    due = acct.next_due
    if due is None or due > t:
        return []
    out: list[Decision] = []
    while due is not None and due <= t:
        lots = ledger.expiring_due(acct, due)
        if lots is not None:
            for lot in lots:
                out.append(_expire(ctx, u, acct, lot, due))
            ledger.prune(acct, due)
        if acct.active and acct.next_renewal == due:
            out.append(_renew(ctx, u, acct, due))
        while acct.reminders and acct.reminders[0][0] <= due:
            _, _, msg_id = heapq.heappop(acct.reminders)
            msg = u.message(msg_id)
            if msg is not None and not msg.reminder_done:
                out.append(_remind(ctx, u, acct, msg, due))
        if due > acct.clock:
            acct.clock = due
        due = next_due(acct)
    acct.next_due = due
    return out


def _expire(ctx: Context, u: Unit, acct: AccountState, lot: LotRec, at: dt.datetime) -> Decision:
    """A lot with credits left reaches its expiry (R09)."""
    facts = ctx.facts(acct, "account")
    facts["lot.source"] = lot.source
    facts["lot.remaining"] = lot.remaining
    verdict = ctx.decide("expire", facts)
    start = len(acct.entries)
    carry_out(
        Act(ctx, u, acct, at, Cause("expire", verdict.rule, verdict.requirements), verdict.effects, lot=lot)
    )
    return ctx.decision(verdict, acct, at, start)


def _renew(ctx: Context, u: Unit, acct: AccountState, at: dt.datetime) -> Decision:
    """A billing-cycle renewal (or the start grant at ``since``) (R07, R08, R10, R11)."""
    verdict = ctx.decide("renew", ctx.facts(acct, "account"))
    start = len(acct.entries)
    carry_out(Act(ctx, u, acct, at, Cause("renew", verdict.rule, verdict.requirements), verdict.effects))
    if acct.start_pending and acct.next_renewal == acct.since:
        acct.start_pending = False
    else:
        acct.renew_k += 1
    acct.next_renewal = ctx.cal.add_months(acct.anchor, acct.renew_k)
    return ctx.decision(verdict, acct, at, start)


def _remind(ctx: Context, u: Unit, acct: AccountState, msg: MsgRec, at: dt.datetime) -> Decision:
    """The reminder of an InMail falls due (R06); the rules skip it once answered."""
    facts = ctx.facts(acct, "sender")
    facts["message.responded"] = msg.responded_at is not None
    verdict = ctx.decide("remind", facts)
    carry_out(
        Act(
            ctx,
            u,
            acct,
            at,
            Cause("remind", verdict.rule, verdict.requirements, msg.id),
            verdict.effects,
            msg=msg,
        )
    )
    msg.reminder_done = True
    u.update_message(msg)
    return ctx.decision(verdict, acct, at, len(acct.entries), message=msg.id)
