"""The mutable records of one account that the engine works on during a call.

A store loads them (or keeps them, in memory), the engine and the ledger
change them, and the store persists what changed. They are engine state,
not the store's interface: the store only moves them in and out.

``AccountState.lots`` holds only the live lots (not yet expired); ``dirty``
and ``entries`` are what this unit of work changed, for the store to persist.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable
from typing import Any, Final

from engine.model import LedgerEntry, Lot


class LotRec:
    """A lot as the ledger mutates it (``remaining`` changes; the rest is fixed at grant)."""

    __slots__ = ("amount", "expires_at", "granted_at", "id", "remaining", "source")

    def __init__(
        self,
        id: int,
        source: str,
        amount: int,
        remaining: int,
        granted_at: dt.datetime,
        expires_at: dt.datetime,
    ) -> None:
        self.id = id
        self.source = source
        self.amount = amount
        self.remaining = remaining
        self.granted_at = granted_at
        self.expires_at = expires_at

    def order(self) -> tuple[dt.datetime, dt.datetime, int]:
        """Spend and forfeit order: soonest expiry, then earliest grant, then lot id."""
        return (self.expires_at, self.granted_at, self.id)

    def frozen(self, account: str, remaining: int | None = None) -> Lot:
        return Lot(
            self.id,
            account,
            self.source,
            self.amount,
            self.remaining if remaining is None else remaining,
            self.granted_at,
            self.expires_at,
        )


#: An account's fields (its ``__slots__``): what a store notes to undo a call, and restores.
ACCOUNT_FIELDS: Final = (
    "active",
    "anchor",
    "balance",
    "clock",
    "dirty",
    "entries",
    "keep_spent",
    "lots",
    "name",
    "next_due",
    "next_lot",
    "next_msg",
    "next_renewal",
    "next_seq",
    "payment",
    "plan",
    "prior",
    "reminders",
    "renew_k",
    "since",
    "start_pending",
)


class AccountState:
    """Everything the engine needs about one account to apply one event.

    ``active`` is the subscription running (false after a cancel); premium
    is derived from it and the plan. The renewal schedule is ``start_pending``
    (the grant at ``since`` is still due) and ``renew_k`` (the next month
    index from the anchor); ``next_renewal`` caches its instant.
    """

    __slots__ = ACCOUNT_FIELDS

    def __init__(self, name: str, plan: str, payment: str, since: dt.datetime, anchor: dt.datetime) -> None:
        self.name = name
        self.plan = plan
        self.payment = payment
        self.active = True
        self.since = since
        self.anchor = anchor
        self.clock = since
        self.start_pending = False
        self.renew_k = 0
        self.next_renewal: dt.datetime | None = None
        self.next_due: dt.datetime | None = None
        self.balance = 0
        self.next_lot = 1
        self.next_seq = 1
        self.next_msg = 1
        self.lots: list[LotRec] = []
        #: keep used-up lots in ``lots`` until they expire (only ``credit_back.lot: original`` refills them)
        self.keep_spent = True
        #: pending reminders as a heap of (reminder_at, message seq, message id)
        self.reminders: list[tuple[dt.datetime, int, str]] = []
        self.dirty: dict[int, LotRec] = {}
        #: each stored lot changed in this call, with what it held before (so a store can undo the call
        #: by touching only those lots, not every lot the account has)
        self.prior: dict[int, tuple[LotRec, int]] = {}
        self.entries: list[LedgerEntry] = []


class Cause:
    """Why entries are written: the event kind, the deciding rule, what it implements.

    A slotted class rather than a named tuple: one is made for every event, and the compiled
    build makes a slotted class a C struct.
    """

    __slots__ = ("event", "message", "requirements", "rule")

    def __init__(
        self, event: str, rule: str, requirements: tuple[str, ...], message: str | None = None
    ) -> None:
        self.event = event
        self.rule = rule
        self.requirements = requirements
        self.message = message


class MsgRec:
    """A message as the engine tracks it: an InMail or a free message to a connection.

    ``awaiting`` is the pair block (R05) set by ``await_response`` and
    cleared by ``release_pair``; ``lot`` is the lot its credit came from
    (for ``credit_back.lot: original``); ``reminder_done`` is set once the
    scheduled ``remind`` event has been decided, whatever its outcome.
    """

    __slots__ = (
        "awaiting",
        "credited",
        "id",
        "kind",
        "lot",
        "recipient",
        "reminded_at",
        "reminder_at",
        "reminder_done",
        "responded_at",
        "response_type",
        "sender",
        "sent_at",
        "seq",
        "status",
    )

    def __init__(
        self, id: str, seq: int, sender: str, recipient: str, kind: str, sent_at: dt.datetime
    ) -> None:
        self.id = id
        self.seq = seq
        self.sender = sender
        self.recipient = recipient
        self.kind = kind
        self.sent_at = sent_at
        self.lot: int | None = None
        self.awaiting = False
        self.responded_at: dt.datetime | None = None
        self.response_type: str | None = None
        self.status: str | None = None
        self.credited = False
        self.reminder_at: dt.datetime | None = None
        self.reminder_done = False
        self.reminded_at: dt.datetime | None = None


#: A message's fields, in the order of the plain tuple a store may keep it as (the in-memory store
#: reads them with ``attrgetter(*MSG_FIELDS)``, and :func:`message_from_row` makes the record again;
#: a tuple of plain values costs the garbage collector nothing once it is untracked).
MSG_FIELDS: Final = (
    "id",
    "seq",
    "sender",
    "recipient",
    "kind",
    "sent_at",
    "lot",
    "awaiting",
    "responded_at",
    "response_type",
    "status",
    "credited",
    "reminder_at",
    "reminder_done",
    "reminded_at",
)


def message_from_row(row: tuple[Any, ...]) -> MsgRec:
    """A :class:`MsgRec` from the tuple of its :data:`MSG_FIELDS`."""
    msg = MsgRec(row[0], row[1], row[2], row[3], row[4], row[5])
    (
        msg.lot,
        msg.awaiting,
        msg.responded_at,
        msg.response_type,
        msg.status,
        msg.credited,
        msg.reminder_at,
        msg.reminder_done,
        msg.reminded_at,
    ) = row[6:]
    return msg


def reminder_heap(entries: Iterable[tuple[dt.datetime, int, str]]) -> list[tuple[dt.datetime, int, str]]:
    """A heap of pending reminders (instant, send order, message id): earliest first, ties in send order."""
    heap = list(entries)
    heapq.heapify(heap)
    return heap
