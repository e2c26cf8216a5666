"""The replay floor: the synthetic year played by hand, with plain Python data and no engine.

Issue 31 asks how far the engine's cost per event is from what the same work
costs without it. This module is that "without": the contract of
docs/semantics.md for the calls the synthetic year makes (subscribe, connect,
send, respond, purchase, payment, cancel, change_plan), written the way a
team would write it for speed: instants as integer seconds, an account as
one slotted record, lots as ``[expires, remaining, capped, id]`` lists kept
in spend order, decisions as integer codes. It keeps what the contract
keeps: the append-only ledger (one entry per change, per account: what R19
rebuilds past balances from), the messages, and the event log (one record
per decided call, and per account an ``advance`` moved), each kept as a tuple
of plain values, which the garbage collector stops tracking. The lists that
hold them are still tracked, and a full collection reads every element of
them, so its cost grows with the rows over the year (bench/RESULTS.md, "The
collector's part, by size", measures it). It has no rule book, no store, no
argument checks, no idempotency keys and no Decision objects.
``bench/run.py`` times it beside the engine's in-memory replay of the same
year and reports the ratio, and ``tests/bench/test_floor.py`` holds it to the
engine's balances, ledgers, log and decision counts, so the floor cannot get
fast by getting the contract wrong.

It covers the shipped policy's choices only (UTC, ``cap.on_overflow:
forfeit_oldest``, ``credit_back.lot: new``); the numbers (allotments, caps,
lifetimes, windows, the reminder delay, which sources count toward the cap)
are read from the policy once, at start. It refuses any other policy rather
than answer for it wrongly.

``bench/replay.py`` (``replay_floor``) times it as it times the engine: only
the time inside each call (and the final drain) counts, the generation of
the year does not; the floor is handed the same
:class:`~engine.impact.synthetic.Call` values (datetimes, argument dicts),
so turning them into its own form is its work.

    python bench/replay.py ACCOUNTS floor     # the year through the floor: one JSON row
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.policy import Policy  # the numbers are read from it once, in Floor()

_UTC = dt.UTC
_DAY = 86400
INF = 1 << 62  # "never": a due instant later than any call

#: What a call or a system event decided, as the index of its tally; REFUSED: the engine would raise
#: ``InvalidCall`` (an unknown message, an active Premium account subscribing again ...).
_OUTCOME_NAMES = """refused subscribe/subscribed connect/connected payment/payment_updated
    change_plan/plan_changed cancel/canceled send/sent send/sent_free send/denied/upgrade_required
    send/denied/update_payment_required send/denied/awaiting_response send/denied/no_credits
    respond/credited_back respond/not_credited/not_inmail respond/not_credited/already_responded
    respond/not_credited/late_response respond/not_credited/not_premium purchase/purchased
    purchase/denied/upgrade_required purchase/denied/not_purchasable
    purchase/denied/update_payment_required expire/expired renew/renewed renew/skipped/not_premium
    remind/reminded remind/skipped/already_responded"""
OUTCOMES = tuple(_OUTCOME_NAMES.split())
REFUSED, SUBSCRIBED, CONNECTED, PAYMENT_UPDATED, PLAN_CHANGED, CANCELED = range(6)
SENT, SENT_FREE, SEND_UPGRADE, SEND_PAYMENT, SEND_AWAITING, SEND_NO_CREDITS = range(6, 12)
CREDITED_BACK, NOT_INMAIL, ALREADY_RESPONDED, LATE_RESPONSE, NOT_PREMIUM = range(12, 17)
PURCHASED, PURCHASE_UPGRADE, PURCHASE_NOT_PURCHASABLE, PURCHASE_PAYMENT = range(17, 21)
EXPIRED, RENEWED, RENEW_SKIPPED, REMINDED, REMIND_SKIPPED = range(21, 26)
assert (
    len(OUTCOMES) == 26 and OUTCOMES[SENT_FREE] == "send/sent_free" and OUTCOMES[EXPIRED] == "expire/expired"
)
#: The system events (raised by time passing, not by a caller): counted inside the floor.
SYSTEM = range(EXPIRED, len(OUTCOMES))

#: The kinds of ledger entry (docs/semantics.md, "Lots and the ledger"), by code.
ENTRY_KINDS = ("grant", "consume", "credit_back", "expire", "forfeit_cap", "forfeit_cancel", "purchase")
GRANT, CONSUME, CREDIT_BACK, EXPIRE, FORFEIT_CAP, FORFEIT_CANCEL, PURCHASE = range(len(ENTRY_KINDS))

# The state of a message (the last field of its tuple):
_WAITING, _ANSWERED, _FREE = 0, 1, 2

# Month arithmetic on integers (the engine's Calendar.add_months for UTC): the first second of each
# month since 1970, and its length, by month number (year * 12 + month - 1) - _M0.
_M0 = 1970 * 12
_MONTH_START: list[int] = []
_MONTH_DAYS: list[int] = []
for _m in range(_M0, 2400 * 12):
    _y, _mo = divmod(_m, 12)
    _first = dt.datetime(_y, _mo + 1, 1, tzinfo=_UTC)
    _next = dt.datetime(_y + (_mo == 11), 1 if _mo == 11 else _mo + 2, 1, tzinfo=_UTC)
    _MONTH_START.append(int(_first.timestamp()))
    _MONTH_DAYS.append((_next - _first).days)


def add_months(month: int, day: int, second: int, k: int) -> int:
    """The anchor (month number, day of month, second of day) plus ``k`` months, clipped to month end."""
    m = month + k - _M0
    return _MONTH_START[m] + (min(day, _MONTH_DAYS[m]) - 1) * _DAY + second


class Account:
    """One account: the facts its decisions read and the lots its balance is made of.

    ``lots`` holds only lots with credits left, in spend order (soonest expiry, then grant order),
    so a send takes from ``lots[0]`` and the next expiry is ``lots[0][0]``. ``renew`` is the next
    renewal instant (INF once canceled); ``due`` is never later than the next thing that falls due,
    so an account with nothing due costs one comparison.
    """

    __slots__ = (
        "active",
        "anchor",
        "awaiting",
        "bal",
        "due",
        "entries",
        "expired",
        "k",
        "lots",
        "next_lot",
        "pending",
        "plan",
        "prem",
        "reminders",
        "renew",
        "since",
    )

    def __init__(self) -> None:
        self.active = self.prem = self.expired = self.pending = False
        self.plan: tuple[bool, bool, int, int] = (False, False, 0, 0)
        self.bal = self.k = self.since = 0
        self.anchor = (0, 0, 0)
        self.renew = self.due = INF
        self.lots: list[list[int]] = []
        self.next_lot = 1
        #: the ledger: (at, kind, lot id, amount, balance after), oldest first, never changed
        self.entries: list[tuple[int, int, int, int, int]] = []
        self.awaiting: set[str] = set()  # recipients with an unanswered InMail from this account
        self.reminders: deque[tuple[int, str]] = deque()  # (instant, message id), in send order


class Floor:
    """The contract by hand: :meth:`call` decides one call (an outcome code), :meth:`advance` drains."""

    def __init__(self, policy: Policy) -> None:
        if str(policy.timezone) != "UTC" or policy.cap.on_overflow != "forfeit_oldest":
            raise ValueError("the floor models UTC and cap.on_overflow: forfeit_oldest only")
        if policy.credit_back.lot != "new":
            raise ValueError("the floor models credit_back.lot: new only")
        #: plan name -> (premium, purchasable, monthly allotment, cap)
        self.plans = {
            name: (p.premium, p.purchasable, p.monthly_allotment, p.cap) for name, p in policy.plans.items()
        }
        capped = set(policy.cap.applies_to)
        self.capped_monthly = "monthly" in capped
        self.capped_back = "credit_back" in capped
        self.capped_bought = "purchase" in capped
        self.lifetime = policy.credits.lifetime_days * _DAY
        self.bought_lifetime = policy.purchase.credit_lifetime_days * _DAY
        self.window = policy.credit_back.window_days * _DAY
        self.remind_after = policy.reminder.after_days * _DAY
        self.grant_on_start = policy.renewal.grant_on_start
        self.accounts: dict[str, Account] = {}
        #: message id -> (sender, sent at, recipient, state)
        self.messages: dict[str, tuple[str, int, str, int]] = {}
        self.connections: dict[str, set[str]] = {}
        #: the event log: (at, event, outcome, *argument values) per decided call, (at, "advance", 0,
        #: account) per account an advance moved; refused calls are not logged (docs/semantics.md, Calls)
        self.log: list[tuple[Any, ...]] = []
        #: how many of each outcome the system events had (the callers' are the return values)
        self.tally = [0] * len(OUTCOMES)
        self._handlers = {
            "send": self._send,
            "respond": self._respond,
            "subscribe": self._subscribe,
            "connect": self._connect,
            "payment": self._payment,
            "purchase": self._purchase,
            "cancel": self._cancel,
            "change_plan": self._change_plan,
        }

    # --- time passing ---------------------------------------------------------------------------

    def _settle(self, a: Account, t: int) -> None:
        """Everything due at or before ``t``: at each instant expiries, the renewal, then reminders."""
        tally, lots, reminders, messages = self.tally, a.lots, a.reminders, self.messages
        due = a.due
        while due <= t:
            while lots and lots[0][0] == due:  # every lot held has credits left: each one expires
                lot = lots.pop(0)
                a.bal -= lot[1]
                a.entries.append((due, EXPIRE, lot[3], -lot[1], a.bal))
                tally[EXPIRED] += 1
            if a.renew == due:
                self._renew(a, due)
            while reminders and reminders[0][0] <= due:
                tally[REMIND_SKIPPED if messages[reminders.popleft()[1]][3] else REMINDED] += 1
            due = a.renew
            if lots and lots[0][0] < due:
                due = lots[0][0]
            if reminders and reminders[0][0] < due:
                due = reminders[0][0]
        a.due = due

    def _renew(self, a: Account, at: int) -> None:
        """A renewal: the allotment and the cap on a Premium plan, nothing otherwise; then the next one."""
        if a.prem:
            _, _, allotment, cap = a.plan
            if allotment > 0:
                self._grant(a, at, at + self.lifetime, allotment, self.capped_monthly, GRANT)
            excess = sum(lot[1] for lot in a.lots if lot[2]) - cap
            if excess > 0:  # forfeit_oldest: capped credits above the cap go, soonest expiry first
                lots, i = a.lots, 0
                while excess:
                    lot = lots[i]
                    if not lot[2]:
                        i += 1
                        continue
                    n = lot[1] if lot[1] <= excess else excess
                    lot[1] -= n
                    a.bal -= n
                    a.entries.append((at, FORFEIT_CAP, lot[3], -n, a.bal))
                    excess -= n
                    if lot[1]:
                        i += 1
                    else:
                        del lots[i]
            self.tally[RENEWED] += 1
        else:
            self.tally[RENEW_SKIPPED] += 1
        if a.pending and a.renew == a.since:  # the start grant: the first monthly renewal is still k
            a.pending = False
        else:
            a.k += 1
        a.renew = add_months(*a.anchor, a.k)

    def _grant(self, a: Account, at: int, expires: int, n: int, capped: bool, kind: int) -> None:
        """A new lot, placed in spend order (after every lot expiring no later: they were granted first)."""
        lots = a.lots
        i = len(lots)
        while i and lots[i - 1][0] > expires:
            i -= 1
        lots.insert(i, [expires, n, capped, a.next_lot])
        a.bal += n
        a.entries.append((at, kind, a.next_lot, n, a.bal))
        a.next_lot += 1
        if expires < a.due:
            a.due = expires

    def advance(self, at: dt.datetime) -> None:
        """What falls due after the last call, up to ``at`` (as ``Engine.advance``)."""
        t = int(at.timestamp())
        tally, log, accounts = self.tally, self.log, self.accounts
        for name in sorted(name for name, a in accounts.items() if a.due <= t):  # by name, as the engine
            before = sum(tally)
            self._settle(accounts[name], t)
            if sum(tally) != before:
                log.append((t, "advance", 0, name))

    # --- calls ----------------------------------------------------------------------------------

    def call(self, event: str, args: dict[str, Any], at: dt.datetime) -> int:
        """Decide one call of the year at ``at``; its outcome code (REFUSED: the engine would raise)."""
        t = int(at.timestamp())
        outcome = self._handlers[event](args, t)
        if outcome:  # not REFUSED
            self.log.append((t, event, outcome, *args.values()))
        return outcome

    def _acting(self, name: str, t: int) -> Account | None:
        a = self.accounts.get(name)
        if a is not None and a.due <= t:
            self._settle(a, t)
        return a

    def _send(self, args: dict[str, Any], t: int) -> int:
        sender, recipient, mid = args["sender"], args["recipient"], args["message_id"]
        a = self.accounts.get(sender)
        if a is None or mid in self.messages:
            return REFUSED
        if a.due <= t:
            self._settle(a, t)
        conns = self.connections.get(sender)
        if conns is not None and recipient in conns:
            self.messages[mid] = (sender, t, recipient, _FREE)
            return SENT_FREE
        if not a.prem:
            return SEND_UPGRADE
        if a.expired:
            return SEND_PAYMENT
        if recipient in a.awaiting:
            return SEND_AWAITING
        if a.bal < 1:
            return SEND_NO_CREDITS
        lots = a.lots  # after settling, lots[0] is usable and expires soonest
        lot = lots[0]
        lot[1] -= 1
        if not lot[1]:
            del lots[0]
        a.bal -= 1
        a.entries.append((t, CONSUME, lot[3], -1, a.bal))
        self.messages[mid] = (sender, t, recipient, _WAITING)
        a.awaiting.add(recipient)
        due = t + self.remind_after
        a.reminders.append((due, mid))  # sends come in time order and the delay is fixed: FIFO
        if due < a.due:
            a.due = due
            if due <= t:  # reminder.after_days: 0 reminds within the send
                self._settle(a, t)
        return SENT

    def _respond(self, args: dict[str, Any], t: int) -> int:
        mid = args["message_id"]
        msg = self.messages.get(mid)
        if msg is None:
            return REFUSED  # unknown_message: the send was denied, so no message exists
        a = self.accounts[msg[0]]
        if a.due <= t:
            self._settle(a, t)
        state = msg[3]
        if state == _FREE:
            return NOT_INMAIL
        if state == _ANSWERED:
            return ALREADY_RESPONDED
        self.messages[mid] = (msg[0], msg[1], msg[2], _ANSWERED)
        a.awaiting.discard(msg[2])
        if t > msg[1] + self.window:
            return LATE_RESPONSE
        if not a.prem:
            return NOT_PREMIUM
        self._grant(a, t, t + self.lifetime, 1, self.capped_back, CREDIT_BACK)
        return CREDITED_BACK

    def _subscribe(self, args: dict[str, Any], t: int) -> int:
        name = args["account"]
        a = self.accounts.get(name)
        if a is None:
            a = self.accounts[name] = Account()
        elif a.prem:
            return REFUSED  # account_exists
        elif a.due <= t:
            self._settle(a, t)
        a.plan = plan = self.plans[args["plan"]]
        a.active, a.prem = True, plan[0]
        a.expired = args.get("payment", "valid") == "expired"
        a.since = t
        anchor_at = args.get("billing_anchor")
        anchor = t if anchor_at is None else int(anchor_at.timestamp())
        a.anchor = _anchor(anchor)
        k = 1 if anchor == t else _first_renewal(a.anchor, t)
        a.k, a.pending = k, self.grant_on_start
        a.renew = t if a.pending else add_months(*a.anchor, k)
        if a.renew < a.due:
            a.due = a.renew
        if a.due <= t:
            self._settle(a, t)
        return SUBSCRIBED

    def _connect(self, args: dict[str, Any], t: int) -> int:
        name, other = args["account"], args["other"]
        if self._acting(name, t) is None:
            return REFUSED
        self.connections.setdefault(name, set()).add(other)
        self.connections.setdefault(other, set()).add(name)
        return CONNECTED

    def _payment(self, args: dict[str, Any], t: int) -> int:
        a = self._acting(args["account"], t)
        if a is None:
            return REFUSED
        a.expired = args["status"] == "expired"
        return PAYMENT_UPDATED

    def _purchase(self, args: dict[str, Any], t: int) -> int:
        a = self._acting(args["account"], t)
        if a is None:
            return REFUSED
        if not a.prem:
            return PURCHASE_UPGRADE
        if not a.plan[1]:
            return PURCHASE_NOT_PURCHASABLE
        if a.expired:
            return PURCHASE_PAYMENT
        self._grant(a, t, t + self.bought_lifetime, args["credits"], self.capped_bought, PURCHASE)
        return PURCHASED

    def _cancel(self, args: dict[str, Any], t: int) -> int:
        a = self._acting(args["account"], t)
        if a is None:
            return REFUSED
        entries = a.entries
        for lot in a.lots:  # forfeit_all, in spend order
            a.bal -= lot[1]
            entries.append((t, FORFEIT_CANCEL, lot[3], -lot[1], a.bal))
        a.lots.clear()  # a due left early by this is harmless: settling finds nothing then
        a.active = a.prem = False
        a.renew = INF
        return CANCELED

    def _change_plan(self, args: dict[str, Any], t: int) -> int:
        a = self._acting(args["account"], t)
        if a is None:
            return REFUSED
        a.plan = self.plans[args["plan"]]
        a.prem = a.active and a.plan[0]
        return PLAN_CHANGED

    # --- results --------------------------------------------------------------------------------

    def balances(self) -> dict[str, int]:
        """Every account's credits now (after :meth:`advance` to the last call's instant)."""
        return {name: a.bal for name, a in self.accounts.items()}


def _anchor(t: int) -> tuple[int, int, int]:
    """A billing anchor as add_months takes it: (month number, day of month, second of day)."""
    d = dt.datetime.fromtimestamp(t, _UTC)
    return d.year * 12 + d.month - 1, d.day, d.hour * 3600 + d.minute * 60 + d.second


def _first_renewal(anchor: tuple[int, int, int], since: int) -> int:
    """The smallest k with anchor + k months strictly after ``since`` (Calendar.first_renewal_index)."""
    k = _anchor(since)[0] - anchor[0] - 1
    while add_months(*anchor, k) <= since:
        k += 1
    while add_months(*anchor, k - 1) > since:
        k -= 1
    return k


def outcomes(floor: Floor) -> dict[str, int]:
    """The floor's tally by outcome name (``event/outcome[/reason]``), the outcomes that occurred."""
    return {name: n for name, n in zip(OUTCOMES, floor.tally, strict=True) if n}
