"""The in-memory store: plain dicts and lists, the fast default.

Account records live here between calls and the engine mutates them in
place, so a call costs no copying of the ledger and no SQL. A unit keeps an
undo journal instead: the first time it hands out an account or a message
it notes that record's fields, and every write to the store's own tables
notes how to take it back. Leaving the unit normally forgets the journal;
leaving it by an exception (or leaving a read-only unit) plays it backwards,
so a call applies whole or not at all, exactly as on the SQL stores.

A unit holds a lock, so threads of one process may share an engine; nothing
is shared with other processes: use a database URL for that.
"""

from __future__ import annotations

import datetime as dt
import heapq
import threading
from collections.abc import Callable
from operator import attrgetter
from types import TracebackType
from typing import Any

from engine.ledger.state import AccountState, LotRec, MsgRec
from engine.model import Decision, LedgerEntry, LoggedCall, logged_call, usable_at

_ACCOUNT_SLOTS = AccountState.__slots__
_MESSAGE_SLOTS = MsgRec.__slots__
_account_fields = attrgetter(*_ACCOUNT_SLOTS)
_message_fields = attrgetter(*_MESSAGE_SLOTS)
#: the account fields that are containers the engine changes in place: noted as copies
_COPIED = {name: i for i, name in enumerate(_ACCOUNT_SLOTS)
           if name in ("lots", "reminders", "dirty", "entries")}
_MISSING = object()


class MemoryStore:
    """Implements :class:`~engine.store.base.Store`; its units are :class:`MemoryUnit`."""

    def __init__(self, log: bool = True) -> None:
        #: False: keep no event log (a throwaway store: an impact report's sides, a replay)
        self.logging = log
        self._accounts: dict[str, AccountState] = {}
        self._lots: dict[str, dict[int, LotRec]] = {}
        self._history: dict[str, list[LedgerEntry]] = {}
        self._messages: dict[str, MsgRec] = {}
        self._pairs: dict[tuple[str, str], MsgRec] = {}
        self._connections: set[tuple[str, str]] = set()
        self._keys: dict[str, tuple[str | None, Decision]] = {}
        self._calls: list[tuple[Any, ...]] = []  # the event log: each call's record, as the engine gave it
        self._revisions: dict[str, dict[str, Any]] = {}
        self._reminded: dict[str, MsgRec] = {}
        #: (next due instant, account) with lazy deletion: an entry is live if it matches the account
        self._due: list[tuple[dt.datetime, str]] = []
        self._queued: dict[str, dt.datetime | None] = {}
        self._lock = threading.RLock()

    def unit(self, write: bool = True) -> MemoryUnit:
        return MemoryUnit(self, write)

    def accounts(self) -> list[str]:
        return sorted(self._accounts)

    def plans_in_use(self) -> dict[str, str]:
        with self._lock:
            found: dict[str, str] = {}
            for name in sorted(self._accounts):
                found.setdefault(self._accounts[name].plan, name)
            return found

    def due_accounts(self, to: dt.datetime) -> list[str]:
        """Looks only at the front of the due queue: the cost is the number of accounts due."""
        with self._lock:
            live: list[tuple[dt.datetime, str]] = []
            heap = self._due
            while heap and heap[0][0] <= to:
                item = heapq.heappop(heap)
                if self._queued.get(item[1]) == item[0]:  # else stale: the account moved on since
                    live.append(item)
            for item in live:  # still queued until save() records a new due instant
                heapq.heappush(heap, item)
            return sorted({name for _, name in live})

    def history(self, account: str) -> list[LedgerEntry] | None:
        found = self._history.get(account)
        return None if found is None else list(found)

    def lots_and_entries(self, account: str, at: dt.datetime) -> tuple[list[LotRec], list[LedgerEntry]]:
        lots = [lot for lot in self._lots.get(account, {}).values() if usable_at(lot, at)]
        return lots, [e for e in self._history.get(account, ()) if e.at <= at]

    def calls(self, account: str | None = None, since: dt.datetime | None = None) -> list[LoggedCall]:
        with self._lock:
            return [logged_call(seq, c) for seq, c in enumerate(self._calls, 1)
                    if (account is None or c[2] == account) and (since is None or c[0] >= since)]

    def log_complete(self) -> bool:
        return True

    def revision(self, revision: str) -> dict[str, Any] | None:
        with self._lock:
            return self._revisions.get(revision)

    def reminded(self, at: dt.datetime | None) -> list[tuple[dt.datetime, str, int, str]]:
        found = [(m.reminded_at, m.sender, m.seq, m.id) for m in self._reminded.values()
                 if m.reminded_at is not None and (at is None or m.reminded_at <= at)]
        found.sort()
        return found

    def close(self) -> None:
        """Nothing to release; the data goes with the object."""


class MemoryUnit:
    """One transaction on a :class:`MemoryStore`: its changes, and the journal that undoes them."""

    def __init__(self, store: MemoryStore, write: bool) -> None:
        self.s = store
        self.write = write
        self._undo: list[Callable[[], None]] = []
        self._seen: set[int] = set()  # ids of the records whose fields are already noted
        self._noted: list[AccountState] = []  # their ``prior`` lot values are this unit's

    def __enter__(self) -> MemoryUnit:
        self.s._lock.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is not None or not self.write:
                for undo in reversed(self._undo):
                    undo()
        finally:
            self._undo.clear()
            for acct in self._noted:
                acct.prior = {}
            self.s._lock.release()

    # --- the journal ----------------------------------------------------------------------

    def _note_account(self, acct: AccountState) -> None:
        if id(acct) in self._seen:
            return
        self._seen.add(id(acct))
        self._noted.append(acct)
        fields = list(_account_fields(acct))
        for i in _COPIED.values():
            fields[i] = fields[i].copy()

        def undo() -> None:
            for lot, remaining in acct.prior.values():  # the lots this call changed, as they were
                lot.remaining = remaining
            for name, value in zip(_ACCOUNT_SLOTS, fields, strict=True):
                setattr(acct, name, value)

        self._undo.append(undo)

    def _note_message(self, msg: MsgRec) -> None:
        if id(msg) in self._seen:
            return
        self._seen.add(id(msg))
        fields = _message_fields(msg)

        def undo() -> None:
            for name, value in zip(_MESSAGE_SLOTS, fields, strict=True):
                setattr(msg, name, value)

        self._undo.append(undo)

    def _note_key(self, table: dict[Any, Any], key: object) -> None:
        before = table.get(key, _MISSING)

        def undo() -> None:
            if before is _MISSING:
                table.pop(key, None)
            else:
                table[key] = before

        self._undo.append(undo)

    # --- Unit -----------------------------------------------------------------------------

    def recorded(self, key: str) -> tuple[str | None, Decision] | None:
        return self.s._keys.get(key)

    def remember(self, key: str, account: str, request: str, decision: Decision) -> None:
        self._note_key(self.s._keys, key)
        self.s._keys[key] = (request, decision)

    def account(self, name: str, spent: bool = True) -> AccountState | None:
        acct = self.s._accounts.get(name)
        if acct is not None:
            self._note_account(acct)
        return acct

    def new_account(self, acct: AccountState) -> None:
        s = self.s
        for table in (s._accounts, s._lots, s._history):
            self._note_key(table, acct.name)
        s._accounts[acct.name] = acct
        s._lots[acct.name] = {}
        s._history[acct.name] = []
        self._note_account(acct)

    def save(self, acct: AccountState) -> None:
        s = self.s
        name = acct.name
        lots, history = s._lots[name], s._history[name]
        if acct.dirty:
            # a lot already stored is the same object the account holds: its undo restores it
            new = [lot_id for lot_id in acct.dirty if lot_id not in lots]
            if new:
                def forget() -> None:
                    for lot_id in new:
                        lots.pop(lot_id, None)

                self._undo.append(forget)
            lots.update(acct.dirty)
            acct.dirty.clear()
        if acct.entries:
            n = len(history)
            self._undo.append(lambda: history.__delitem__(slice(n, None)))
            history.extend(acct.entries)
            acct.entries.clear()
        due = acct.next_due
        if s._queued.get(name) != due:
            self._note_key(s._queued, name)  # a heap entry left behind is stale, so harmless
            s._queued[name] = due
            if due is not None:
                heapq.heappush(s._due, (due, name))

    def message(self, message_id: str) -> MsgRec | None:
        msg = self.s._messages.get(message_id)
        if msg is not None:
            self._note_message(msg)
        return msg

    def message_exists(self, message_id: str) -> bool:
        return message_id in self.s._messages

    def add_message(self, msg: MsgRec) -> None:
        self._note_key(self.s._messages, msg.id)
        self.s._messages[msg.id] = msg
        self.update_message(msg)

    def update_message(self, msg: MsgRec) -> None:
        s = self.s
        if msg.awaiting:
            pair = (msg.sender, msg.recipient)
            if s._pairs.get(pair) is not msg:
                self._note_key(s._pairs, pair)
                s._pairs[pair] = msg
        if msg.reminded_at is not None and s._reminded.get(msg.id) is not msg:
            self._note_key(s._reminded, msg.id)
            s._reminded[msg.id] = msg

    def awaiting(self, sender: str, recipient: str) -> bool:
        msg = self.s._pairs.get((sender, recipient))
        return msg is not None and msg.awaiting

    def connected(self, a: str, b: str) -> bool:
        return (a, b) in self.s._connections

    def connect(self, a: str, b: str, at: dt.datetime) -> None:
        for pair in ((a, b), (b, a)):
            if pair not in self.s._connections:
                self.s._connections.add(pair)
                self._undo.append(lambda pair=pair: self.s._connections.discard(pair))  # type: ignore[misc]

    def keep_revision(self, revision: str, texts: dict[str, Any]) -> None:
        if revision not in self.s._revisions:
            self._note_key(self.s._revisions, revision)
            self.s._revisions[revision] = texts

    def log(self, record: tuple[Any, ...]) -> int | None:
        if not self.s.logging:
            return None
        calls = self.s._calls
        calls.append(record)  # a LoggedCall is built only when the log is read
        seq = len(calls)

        def undo() -> None:
            calls.pop()

        self._undo.append(undo)
        return seq
