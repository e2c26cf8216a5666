"""Plain, frozen records that cross the public API: verdicts, decisions, lots, entries.

They carry no behaviour so that an embedding app can store, compare and
serialise them freely (``to_dict`` gives JSON-ready values).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

_R = TypeVar("_R")


@dataclass(frozen=True)
class Verdict:
    """What the rules decided for one event: the first matching rule's ``then``."""

    event: str
    outcome: str
    reason: str | None
    effects: tuple[str, ...]
    rule: str
    requirements: tuple[str, ...]


@dataclass(frozen=True)
class Lot:
    """A batch of credits that share a grant instant, an expiry and a source."""

    id: int
    account: str
    source: str  # monthly | credit_back | purchase
    amount: int
    remaining: int
    granted_at: dt.datetime
    expires_at: dt.datetime

    def usable_at(self, at: dt.datetime) -> bool:
        """Whether these credits can be spent at ``at`` (see :func:`usable_at`)."""
        return usable_at(self, at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, the one every door shows (``inmail balance``, the service's balance)."""
        return {
            "id": self.id,
            "source": self.source,
            "amount": self.amount,
            "remaining": self.remaining,
            "granted_at": self.granted_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


class _Span(Protocol):
    @property
    def granted_at(self) -> dt.datetime: ...

    @property
    def expires_at(self) -> dt.datetime: ...


def usable_at(lot: _Span, at: dt.datetime) -> bool:
    """A lot is usable from its grant (inclusive) until its expiry (exclusive).

    The one statement of that rule: the ledger, the stores and the public
    :class:`Lot` all ask here, so "usable" cannot mean two things.
    """
    return lot.granted_at <= at < lot.expires_at


@dataclass(frozen=True)
class LedgerEntry:
    """One append-only change to an account's credits, citing what caused it."""

    seq: int
    account: str
    at: dt.datetime
    kind: str  # grant | consume | credit_back | expire | forfeit_cap | forfeit_cancel | purchase
    lot: int | None
    amount: int  # signed: + adds credits, - removes them
    balance_after: int
    event: str
    rule: str
    requirements: tuple[str, ...] = ()
    message: str | None = None  # the message whose send or response caused the change
    note: str = ""  # e.g. why a credit back to an expired lot added nothing

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (instants as ISO 8601 text): the one ``inmail history --format json`` and
        ``GET /v1/accounts/{account}/history`` both show.

        Written out field by field: ``dataclasses.asdict`` deep-copies every value and cost a
        quarter of an HTTP call's time; a test holds the two equal.
        """
        return {
            "seq": self.seq,
            "account": self.account,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "lot": self.lot,
            "amount": self.amount,
            "balance_after": self.balance_after,
            "event": self.event,
            "rule": self.rule,
            "requirements": list(self.requirements),
            "message": self.message,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LedgerEntry:
        """Inverse of ``asdict`` + ISO instants (how stores keep entries as text)."""
        return cls(**{**data, "at": _instant(data["at"]), "requirements": tuple(data["requirements"])})


@dataclass(frozen=True)
class LoggedCall:
    """One decided call as the store's event log keeps it; refused calls are not logged.

    ``args`` are the call's arguments by name, as JSON values (instants as
    UTC ISO text), so the call can be made again: ``engine.call(method,
    args without "at", at=args["at"], key=key)``. ``outcome`` .. ``message`` say what was
    decided, ``revision`` under which policy and rules.
    """

    seq: int
    at: dt.datetime
    method: str
    account: str
    args: dict[str, Any]
    key: str | None
    outcome: str
    reason: str | None
    rule: str
    message: str | None
    revision: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``inmail log`` line and the stores' row, with ``at`` as ISO text)."""
        return {**{f: getattr(self, f) for f in _LOGGED_FIELDS}, "at": self.at.isoformat()}


def once_per_advance(log: Iterable[LoggedCall]) -> Iterator[LoggedCall]:
    """The log as calls to make again: an ``advance`` is logged for each account it moved, and made
    again once (the first of a run of records with the same instant brings every account there)."""
    advanced = None
    for c in log:
        if c.method == "advance":
            if c.args["to"] == advanced:
                continue
            advanced = c.args["to"]
        else:
            advanced = None
        yield c


class LogRecord(NamedTuple):
    """A decided call as the engine hands it to a store's event log: :class:`LoggedCall` but its
    ``seq``, which the store gives. Instants (``at``, and any in the args) are datetimes here,
    turned into text only when a store writes or shows them."""

    at: dt.datetime
    method: str
    account: str
    args: dict[str, Any]
    key: str | None
    outcome: str
    reason: str | None
    rule: str
    message: str | None
    revision: str


#: The order of a call's fields as the engine hands them to a store's log: LoggedCall's, but ``seq``.
LOG_RECORD = LogRecord._fields
_LOGGED_FIELDS = ("seq", *LOG_RECORD)


def logged_call(seq: int, record: LogRecord) -> LoggedCall:
    """The record of a call as a store kept it (instants may be datetimes)."""
    fields = record._asdict()
    args: Mapping[str, Any] = fields["args"]
    fields["args"] = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in args.items()}
    return build(LoggedCall, {**fields, "seq": seq})


@dataclass(frozen=True)
class Balance:
    """Usable credits at an instant, and the lots behind them (R19)."""

    account: str
    at: dt.datetime
    credits: int
    lots: tuple[Lot, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``inmail balance --format json`` and ``GET .../balance`` give this."""
        return {
            "account": self.account,
            "at": self.at.isoformat(),
            "credits": self.credits,
            "lots": [lot.to_dict() for lot in self.lots],
        }


@dataclass(frozen=True)
class Decision:
    """The engine's answer to one event, explained.

    ``rule`` and ``requirements`` name the rule that decided and what it
    implements; ``revision`` identifies the policy and rules that were in
    force; ``system_events`` are the renewals, expiries and reminders that
    fell due before this event and were applied first. ``id`` is the call's
    ``seq`` in the store's event log (what ``inmail log`` shows; None for a
    system event, or an engine that keeps no log): an app quotes it to find
    the call again, and an idempotent retry returns the same one.
    """

    event: str
    at: dt.datetime
    outcome: str
    reason: str | None
    rule: str
    requirements: tuple[str, ...]
    effects: tuple[str, ...]
    revision: str
    account: str | None = None
    message: str | None = None
    status: str | None = None
    balance: int | None = None
    purchase_possible: bool | None = None
    entries: tuple[LedgerEntry, ...] = ()
    system_events: tuple[Decision, ...] = field(default=())
    id: int | None = None
    #: True for the answer a retry got back from its idempotency key: the first call's, unchanged
    #: (not part of the stored or JSON form)
    replayed: bool = field(default=False, compare=False)

    @property
    def rules(self) -> tuple[str, ...]:
        """Every rule that fired for this call, system events first."""
        return (*tuple(r for d in self.system_events for r in d.rules), self.rule)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (instants as ISO 8601 text); field by field, like :meth:`LedgerEntry.to_dict`."""
        return {
            "event": self.event,
            "at": self.at.isoformat(),
            "outcome": self.outcome,
            "reason": self.reason,
            "rule": self.rule,
            "requirements": list(self.requirements),
            "effects": list(self.effects),
            "revision": self.revision,
            "account": self.account,
            "message": self.message,
            "status": self.status,
            "balance": self.balance,
            "purchase_possible": self.purchase_possible,
            "entries": [e.to_dict() for e in self.entries],
            "system_events": [d.to_dict() for d in self.system_events],
            "id": self.id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        """Rebuild a Decision from :meth:`to_dict`: an idempotent retry returns the stored first answer."""
        return cls(
            **{
                **data,
                "at": _instant(data["at"]),
                "requirements": tuple(data["requirements"]),
                "effects": tuple(data["effects"]),
                "entries": tuple(LedgerEntry.from_dict(e) for e in data.get("entries", ())),
                "system_events": tuple(Decision.from_dict(d) for d in data.get("system_events", ())),
            }
        )


def build(cls: type[_R], fields: dict[str, Any]) -> _R:
    """Create a frozen record from a dict naming *every* field, in one step.

    A frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, which costs more than the rest of a replayed
    event; the engine builds a Decision and ledger entries for every event,
    so it fills the instance dict at once. The result is indistinguishable
    from a normally built record (tests compare the two).
    """
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


def _instant(text: str | dt.datetime) -> dt.datetime:
    return text if isinstance(text, dt.datetime) else dt.datetime.fromisoformat(text)
