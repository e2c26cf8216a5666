"""The in-memory store: plain dicts and lists, the fast default.

Account records live here between calls and the engine mutates them in
place, so a call costs no copying of the ledger and no SQL. What only grows
(ledger entries, stored lots, the event log) is packed by field into arrays
of integers (:mod:`engine.store._packed`: instants as microseconds, texts as
codes), a third or less of the memory of a tuple per row, and nothing the
garbage collector walks; messages, which change, are plain tuples in a dict
(CPython's collector stops tracking such tuples, and a tuple takes about half
the memory of an object with a ``__dict__``). Records are rebuilt when they
are read. A unit keeps an undo journal: the first time it hands out an account
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
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from types import TracebackType
from typing import Any

from engine.ledger.state import MSG_FIELDS, AccountState, LotRec, MsgRec, message_from_row
from engine.model import Decision, LedgerEntry, LoggedCall, LogRecord, build, logged_call, usable_at
from engine.store import _journal as journal
from engine.store._journal import CUT, KEY, MISSING, OWN
from engine.store._packed import (
    NONE,
    SAME_ACCOUNT,
    SAME_AT,
    SAME_MESSAGE,
    STR,
    Codes,
    Ragged,
    Table,
    at_of,
    instant,
    pack,
    unpack,
)
from engine.store.batch import Batch

_message_row = attrgetter(*MSG_FIELDS)
_AWAITING, _REMINDED_AT = MSG_FIELDS.index("awaiting"), MSG_FIELDS.index("reminded_at")
_ID, _SEQ, _SENDER = MSG_FIELDS.index("id"), MSG_FIELDS.index("seq"), MSG_FIELDS.index("sender")
#: a ledger entry as the store keeps it, without ``account`` (the history is per account): seq, at,
#: lot, amount, balance_after, message, and the code of its cause (the fields a rule fixes, below)
_ENTRY_WIDTH, _ENTRY_AT = 7, 1
_ENTRY_CAUSE = ("kind", "event", "rule", "requirements", "note")
_entry_cause = attrgetter(*_ENTRY_CAUSE)
#: a stored lot: what a past balance needs (its remaining credits come from the entries): id, source,
#: amount, granted_at, expires_at
_LOT_WIDTH = 5
#: a logged call: the code of its shape (method, argument names, outcome, reason, rule, revision, and
#: the kinds of its argument values), at, account, key, message, then its argument values
_CALL_AT, _CALL_ACCOUNT, _CALL_KEY, _CALL_MESSAGE, _CALL_ARGS = 1, 2, 3, 4, 5
#: the journal entry of a set's member added (see ``_take_back``): a kind of this store's own
_DISCARD = OWN


class MemoryStore:
    """Implements :class:`~engine.store.base.Store`; its units are :class:`MemoryUnit`."""

    def __init__(self, log: bool = True) -> None:
        #: False: keep no event log (a throwaway store: an impact report's sides, a replay)
        self.logging = log
        self._accounts: dict[str, AccountState] = {}
        # What only grows is packed (see engine.store._packed), found by position: an account's lots
        # (lot id -> position; a dict of numbers is not tracked) and its entries (positions, in order).
        self._texts: Codes[str] = Codes()  # account names, message ids, keys, sources, text arguments
        self._lot_rows = Table(_LOT_WIDTH)
        self._lots: dict[str, dict[int, int]] = {}
        self._entries = Table(_ENTRY_WIDTH)
        self._history: dict[str, array[int]] = {}
        # id -> the message as a tuple of its MSG_FIELDS (kept in a dict, not packed: a message changes)
        self._messages: dict[str, tuple[Any, ...]] = {}
        self._pairs: dict[str, str] = {}  # _pair(sender, recipient) -> the message blocking it, while it does
        self._connections: set[tuple[str, str]] = set()
        self._keys: dict[str, tuple[str | None, Decision]] = {}
        #: the event log (see _CALL_AT), and the argument values of no plain type, kept as they are
        self._calls = Ragged()
        self._objects: list[Any] = []
        self._shapes: Codes[tuple[Any, ...]] = Codes()  # the calls' shapes and the entries' causes
        self._revisions: dict[str, dict[str, Any]] = {}
        #: (next due instant, account) with lazy deletion: an entry is live if it matches the account
        self._due: list[tuple[dt.datetime, str]] = []
        self._queued: dict[str, dt.datetime | None] = {}
        self._lock = threading.RLock()
        self._batch: Batch | None = None

    def unit(self, write: bool = True) -> MemoryUnit:
        return MemoryUnit(self, write)

    @contextmanager
    def batch(self, every: int) -> Iterator[Batch]:
        """Nothing to group here: each call is applied whole when it returns, as outside a batch."""
        info = self._batch
        if info is not None:  # inside a batch: join it
            yield info
            return
        self._batch = info = Batch(every)
        try:
            yield info
        finally:
            self._batch = None

    def accounts(self) -> list[str]:
        return sorted(self._accounts)

    def plans_in_use(self) -> dict[str, str]:
        with self._lock:
            found: dict[str, str] = {}
            for name in sorted(self._accounts):
                found.setdefault(self._accounts[name].plan, name)
            return found

    def plan_counts(self, examples: int = 3) -> dict[str, tuple[int, tuple[str, ...]]]:
        with self._lock:
            counts: dict[str, int] = {}
            first: dict[str, list[str]] = {}
            for name in sorted(self._accounts):
                plan = self._accounts[name].plan
                counts[plan] = counts.get(plan, 0) + 1
                names = first.setdefault(plan, [])
                if len(names) < examples:
                    names.append(name)
            return {plan: (n, tuple(first[plan])) for plan, n in counts.items()}

    def _compact_due(self) -> None:
        """Rebuild the due queue from the instants queued now: a save that moves an account's due
        instant leaves the old entry behind (dozens per account over the benchmark's year).
        Only after a unit commits (one taken back restores instants whose entries a rebuild inside
        it would drop), and only once stale entries are half the queue."""
        self._due = [(due, name) for name, due in self._queued.items() if due is not None]
        heapq.heapify(self._due)

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
        return None if found is None else [self._entry(account, pos) for pos in found]

    def lots(self, account: str) -> dict[int, LotRec]:
        """Every lot the account was ever granted, by id, as granted (``remaining`` = ``amount``)."""
        rows = [self._lot_rows.row(pos) for pos in self._lots.get(account, {}).values()]
        texts = self._texts.values
        return {i: LotRec(i, texts[src], n, n, at_of(at), at_of(until)) for i, src, n, at, until in rows}

    def lots_and_entries(self, account: str, at: dt.datetime) -> tuple[list[LotRec], list[LedgerEntry]]:
        lots = [lot for lot in self.lots(account).values() if usable_at(lot, at)]
        data, to = self._entries.data, instant(at)
        found = self._history.get(account, ())
        return lots, [
            self._entry(account, pos) for pos in found if data[pos * _ENTRY_WIDTH + _ENTRY_AT] <= to
        ]

    def _entry(self, account: str, pos: int) -> LedgerEntry:
        """The LedgerEntry of a stored row (see ``_ENTRY_WIDTH``)."""
        seq, at, lot, amount, balance_after, message, cause = self._entries.row(pos)
        kind, event, rule, requirements, note = self._shapes.values[cause]
        return build(
            LedgerEntry,
            {
                "seq": seq,
                "account": account,
                "at": at_of(at),
                "kind": kind,
                "lot": None if lot == NONE else lot,
                "amount": amount,
                "balance_after": balance_after,
                "event": event,
                "rule": rule,
                "requirements": requirements,
                "message": self._texts.value(message),
                "note": note,
            },
        )

    def calls(self, account: str | None = None, since: dt.datetime | None = None) -> list[LoggedCall]:
        with self._lock:
            calls = self._calls
            who = None if account is None else self._texts.code_of.get(account, NONE)
            lo = None if since is None else instant(since)
            return [
                logged_call(pos + 1, self._record(pos))
                for pos in range(len(calls))
                if (who is None or calls.field(pos, _CALL_ACCOUNT) == who)
                and (lo is None or calls.field(pos, _CALL_AT) >= lo)
            ]

    def calls_of(self, accounts: Sequence[str]) -> list[LoggedCall]:
        with self._lock:
            calls, codes = self._calls, self._texts.code_of
            wanted = {codes[name] for name in accounts if name in codes}
            return [
                logged_call(pos + 1, self._record(pos))
                for pos in range(len(calls))
                if calls.field(pos, _CALL_ACCOUNT) in wanted
            ]

    def calls_paged(self, page: int = 10_000) -> Iterator[LoggedCall]:
        with self._lock:
            end = len(self._calls)
        for start in range(0, end, page):
            with self._lock:
                records = [self._record(pos) for pos in range(start, min(start + page, end))]
            yield from (logged_call(seq, record) for seq, record in enumerate(records, start + 1))

    def _record(self, pos: int) -> LogRecord:
        """A stored log row as the record the engine gave."""
        row = self._calls.row(pos)
        method, names, outcome, reason, rule, revision, kinds = self._shapes.values[row[0]]
        texts, objects = self._texts, self._objects
        at, account = at_of(row[_CALL_AT]), texts.values[row[_CALL_ACCOUNT]]
        message = texts.value(row[_CALL_MESSAGE])
        stored = iter(row[_CALL_ARGS:])
        args: dict[str, Any] = {}
        for name, kind in zip(names, kinds, strict=True):
            if kind == SAME_AT:
                args[name] = at
            elif kind == SAME_ACCOUNT:
                args[name] = account
            elif kind == SAME_MESSAGE:
                args[name] = message
            else:
                args[name] = unpack(kind, next(stored), texts, objects)
        return LogRecord(
            at, method, account, args, texts.value(row[_CALL_KEY]), outcome, reason, rule, message, revision
        )

    def log_complete(self) -> bool:
        return True

    def revision(self, revision: str) -> dict[str, Any] | None:
        with self._lock:
            return self._revisions.get(revision)

    def reminded(self, at: dt.datetime | None) -> list[tuple[dt.datetime, str, int, str]]:
        """A scan of the messages: a query, not a step of a call, so no index is kept for it."""
        with self._lock:
            found = [
                (m[_REMINDED_AT], m[_SENDER], m[_SEQ], m[_ID])
                for m in self._messages.values()
                if m[_REMINDED_AT] is not None and (at is None or m[_REMINDED_AT] <= at)
            ]
        found.sort()
        return found

    def close(self) -> None:
        """Nothing to release; the data goes with the object."""


class MemoryUnit:
    """One transaction on a :class:`MemoryStore`: its changes, and the journal that undoes them."""

    def __init__(self, store: MemoryStore, write: bool) -> None:
        self.s = store
        self.write = write
        #: how to take back each write, oldest first: (what, ...) tuples that ``_take_back`` plays
        #: (a tuple per write, not a closure: the journal is built on every call and almost never played)
        self._undo: list[tuple[Any, ...]] = []
        self._seen: set[int] = set()  # ids of the accounts whose fields are already noted
        self._noted: list[AccountState] = []  # their ``prior`` lot values are this unit's
        #: the messages handed out in this unit: one record per message, so every change to it is kept
        self._msgs: dict[str, MsgRec] = {}

    def __enter__(self) -> MemoryUnit:
        self.s._lock.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is not None or not self.write:
                journal = self._undo
                while journal:  # newest first
                    _take_back(journal.pop())
            else:
                s = self.s
                if s._batch is not None:
                    s._batch.committed += 1
                if len(s._due) > 2 * len(s._queued) + _DUE_SLACK:
                    s._compact_due()
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
        self._undo.append(journal.account(acct))

    def _note_key(self, table: dict[Any, Any], key: object) -> None:
        self._undo.append(journal.key(table, key))

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
        s._history[acct.name] = array("I")
        self._note_account(acct)

    def save(self, acct: AccountState) -> None:
        s = self.s
        name = acct.name
        lots, history = s._lots[name], s._history[name]
        if acct.dirty:
            # a lot already stored changed only its remaining credits, which the entries say
            new = [lot for lot_id, lot in acct.dirty.items() if lot_id not in lots]
            if new:
                self._undo.append((CUT, s._lot_rows, len(s._lot_rows)))
            for lot in new:
                self._undo.append((KEY, lots, lot.id, MISSING))
                row = (
                    lot.id,
                    s._texts.code_of[lot.source],
                    lot.amount,
                    instant(lot.granted_at),
                    instant(lot.expires_at),
                )
                lots[lot.id] = s._lot_rows.append(row)
            acct.dirty.clear()
        if acct.entries:
            rows = s._entries
            self._undo.append((CUT, history, len(history)))
            self._undo.append((CUT, rows, len(rows)))
            text_code, cause_code = s._texts.code_of, s._shapes.code_of  # (a new one is coded)
            last_at, us = None, 0  # a call's entries mostly share its instant
            for e in acct.entries:
                lot_id, message, cause = e.lot, e.message, _entry_cause(e)
                if e.at is not last_at:
                    last_at, us = e.at, instant(e.at)
                entry = (
                    e.seq,
                    us,
                    NONE if lot_id is None else lot_id,
                    e.amount,
                    e.balance_after,
                    NONE if message is None else text_code[message],
                    cause_code[cause],
                )
                history.append(rows.append(entry))
            acct.entries.clear()
        due = acct.next_due
        if s._queued.get(name) != due:
            self._note_key(s._queued, name)  # a heap entry left behind is stale, so harmless
            s._queued[name] = due
            if due is not None:
                heapq.heappush(s._due, (due, name))

    def message(self, message_id: str) -> MsgRec | None:
        msg = self._msgs.get(message_id)
        if msg is None:
            row = self.s._messages.get(message_id)
            if row is None:
                return None
            msg = self._msgs[message_id] = message_from_row(row)
        return msg

    def message_exists(self, message_id: str) -> bool:
        return message_id in self.s._messages

    def add_message(self, msg: MsgRec) -> None:
        self._msgs[msg.id] = msg
        self.update_message(msg)

    def update_message(self, msg: MsgRec) -> None:
        s = self.s
        self._note_key(s._messages, msg.id)
        s._messages[msg.id] = row = _message_row(msg)
        pair = _pair(msg.sender, msg.recipient)
        blocking = s._pairs.get(pair)
        if row[_AWAITING] and blocking != msg.id:
            self._note_key(s._pairs, pair)
            s._pairs[pair] = msg.id
        elif not row[_AWAITING] and blocking == msg.id:  # released: forget the pair
            self._note_key(s._pairs, pair)
            del s._pairs[pair]

    def send_facts(self, sender: str, recipient: str, new_id: str | None) -> tuple[bool, bool, bool]:
        s = self.s
        msg_id = s._pairs.get(_pair(sender, recipient))
        return (
            (sender, recipient) in s._connections,
            msg_id is not None and s._messages[msg_id][_AWAITING],
            new_id is not None and new_id in s._messages,
        )

    def connected(self, a: str, b: str) -> bool:
        return (a, b) in self.s._connections

    def connect(self, a: str, b: str, at: dt.datetime) -> None:
        for pair in ((a, b), (b, a)):
            if pair not in self.s._connections:
                self.s._connections.add(pair)
                self._undo.append((_DISCARD, self.s._connections, pair))

    def keep_revision(self, revision: str, texts: dict[str, Any]) -> None:
        if revision not in self.s._revisions:
            self._note_key(self.s._revisions, revision)
            self.s._revisions[revision] = texts

    def log(self, record: LogRecord) -> int | None:
        if not self.s.logging:
            return None
        s = self.s
        calls, texts, objects = s._calls, s._texts, s._objects
        at, method, account, args, key, outcome, reason, rule, message, revision = record
        had = len(objects)
        code = texts.code_of  # a text's code (one dict lookup; a text not coded yet is coded)
        row = [
            0,
            instant(at),
            code[account],
            NONE if key is None else code[key],
            NONE if message is None else code[message],
        ]
        # an argument that repeats the row's at, account or message is not kept twice
        kinds = ""
        for value in args.values():
            if value is at:
                kinds += SAME_AT
            elif type(value) is str:
                if value == account:
                    kinds += SAME_ACCOUNT
                elif value == message:
                    kinds += SAME_MESSAGE
                else:
                    kinds += STR
                    row.append(code[value])
            else:
                kind, n = pack(value, texts, objects)
                kinds += kind
                row.append(n)
        row[0] = s._shapes.code_of[(method, tuple(args), outcome, reason, rule, revision, kinds)]
        if len(objects) > had:
            self._undo.append((CUT, objects, had))
        self._undo.append((CUT, calls, len(calls)))
        calls.append(row)
        return len(calls)


_DUE_SLACK = 1024  # entries the due queue may hold beyond twice its accounts before a rebuild


def _take_back(entry: tuple[Any, ...]) -> None:
    """Undo one write of a unit: the journal's kinds (:mod:`engine.store._journal`), or a set's member."""
    if not journal.take_back(entry):
        entry[1].discard(entry[2])


def _pair(sender: str, recipient: str) -> str:
    """The key of a (sender, recipient) pair: one text (names hold no NUL), so the table is untracked."""
    return f"{sender}\x00{recipient}"
