"""Where account state lives: the store interface, and how a ``db`` argument picks a backend.

The engine talks to a store through two small protocols. A :class:`Unit` is
one transaction: the engine loads (and locks) the acting account, applies
the due system events and the caller's event to that in-memory record, and
hands it back with :meth:`Unit.save`; leaving the ``with`` block commits, an
exception rolls back. A :class:`Store` opens units and answers the read-only
questions (history, balances in the past, reminders).

Two backends implement it: :mod:`engine.store.memory` keeps plain Python
structures (the fast default, for replays and tests) and
:mod:`engine.store.sql` keeps tables through SQLAlchemy Core (SQLite file,
or PostgreSQL by URL), loading the account inside each transaction so that
any number of processes can share one database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from engine.codes import C
from engine.ledger.state import AccountState, LotRec, MsgRec
from engine.model import Decision, LedgerEntry, LoggedCall, LogRecord
from engine.source.paths import PathProblem, path_kind
from engine.store.batch import Batch


class Unit(Protocol):
    """One transaction of the store (see the module docstring)."""

    def recorded(self, key: str) -> tuple[str | None, Decision] | None:
        """The request and the first Decision stored under an idempotency key, if any."""

    def remember(self, key: str, account: str, request: str, decision: Decision) -> None:
        """Store the Decision, and the request it answered, under ``key`` in this transaction."""

    def account(self, name: str, spent: bool = True) -> AccountState | None:
        """Load and lock an account for this transaction (None if unknown).

        ``spent=False``: live lots that are used up may be left out (only
        ``credit_back.lot: original`` ever refills one).
        """

    def new_account(self, acct: AccountState) -> None:
        """Create an account (its lots and entries are written by :meth:`save`)."""

    def save(self, acct: AccountState) -> None:
        """Persist what the ledger changed (``dirty`` lots, new ``entries``) and the account row."""

    def message(self, message_id: str) -> MsgRec | None: ...

    def message_exists(self, message_id: str) -> bool: ...

    def add_message(self, msg: MsgRec) -> None: ...

    def update_message(self, msg: MsgRec) -> None: ...

    def send_facts(self, sender: str, recipient: str, new_id: str | None) -> tuple[bool, bool, bool]:
        """What a send asks of the store, in one go (one round trip on a server): whether the
        recipient is a 1st-degree connection, whether an InMail from sender to recipient still
        blocks the pair (``pair.awaiting_response``), and whether a message ``new_id`` exists."""

    def connected(self, a: str, b: str) -> bool: ...

    def connect(self, a: str, b: str, at: dt.datetime) -> None:
        """Record a 1st-degree connection both ways (idempotent)."""

    def keep_revision(self, revision: str, texts: dict[str, Any]) -> None:
        """Keep the texts of a policy-and-rules revision, once (``{"policy", "override", "rules"}``)."""

    def log(self, record: LogRecord) -> int | None:
        """Append a decided call to the event log in this transaction; return its ``seq`` (the store
        numbers the log; None when it keeps none)."""


class Store(Protocol):
    """A backend: opens transactions and answers read-only questions."""

    def unit(self, write: bool = True) -> AbstractContextManager[Unit]:
        """A transaction: committed on a normal exit, rolled back on an exception.

        ``write=False`` is always rolled back: a read may bring an account up to
        an instant to answer, and nothing it computed is stored.
        """

    def batch(self, every: int) -> AbstractContextManager[Batch]:
        """Calls in this thread join transactions of up to ``every`` calls (:mod:`engine.store._sql_batch`),
        committed at the end, rolled back if the block raises. A batch inside a batch joins it."""

    def accounts(self) -> list[str]: ...

    def plans_in_use(self) -> dict[str, str]:
        """Each plan some account is on, with one such account (for the message)."""
        ...

    def plan_counts(self, examples: int = 3) -> dict[str, tuple[int, tuple[str, ...]]]:
        """Each plan some account is on: how many accounts, and the first ``examples`` of them by name
        (what a person is told before a plan they are on is removed)."""
        ...

    def due_accounts(self, to: dt.datetime) -> list[str]:
        """Accounts whose next renewal, expiry or reminder falls at or before ``to``."""

    def history(self, account: str) -> list[LedgerEntry] | None:
        """Every entry of the account in order; None if there is no such account."""

    def lots_and_entries(self, account: str, at: dt.datetime) -> tuple[list[LotRec], list[LedgerEntry]]:
        """Lots usable at ``at`` and the entries up to ``at``: enough to rebuild a past balance."""

    def reminded(self, at: dt.datetime | None) -> list[tuple[dt.datetime, str, int, str]]:
        """Reminders sent at or before ``at`` (all if None): (instant, sender, send order, message id),
        sorted."""

    def calls(self, account: str | None = None, since: dt.datetime | None = None) -> list[LoggedCall]:
        """The event log in order (of one account, from an instant on, if given)."""

    def calls_of(self, accounts: Sequence[str]) -> list[LoggedCall]:
        """The logged calls of ``accounts`` (their ``account`` column), in log order: what a worker
        of a partitioned run reads for its partition, a few statements for all of them."""

    def calls_paged(self, page: int = 10_000) -> Iterator[LoggedCall]:
        """The whole event log in order, read ``page`` calls at a time, so that a reader of a long log
        (the partitioner of an impact run) never holds it all; calls logged after it starts are not in it."""

    def revision(self, revision: str) -> dict[str, Any] | None:
        """The texts kept for a revision (see :meth:`Unit.keep_revision`), or None."""

    def log_complete(self) -> bool:
        """Whether the log holds every call the store ever applied (not a store made before the log)."""

    def close(self) -> None: ...


def open_store(db: str | Path | None, create: bool = True, log: bool = True) -> Store:
    """``None`` or ``"memory"``: plain Python structures; a URL or a file path: SQLAlchemy.

    A plain path (``ledger.db``) means a SQLite file; anything with ``://``
    is a SQLAlchemy URL (``sqlite:///x.db``, ``postgresql://...``). An empty
    name is a mistake, not a request for memory.
    """
    if db is None or db == "memory":
        from engine.store.memory import MemoryStore

        return MemoryStore(log)
    if not log:
        raise C.invalid_argument("only the in-memory store can go without an event log")
    text = str(db)
    if not text.strip():
        raise C.invalid_database("the database name is empty; give a file, a URL, or leave it out for memory")
    path = text if "://" not in text else text[len("sqlite:///") :] if text.startswith("sqlite:///") else None
    if path is not None:
        try:
            kind = path_kind(path)  # a name the OS cannot look up is refused here, not deep in the driver
        except PathProblem as exc:
            raise C.invalid_database(str(exc)) from None
        if not create and kind != "file":  # connecting would create an empty file: a read never writes
            raise C.store_not_found(f"no store at `{path}`")
    url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
    from engine.store.sql import SqlStore

    return SqlStore(url, create)
