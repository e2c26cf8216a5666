"""The embeddable engine: every call turns into facts, a verdict from the rules, and ledger effects.

An :class:`Engine` holds a policy, a :class:`~engine.rules.book.RuleBook` and a
store. A call (say ``send``) is one store transaction that

1. validates the arguments completely (an :class:`~engine.errors.InvalidCall`
   here writes nothing);
2. brings the acting account up to ``at``: the renewals, expiries and
   reminders due by then are raised as ``renew`` / ``expire`` / ``remind``
   events, in time order and, at one instant, expiries before renewals
   before reminders (:mod:`engine.core.timeline`);
3. computes the facts of the event's catalog entry, asks the rules, and
   applies the effects the deciding rule named through :mod:`engine.ledger.lots`.

The engine never chooses an outcome itself: what a call does to a balance is
always what a rule in ``rules/*.yaml`` said, and every ledger entry cites it.

Idempotency: a call with a ``key`` already used returns the Decision stored
under it (whatever the other arguments) and changes nothing; a call that
raised stores nothing, so it may be retried with the same key.

With ``credit_back.lot: original`` a response may come after the consumed
lot expired: the rules still decide ``credited_back``, and the ledger shows
a ``credit_back`` entry of amount 0 on that lot (note "original lot already
expired"): the credit is gone and the balance does not change.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from engine.core.timeline import Timeline
from engine.errors import InvalidCall
from engine.ledger import lots as ledger
from engine.ledger.lots import AccountState, Cause
from engine.model import Balance, Decision, LedgerEntry, Verdict, build
from engine.policy.load import Policy, load_policy
from engine.rules.book import RuleBook
from engine.rules.catalog import PAYMENT_STATUSES
from engine.source.marked import YMap
from engine.source.paths import resolve_policy, resolve_rules
from engine.store.base import MsgRec, Store, Unit, open_store

At = dt.datetime | dt.date | str


class Engine(Timeline):
    """InMail credits for an embedding app: decisions explained, balances exact, state in a store."""

    def __init__(self, store: Store, policy: Policy, book: RuleBook) -> None:
        super().__init__(policy, book)
        self._store = store

    @classmethod
    def open(cls, db: str | Path | None = None, policy: str | Path | Policy | None = None,
             rules: str | Path | None = None, policy_override: YMap | None = None,
             override_text: str = "") -> Engine:
        """Build an engine from files (default: ``./policies.yaml`` and ``./rules``, else the packaged ones).

        ``db``: None or ``"memory"`` for the in-process store, a file path or
        ``sqlite:///...`` for SQLite, ``postgresql://...`` for PostgreSQL.
        ``policy_override`` (a scenario's ``policy:`` mapping) is merged onto
        a policy read from a file; a ready :class:`Policy` is used as given.
        """
        if isinstance(policy, Policy):
            pol = policy
        else:
            pol = load_policy(resolve_policy(policy), policy_override, override_text)
        book = RuleBook.load(resolve_rules(rules), pol)
        try:
            store = open_store(db)
        except BaseException:
            book.close()
            raise
        return cls(store, pol, book)

    def reload(self, policy: str | Path | Policy | None = None, rules: str | Path | None = None) -> str:
        """Swap in a changed policy and/or rules; return the new revision.

        Everything is loaded and compiled first: a policy or rules file that
        fails validation raises (:class:`~engine.errors.InvalidPolicy` /
        :class:`~engine.errors.InvalidRules`) and the running policy stays in
        force, untouched. A policy that drops a plan some account is on is
        refused (``plan_in_use``), since those accounts could no longer be
        decided. Accounts and their ledgers carry over; the new numbers apply
        from the next call (allotments and caps at the next renewal). Call it
        between calls, not during one. ``None`` reloads from the default
        places (``./policies.yaml``, ``./rules``, else the packaged ones).
        """
        pol = policy if isinstance(policy, Policy) else load_policy(resolve_policy(policy))
        book = RuleBook.load(resolve_rules(rules), pol)
        try:
            with self._store.unit() as u:
                for name in self._store.accounts():
                    acct = u.account(name, self._keep_spent)
                    if acct is not None and acct.plan not in pol.plans:
                        raise InvalidCall(f"account `{name}` is on plan `{acct.plan}`, which the new "
                                          "policy no longer has", "plan_in_use")
        except BaseException:
            book.close()
            raise
        old = self._book
        Timeline.__init__(self, pol, book)
        old.close()
        return book.revision

    @property
    def revision(self) -> str:
        """Content hash of the policy and rules in force; every Decision carries it."""
        return self._book.revision

    # --- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the rule engine's memory and the database connections."""
        self._store.close()
        self._book.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- accounts ---------------------------------------------------------------------------

    def subscribe(self, account: str, plan: str, *, at: At, billing_anchor: At | None = None,
                  payment: str = "valid", key: str | None = None) -> Decision:
        """Start a subscription (opening the account if new); a canceled or Basic account starts afresh.

        Upgrading a Basic member is a new subscription (new start, anchor and
        start grant); moving between Premium plans is :meth:`change_plan`.

        The billing anchor (default ``at``) fixes the renewal dates (R07, R08):
        a seat assigned mid-cycle still renews on the anchor's day. With
        ``renewal.grant_on_start`` the start grant is a ``renew`` event at
        ``at`` that the subscription itself brings about: it is applied right
        after it, within this call, and listed in ``system_events`` (so
        ``Decision.balance`` already includes it).
        """
        t = self._cal.instant(at)
        anchor = t if billing_anchor is None else self._cal.instant(billing_anchor)
        self._check_plan(plan)
        self._check_payment(payment)
        with self._store.unit() as u:
            if (first := self._first(u, key)) is not None:
                return first
            acct = self._load(u, account)
            system: list[Decision] = []
            new = acct is None
            if acct is not None:
                if acct.active and self.policy.plans[acct.plan].premium:
                    raise InvalidCall(f"account `{account}` already has an active Premium subscription",
                                      "account_exists")
                self._check_clock(acct, t)
                system = self._settle(u, acct, t)
            else:  # facts of an account that is not subscribed yet: its plan to be, not premium
                acct = AccountState(account, plan, payment, t, anchor)
                acct.active = False
                acct.keep_spent = self._keep_spent
            verdict = self._book.decide("subscribe", self._facts(acct, "account"), checked=False)
            if new:
                u.new_account(acct)
            start = len(acct.entries)
            if "start_subscription" in verdict.effects:
                self._start(acct, plan, payment, t, anchor)
            return self._finish(u, acct, verdict, t, system, start, key)

    def _start(self, acct: AccountState, plan: str, payment: str, t: dt.datetime,
               anchor: dt.datetime) -> None:
        acct.plan, acct.payment, acct.active = plan, payment, True
        acct.since, acct.anchor = t, anchor
        acct.start_pending = self.policy.renewal.grant_on_start
        acct.renew_k = self._cal.first_renewal_index(anchor, t)
        acct.next_renewal = t if acct.start_pending else self._cal.add_months(anchor, acct.renew_k)

    def cancel(self, account: str, *, at: At, key: str | None = None) -> Decision:
        """Cancel the subscription: the rules forfeit the balance and stop renewals (R12)."""
        return self._simple("cancel", account, at, key, {})

    def change_plan(self, account: str, plan: str, *, at: At, key: str | None = None) -> Decision:
        """Move to ``plan``: eligibility at once; allotment and cap from the next renewal; lots kept."""
        self._check_plan(plan)
        premium = self.policy.plans[plan].premium
        return self._simple("change_plan", account, at, key, {"new_plan.premium": premium}, plan=plan)

    def set_payment(self, account: str, status: str, *, at: At, key: str | None = None) -> Decision:
        """Record the card on file as ``valid`` or ``expired`` (R03: expired blocks sends and purchases)."""
        self._check_payment(status)
        return self._simple("payment", account, at, key, {"payment.status": status}, status=status)

    def connect(self, account: str, other: str, *, at: At, key: str | None = None) -> Decision:
        """Make ``account`` and ``other`` 1st-degree connections, both ways (R04)."""
        if account == other:
            raise InvalidCall(f"`{account}` cannot connect to itself", "self_connection")
        return self._simple("connect", account, at, key, {}, other=other)

    def purchase(self, account: str, credits: int, *, at: At, key: str | None = None) -> Decision:
        """Buy ``credits`` extra credits, outside the cap, if the rules allow it (R17, R18)."""
        if type(credits) is not int or credits < 1:
            raise InvalidCall(f"credits to buy must be a positive whole number, got `{credits!r}`",
                              "invalid_quantity")
        return self._simple("purchase", account, at, key, {"purchase.credits": credits}, credits=credits)

    def _simple(self, event: str, account: str, at: At, key: str | None, extra: Mapping[str, Any],
                **arg: Any) -> Decision:
        """The account-level events: one acting account, facts = account facts + ``extra``."""
        t = self._cal.instant(at)
        with self._store.unit() as u:
            if (first := self._first(u, key)) is not None:
                return first
            acct = self._acting(u, account, t)
            system = self._settle(u, acct, t)
            facts = self._facts(acct, "account")
            facts.update(extra)
            verdict = self._book.decide(event, facts, checked=False)
            start = len(acct.entries)
            cause = Cause(event, verdict.rule, verdict.requirements)
            for effect in verdict.effects:
                self._account_effect(u, acct, effect, t, cause, arg)
            return self._finish(u, acct, verdict, t, system, start, key)

    def _account_effect(self, u: Unit, acct: AccountState, effect: str, t: dt.datetime, cause: Cause,
                        arg: Mapping[str, Any]) -> None:
        if effect == "forfeit_all":
            ledger.forfeit_all(acct, t, cause)
        elif effect == "end_subscription":
            acct.active = False
            acct.next_renewal = None
        elif effect == "change_plan":
            acct.plan = arg["plan"]
        elif effect == "set_payment":
            acct.payment = arg["status"]
        elif effect == "connect":
            u.connect(acct.name, arg["other"], t)
        elif effect == "grant_purchase":
            expires = self._cal.add_days(t, self.policy.purchase.credit_lifetime_days)
            ledger.grant(acct, t, "purchase", arg["credits"], expires, "purchase", cause)
        else:  # pragma: no cover - the rules loader only admits effects of engine.rules.catalog.EFFECTS
            raise AssertionError(f"effect {effect} is not implemented")

    # --- messages ---------------------------------------------------------------------------

    def send(self, sender: str, recipient: str, *, at: At, message_id: str | None = None,
             key: str | None = None) -> Decision:
        """May ``sender`` InMail ``recipient`` now? If the rules say so, the message goes out.

        A message to a connection is recorded as a free message (a response
        to it earns nothing back); a denied send records nothing.
        ``Decision.message`` is the message id (generated when not given).
        """
        t = self._cal.instant(at)
        with self._store.unit() as u:
            if (first := self._first(u, key)) is not None:
                return first
            acct = self._acting(u, sender, t)
            if message_id is not None and u.message_exists(message_id):
                raise InvalidCall(f"a message `{message_id}` already exists", "message_exists")
            system = self._settle(u, acct, t)
            facts = self._facts(acct, "sender")
            facts["recipient.connected"] = u.connected(sender, recipient)
            facts["pair.awaiting_response"] = u.awaiting(sender, recipient)
            verdict = self._book.decide("send", facts, checked=False)
            start = len(acct.entries)
            effects = verdict.effects
            if verdict.outcome == "denied":
                return self._finish(u, acct, verdict, t, system, start, key, message=message_id,
                                    purchase_possible="offer_purchase" in effects)
            msg_id = message_id if message_id is not None else self._new_id(u, acct)
            msg = MsgRec(msg_id, acct.next_msg, sender, recipient,
                         "free" if verdict.outcome == "sent_free" else "inmail", t)
            acct.next_msg += 1
            cause = Cause("send", verdict.rule, verdict.requirements, msg_id)
            if "consume_credit" in effects:
                lot = ledger.consume(acct, t, cause)
                msg.lot = None if lot is None else lot.id
            if "await_response" in effects:
                msg.awaiting = True
            if "schedule_reminder" in effects:
                msg.reminder_at = self._cal.add_days(t, self.policy.reminder.after_days)
                heapq.heappush(acct.reminders, (msg.reminder_at, msg.seq, msg_id))
            u.add_message(msg)
            return self._finish(u, acct, verdict, t, system, start, key, message=msg_id,
                                purchase_possible="offer_purchase" in effects)

    def _new_id(self, u: Unit, acct: AccountState) -> str:
        """A message id no message has yet: ``<sender>/<n>``, n counting the sender's messages."""
        n = acct.next_msg
        while u.message_exists(f"{acct.name}/{n}"):
            n += 1
        return f"{acct.name}/{n}"

    def respond(self, message_id: str, response_type: str, *, at: At, key: str | None = None) -> Decision:
        """The recipient responds; the rules decide whether the sender gets the credit back (R13-R16).

        ``Decision.status`` is how the response records the message
        (``responses`` in the policy: replied, accepted or declined); the
        acting account is the sender, whose balance may change.
        """
        t = self._cal.instant(at)
        status = self.policy.responses.get(response_type)
        if status is None:
            raise InvalidCall(f"unknown response type `{response_type}`; known: "
                              f"{', '.join(sorted(self.policy.responses))}", "unknown_response_type")
        with self._store.unit() as u:
            if (first := self._first(u, key)) is not None:
                return first
            msg = u.message(message_id)
            if msg is None:
                raise InvalidCall(f"no message `{message_id}`", "unknown_message")
            acct = self._acting(u, msg.sender, t)
            system = self._settle(u, acct, t)
            window = self.policy.credit_back.window_days
            facts = self._facts(acct, "sender")
            facts.update({
                "message.kind": msg.kind,
                "message.responded": msg.responded_at is not None,
                "message.age_days": self._cal.whole_days(msg.sent_at, t),
                "response.type": response_type,
                "response.status": status,
                "response.within_window": self._cal.within(msg.sent_at, t, window),
            })
            verdict = self._book.decide("respond", facts, checked=False)
            start = len(acct.entries)
            cause = Cause("respond", verdict.rule, verdict.requirements, msg.id)
            for effect in verdict.effects:
                if effect == "record_response" and msg.responded_at is None:
                    msg.responded_at, msg.response_type, msg.status = t, response_type, status
                elif effect == "release_pair":
                    msg.awaiting = False
                elif effect == "credit_back":
                    self._credit_back(acct, msg, t, cause)
            u.update_message(msg)
            return self._finish(u, acct, verdict, t, system, start, key, message=msg.id, status=status)

    def _credit_back(self, acct: AccountState, msg: MsgRec, t: dt.datetime, cause: Cause) -> None:
        msg.credited = True
        if self.policy.credit_back.lot == "original":
            ledger.credit_back_original(acct, msg.lot, t, cause)
        else:
            expires = self._cal.add_days(t, self.policy.credits.lifetime_days)
            ledger.grant(acct, t, "credit_back", 1, expires, "credit_back", cause)

    # --- time and queries -------------------------------------------------------------------

    def advance(self, to: At) -> list[Decision]:
        """Apply every account's renewals, expiries and reminders due up to ``to``, in time order.

        Only accounts with something due are touched (each store keeps the
        next due instant per account), each in its own transaction.
        """
        t = self._cal.instant(to)
        out: list[Decision] = []
        for name in self._store.due_accounts(t):
            with self._store.unit() as u:
                acct = self._load(u, name)
                if acct is None:
                    continue
                out.extend(self._settle(u, acct, t))
                u.save(acct)
        out.sort(key=lambda d: d.at)  # stable: at one instant, accounts by name, each in DESIGN order
        return out

    def balance(self, account: str, at: At | None = None) -> Balance:
        """Usable credits and the lots behind them at ``at`` (R19); default: the account's clock.

        At or before the account's clock the answer is rebuilt from the
        ledger (the past does not change); later, the account is first
        brought up to ``at``, which applies what fell due meanwhile.
        """
        t = None if at is None else self._cal.instant(at)
        with self._store.unit() as u:
            acct = self._load(u, account)
            if acct is None:
                raise InvalidCall(f"no account `{account}`", "unknown_account")
            if t is None or t == acct.clock:
                return ledger.current_balance(acct, acct.clock)
            if t > acct.clock:
                if self._settle(u, acct, t):
                    u.save(acct)
                return ledger.current_balance(acct, t)
        lots, entries = self._store.lots_and_entries(account, t)
        return ledger.balance_at(account, t, lots, entries)

    def history(self, account: str) -> list[LedgerEntry]:
        """Every ledger entry of ``account``, oldest first (the append-only record of its credits)."""
        found = self._store.history(account)
        if found is None:
            raise InvalidCall(f"no account `{account}`", "unknown_account")
        return found

    def reminded(self, at: At | None = None) -> list[str]:
        """Ids of messages reminded at or before ``at`` (every account advanced to ``at`` first)."""
        if at is None:
            return self._store.reminded(None)
        t = self._cal.instant(at)
        self.advance(t)
        return self._store.reminded(t)

    def accounts(self) -> list[str]:
        """Every account the store holds, by name."""
        return self._store.accounts()

    def decide(self, event: str, facts: Mapping[str, bool | int | str]) -> Verdict:
        """Ask the rules directly, with facts given by the caller (``inmail decide``); changes nothing."""
        return self._book.decide(event, facts)

    # --- plumbing ---------------------------------------------------------------------------

    def _first(self, u: Unit, key: str | None) -> Decision | None:
        return None if key is None else u.recorded(key)

    def _acting(self, u: Unit, name: str, t: dt.datetime) -> AccountState:
        acct = self._load(u, name)
        if acct is None:
            raise InvalidCall(f"no account `{name}`", "unknown_account")
        self._check_clock(acct, t)
        return acct

    @staticmethod
    def _check_clock(acct: AccountState, t: dt.datetime) -> None:
        if t < acct.clock:
            raise InvalidCall(f"`{t.isoformat()}` is before the last instant of account `{acct.name}` "
                              f"({acct.clock.isoformat()}); events must not go back in time",
                              "time_went_back")

    def _check_plan(self, plan: str) -> None:
        if plan not in self.policy.plans:
            raise InvalidCall(f"unknown plan `{plan}`; plans: {', '.join(self.policy.plans)}", "unknown_plan")

    @staticmethod
    def _check_payment(status: str) -> None:
        if status not in PAYMENT_STATUSES:
            raise InvalidCall(f"payment status must be `valid` or `expired`, got `{status}`",
                              "invalid_payment_status")

    def _finish(self, u: Unit, acct: AccountState, verdict: Verdict, t: dt.datetime, system: list[Decision],
                start: int, key: str | None, message: str | None = None, status: str | None = None,
                purchase_possible: bool | None = None) -> Decision:
        """Close the event: apply what it made due at ``t`` itself, save, build and remember the Decision."""
        entries = tuple(acct.entries[start:])
        acct.clock = t
        acct.next_due = self._next_due(acct)
        if acct.next_due is not None and acct.next_due <= t:  # e.g. the start grant of a subscription
            system = [*system, *self._settle(u, acct, t)]
        decision = build(Decision, {
            "event": verdict.event, "at": t, "outcome": verdict.outcome, "reason": verdict.reason,
            "rule": verdict.rule, "requirements": verdict.requirements, "effects": verdict.effects,
            "revision": self._book.revision, "account": acct.name, "message": message, "status": status,
            "balance": acct.balance, "purchase_possible": purchase_possible, "entries": entries,
            "system_events": tuple(system)})
        u.save(acct)
        if key is not None:
            u.remember(key, acct.name, decision)
        return decision
