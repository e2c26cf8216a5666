"""Time moving through the rules: the renewals, expiries and reminders an account has due.

Nothing happens to an account by itself: before any call at ``at``, the
events that fell due up to and including ``at`` are produced here and each
is decided by its ruleset (``expire``, ``renew``, ``remind``) like a call
would be, so every credit that appears or disappears cites a rule.

Order (DESIGN.md): across instants, chronological; at one instant, first
the expiries (lots with credits left, in spend order), then the renewal
(allotment, then cap), then the reminders (in send order), then the caller's
event. The schedule itself is calendar, not policy: a renewal instant passes
whatever its rule decides.
"""

from __future__ import annotations

import datetime as dt
import heapq
from typing import Any

from engine.ledger import lots as ledger
from engine.ledger.calendar import Calendar
from engine.ledger.lots import AccountState, Cause, LotRec
from engine.model import Decision, Verdict, build
from engine.policy.load import Policy
from engine.rules.book import RuleBook
from engine.store.base import Unit

_NAMES = {p: (f"{p}.premium", f"{p}.plan", f"{p}.payment", f"{p}.balance") for p in ("sender", "account")}


class Timeline:
    """Facts and system events; the base of :class:`engine.core.engine.Engine`."""

    def __init__(self, policy: Policy, book: RuleBook) -> None:
        self.policy = policy
        self._book = book
        self._cal = Calendar(policy.timezone)
        self._keep_spent = policy.credit_back.lot == "original"
        #: the plan.* facts of each plan, computed once
        self._plan_facts: dict[str, dict[str, bool | int | str]] = {
            name: {"plan.premium": p.premium, "plan.purchasable": p.purchasable,
                   "plan.monthly_allotment": p.monthly_allotment, "plan.cap": p.cap}
            for name, p in policy.plans.items()
        }

    def _load(self, u: Unit, name: str) -> AccountState | None:
        """Load (and lock) an account, with the ledger settings this policy needs."""
        acct = u.account(name, self._keep_spent)
        if acct is not None:
            acct.keep_spent = self._keep_spent
        return acct

    def _facts(self, acct: AccountState, prefix: str) -> dict[str, Any]:
        """The account facts of the catalog (``sender.*`` or ``account.*`` and ``plan.*``)."""
        facts: dict[str, Any] = dict(self._plan_facts[acct.plan])
        premium, plan, payment, balance = _NAMES[prefix]
        facts[premium] = acct.active and facts["plan.premium"]
        facts[plan] = acct.plan
        facts[payment] = acct.payment
        facts[balance] = acct.balance
        return facts

    def _next_due(self, acct: AccountState) -> dt.datetime | None:
        """The next instant something happens to the account by itself (None: nothing scheduled)."""
        due = ledger.next_expiry(acct)
        if acct.active and acct.next_renewal is not None and (due is None or acct.next_renewal < due):
            due = acct.next_renewal
        if acct.reminders and (due is None or acct.reminders[0][0] < due):
            due = acct.reminders[0][0]
        return due

    def _settle(self, u: Unit, acct: AccountState, t: dt.datetime) -> list[Decision]:
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
                    out.append(self._expire(acct, lot, due))
                ledger.prune(acct, due)
            if acct.active and acct.next_renewal == due:
                out.append(self._renew(acct, due))
            while acct.reminders and acct.reminders[0][0] <= due:
                _, _, msg_id = heapq.heappop(acct.reminders)
                msg = u.message(msg_id)
                if msg is not None and not msg.reminder_done:
                    out.append(self._remind(u, acct, msg, due))
            if due > acct.clock:
                acct.clock = due
            due = self._next_due(acct)
        acct.next_due = due
        return out

    def _system(self, acct: AccountState, verdict: Verdict, at: dt.datetime, start: int,
                message: str | None = None) -> Decision:
        return build(Decision, {
            "event": verdict.event, "at": at, "outcome": verdict.outcome, "reason": verdict.reason,
            "rule": verdict.rule, "requirements": verdict.requirements, "effects": verdict.effects,
            "revision": self._book.revision, "account": acct.name, "message": message, "status": None,
            "balance": acct.balance, "purchase_possible": None, "entries": tuple(acct.entries[start:]),
            "system_events": ()})

    def _expire(self, acct: AccountState, lot: LotRec, at: dt.datetime) -> Decision:
        """A lot with credits left reaches its expiry (R09)."""
        facts = self._facts(acct, "account")
        facts["lot.source"] = lot.source
        facts["lot.remaining"] = lot.remaining
        verdict = self._book.decide("expire", facts, checked=False)
        start = len(acct.entries)
        if "expire_lot" in verdict.effects:
            ledger.expire(acct, lot, at, Cause("expire", verdict.rule, verdict.requirements))
        return self._system(acct, verdict, at, start)

    def _renew(self, acct: AccountState, at: dt.datetime) -> Decision:
        """A billing-cycle renewal (or the start grant at ``since``) (R07, R08, R10, R11)."""
        verdict = self._book.decide("renew", self._facts(acct, "account"), checked=False)
        start = len(acct.entries)
        cause = Cause("renew", verdict.rule, verdict.requirements)
        plan = self.policy.plans[acct.plan]
        cap = self.policy.cap
        capping = "apply_cap" in verdict.effects
        if "grant_allotment" in verdict.effects:
            amount = plan.monthly_allotment
            if capping and cap.on_overflow == "trim_new" and "monthly" in cap.applies_to:
                amount = min(amount, ledger.room_under_cap(acct, plan.cap, cap.applies_to))
            expires = self._cal.add_days(at, self.policy.credits.lifetime_days)
            ledger.grant(acct, at, "monthly", amount, expires, "grant", cause)
        if capping and cap.on_overflow == "forfeit_oldest":
            ledger.forfeit_over_cap(acct, at, plan.cap, cap.applies_to, cause)
        if acct.start_pending and acct.next_renewal == acct.since:
            acct.start_pending = False
        else:
            acct.renew_k += 1
        acct.next_renewal = self._cal.add_months(acct.anchor, acct.renew_k)
        return self._system(acct, verdict, at, start)

    def _remind(self, u: Unit, acct: AccountState, msg: Any, at: dt.datetime) -> Decision:
        """The reminder of an InMail falls due (R06); the rules skip it once answered."""
        facts = self._facts(acct, "sender")
        facts["message.responded"] = msg.responded_at is not None
        verdict = self._book.decide("remind", facts, checked=False)
        if "send_reminder" in verdict.effects:
            msg.reminded_at = at
        msg.reminder_done = True
        u.update_message(msg)
        return self._system(acct, verdict, at, len(acct.entries), message=msg.id)
