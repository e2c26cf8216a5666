"""What a SQLite batch holds in memory while it owns the write lock, and the unit that works on it.

A batch on SQLite (:class:`~engine.store._sql_batch.SqliteBatch`) keeps its
transaction open with ``BEGIN IMMEDIATE``: no other connection can write
until it commits. So what it read of an account stays true, and the truth of
the account is what the batch made of it. :class:`Held` keeps it: each
account once loaded (its row, live lots, pending reminders), every message it
read or wrote, and what the database answered about connections, pairs and
revisions. Calls then run on those records, as on the in-memory store, and
what they changed waits in lists, one per table, written with one
``executemany`` each at commit (:meth:`Held.flush`), or before a read of the
store that must see it.

Each call is still all or nothing: :class:`HeldUnit` keeps an undo journal
like :class:`~engine.store.memory.MemoryUnit` (the fields of each account it
handed out, and how to take back each write), played backwards when the call
raises or was a read. After a commit the lock is let go; the next
transaction checks ``PRAGMA data_version`` and forgets everything held if
another connection wrote meanwhile.
"""

from __future__ import annotations

import datetime as dt
import json
from operator import attrgetter
from typing import Any

from engine.ledger.state import (
    MSG_FIELDS,
    AccountState,
    LotRec,
    MsgRec,
    message_from_row,
    reminder_heap,
)
from engine.model import Decision, LogRecord
from engine.store import _journal as journal
from engine.store._journal import CUT, OWN
from engine.store._sql_exec import DriverExec
from engine.store._sql_schema import (
    ACCOUNT_COLS,
    CONNECTED,
    HAS_REVISION,
    INSERT_ACCOUNT,
    INSERT_CONNECTION,
    INSERT_ENTRY,
    INSERT_KEY,
    INSERT_LOT,
    INSERT_MESSAGE,
    INSERT_REVISION,
    MESSAGE_EXISTS,
    SELECT_MESSAGE,
    UPDATE_LOT,
    account_row,
    lot_row,
    message_columns,
    message_row,
    one_line,
    utc_text,
)
from engine.store._sql_schema import message_from_row as message_from_db
from engine.store._sql_unit import SqlUnit, call_row, changed_update, entry_row

_msg_tuple = attrgetter(*MSG_FIELDS)
_AWAITING, _SENDER = MSG_FIELDS.index("awaiting"), MSG_FIELDS.index("sender")
_ID, _SEQ = MSG_FIELDS.index("id"), MSG_FIELDS.index("seq")
_REMINDER_AT, _REMINDER_DONE = MSG_FIELDS.index("reminder_at"), MSG_FIELDS.index("reminder_done")
#: the journal entry of the batch's next call number (the journal's own kinds: :mod:`engine.store._journal`)
_NEXT_CALL = OWN

AWAITING_IDS = one_line("""SELECT id FROM messages
                        WHERE sender = :sender AND recipient = :recipient AND awaiting = :yes""")
NEXT_CALL = "SELECT coalesce(max(seq), 0) + 1 FROM calls"
INSERT_CALL_SEQ = one_line(
    "INSERT INTO calls (seq, at, account, method, args, key, outcome, reason, rule, message, "
    "revision) VALUES (:seq, :at, :account, :method, :args, :key, :outcome, :reason, :rule, "
    ":message, :revision)"
)


class Held:
    """The state a batch holds between its calls, and the writes it owes the database."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget everything (another connection wrote, or the batch ended); nothing may be owed."""
        self.accounts: dict[str, AccountState] = {}
        self.spent: dict[str, bool] = {}  # how each account was loaded (``Unit.account``'s ``spent``)
        self.rows: dict[str, dict[str, Any] | None] = {}  # its row as the database has it (None: new)
        self.lot_base: dict[str, int] = {}  # lot ids below this are in the database
        self.revisions: dict[str, None] = {}  # revisions known to be kept
        self.next_call: int | None = None
        self.forget_messages()
        self.reset_owed()

    def forget_messages(self) -> None:
        """Forget the messages and connections held (only when nothing is owed: after a flush).

        What is known of them is kept together: the awaiting ids a pair had in
        the database are read as the truth only for messages not held.
        """
        self.msgs: dict[str, tuple[Any, ...]] = {}  # every message read or written, as MSG_FIELDS
        self.msg_cols: dict[str, dict[str, Any] | None] = {}  # its columns in the database (None: new)
        self.pairs: dict[tuple[str, str], dict[str, None]] = {}  # held message ids of a pair
        self.by_sender: dict[str, dict[str, None]] = {}  # held message ids of a sender
        self.pair_db: dict[tuple[str, str], tuple[str, ...]] = {}  # awaiting ids the database had
        self.absent: set[str] = set()  # message ids the database did not have
        self.linked: dict[tuple[str, str], bool] = {}  # connections known (either way)

    def reset_owed(self) -> None:
        """The writes owed to the database: none (after a flush)."""
        self.touched: dict[str, None] = {}  # accounts whose row may differ from the database's
        self.lots: dict[tuple[str, int], LotRec] = {}
        self.entries: list[dict[str, Any]] = []
        self.msg_owed: dict[str, None] = {}
        self.links: list[dict[str, Any]] = []
        self.revision_rows: list[dict[str, Any]] = []
        self.keys: dict[str, tuple[str, str, tuple[str | None, Decision]]] = {}
        self.calls: list[dict[str, Any]] = []

    def flush(self, cur: Any) -> None:
        """Write what is owed, one ``executemany`` per table and statement shape, in the transaction."""
        accounts: list[dict[str, Any]] = []
        updates: dict[str, list[dict[str, Any]]] = {}
        for name in self.touched:
            acct = self.accounts[name]
            now, before = account_row(acct), self.rows[name]
            if before is None:
                accounts.append(now)
            else:
                _group(updates, changed_update("accounts", "name", name, now, before, ACCOUNT_COLS))
            self.rows[name] = now
        _many(cur, INSERT_ACCOUNT, accounts)
        for sql, rows in updates.items():
            _many(cur, sql, rows)
        new, spent = [], []
        for (name, lot_id), lot in self.lots.items():
            if lot_id >= self.lot_base[name]:
                new.append(lot_row(name, lot))
            else:
                spent.append({"account": name, "id": lot_id, "remaining": lot.remaining})
        _many(cur, INSERT_LOT, new)
        _many(cur, UPDATE_LOT, spent)
        for name in self.touched:
            self.lot_base[name] = self.accounts[name].next_lot
        _many(cur, INSERT_ENTRY, self.entries)
        self._flush_messages(cur)
        _many(cur, INSERT_CONNECTION, self.links)
        _many(cur, INSERT_REVISION, self.revision_rows)
        keys = [{"key": k, "account": a, "decision": d} for k, (a, d, _) in self.keys.items()]
        _many(cur, INSERT_KEY, keys)
        _many(cur, INSERT_CALL_SEQ, self.calls)
        self.reset_owed()

    def _flush_messages(self, cur: Any) -> None:
        inserts: list[dict[str, Any]] = []
        updates: dict[str, list[dict[str, Any]]] = {}
        for msg_id in self.msg_owed:
            msg = message_from_row(self.msgs[msg_id])
            now, before = message_columns(msg), self.msg_cols[msg_id]
            if before is None:
                inserts.append(message_row(msg, now))
            else:
                _group(updates, changed_update("messages", "id", msg_id, now, before))
            self.msg_cols[msg_id] = now
        _many(cur, INSERT_MESSAGE, inserts)
        for sql, rows in updates.items():
            _many(cur, sql, rows)

    def due(self, from_db: list[str], to: dt.datetime) -> list[str]:
        """``due_accounts``: the database's answer, corrected by the accounts changed here."""
        names = {n for n in from_db if n not in self.touched}
        for name in self.touched:
            due = self.accounts[name].next_due
            if due is not None and due <= to:
                names.add(name)
        return sorted(names)


def _many(cur: Any, sql: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        cur.executemany(sql, rows)


class HeldUnit:
    """One call of a SQLite batch, on what the batch holds; implements :class:`~engine.store.base.Unit`.

    What it does not hold it reads on the batch's connection (inside the
    batch's transaction), and then holds.
    """

    def __init__(self, held: Held, cur: Any, select_account: str, write: bool) -> None:
        self.h = held
        self.write = write
        self._c = DriverExec(cur)
        self._loader = SqlUnit(self._c, select_account)
        self._undo: list[tuple[Any, ...]] = []
        self._seen: set[str] = set()
        self._msgs: dict[str, MsgRec] = {}  # one record per message per call, so every change is kept

    def finish(self, ok: bool) -> None:
        """Keep the call (``ok`` and a write), or take it back; either way the lots' ``prior`` go."""
        if not ok or not self.write:
            journal = self._undo
            while journal:
                _take_back(self.h, journal.pop())
        self._undo.clear()
        for name in self._seen:
            acct = self.h.accounts.get(name)
            if acct is not None:
                acct.prior = {}

    # --- the journal ------------------------------------------------------------------------

    def _note(self, acct: AccountState) -> None:
        if acct.name in self._seen:
            return
        self._seen.add(acct.name)
        self._undo.append(journal.account(acct))
        if self.write:  # changed in place: compared with its row at the flush
            self._touch(acct.name)

    def _touch(self, name: str) -> None:
        if name not in self.h.touched:
            self._set(self.h.touched, name, None)

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        self._undo.append(journal.key(table, key))
        table[key] = value

    # --- Unit -------------------------------------------------------------------------------

    def recorded(self, key: str) -> tuple[str | None, Decision] | None:
        owed = self.h.keys.get(key)
        return owed[2] if owed is not None else self._loader.recorded(key)

    def remember(self, key: str, account: str, request: str, decision: Decision) -> None:
        kept = json.dumps({"request": request, "decision": decision.to_dict()})
        self._set(self.h.keys, key, (account, kept, (request, decision)))

    def account(self, name: str, spent: bool = True) -> AccountState | None:
        h = self.h
        acct = h.accounts.get(name)
        if acct is not None and h.spent[name] != spent and name not in h.touched:
            acct = None  # the policy changed how lots are kept (a reload flushed first): read it again
        if acct is None:
            acct = self._loader.account(name, spent)
            if acct is None:
                return None
            mine = h.by_sender.get(name)
            if mine:  # its pending reminders, as the messages held here say
                acct.reminders = reminder_heap(
                    [r for r in acct.reminders if r[2] not in h.msgs]
                    + [
                        (m[_REMINDER_AT], m[_SEQ], m[_ID])
                        for m in (h.msgs[i] for i in mine)
                        if m[_REMINDER_AT] is not None and not m[_REMINDER_DONE]
                    ]
                )
            h.accounts[name], h.spent[name] = acct, spent
            h.rows[name] = self._loader.row(name)
            h.lot_base[name] = acct.next_lot
        self._note(acct)
        return acct

    def new_account(self, acct: AccountState) -> None:
        h, name = self.h, acct.name
        self._set(h.accounts, name, acct)
        self._set(h.spent, name, acct.keep_spent)
        self._set(h.rows, name, None)
        self._set(h.lot_base, name, 1)
        self._note(acct)
        self._touch(name)

    def save(self, acct: AccountState) -> None:
        h, name = self.h, acct.name
        self._touch(name)
        for lot in acct.dirty.values():
            if (name, lot.id) not in h.lots:
                self._set(h.lots, (name, lot.id), lot)
        acct.dirty.clear()
        if acct.entries:
            self._undo.append((CUT, h.entries, len(h.entries)))
            h.entries.extend(entry_row(e) for e in acct.entries)
            acct.entries.clear()

    def message(self, message_id: str) -> MsgRec | None:
        msg = self._msgs.get(message_id)
        if msg is not None:
            return msg
        row = self.h.msgs.get(message_id)
        if row is None:
            if message_id in self.h.absent:
                return None
            found = self._c.one(SELECT_MESSAGE, {"id": message_id})
            if found is None:
                self.h.absent.add(message_id)
                return None
            loaded = message_from_db(found)
            row = self.h.msgs[message_id] = _msg_tuple(loaded)
            self.h.msg_cols[message_id] = message_columns(loaded)
            self.h.pairs.setdefault((loaded.sender, loaded.recipient), {})[message_id] = None
            self.h.by_sender.setdefault(loaded.sender, {})[message_id] = None
        msg = self._msgs[message_id] = message_from_row(row)
        return msg

    def message_exists(self, message_id: str) -> bool:
        if message_id in self.h.msgs:
            return True
        if message_id in self.h.absent:
            return False
        found = self._c.one(MESSAGE_EXISTS, {"id": message_id}) is not None
        if not found:
            self.h.absent.add(message_id)
        return found

    def add_message(self, msg: MsgRec) -> None:
        h = self.h
        self._set(h.msg_cols, msg.id, None)
        pair = (msg.sender, msg.recipient)
        if pair not in h.pairs:
            self._set(h.pairs, pair, {})
        self._set(h.pairs[pair], msg.id, None)
        if msg.sender not in h.by_sender:
            self._set(h.by_sender, msg.sender, {})
        self._set(h.by_sender[msg.sender], msg.id, None)
        self._msgs[msg.id] = msg
        self.update_message(msg)

    def update_message(self, msg: MsgRec) -> None:
        self._set(self.h.msgs, msg.id, _msg_tuple(msg))
        self._set(self.h.msg_owed, msg.id, None)

    def send_facts(self, sender: str, recipient: str, new_id: str | None) -> tuple[bool, bool, bool]:
        h, pair = self.h, (sender, recipient)
        held = h.pairs.get(pair, {})
        awaiting = any(h.msgs[i][_AWAITING] for i in held)
        if not awaiting:
            ids = h.pair_db.get(pair)
            if ids is None:
                found = self._c.all(AWAITING_IDS, {"sender": sender, "recipient": recipient, "yes": True})
                ids = h.pair_db[pair] = tuple(r[0] for r in found)
            awaiting = any(i not in h.msgs for i in ids)  # a held one says for itself
        taken = new_id is not None and self.message_exists(new_id)
        return self.connected(sender, recipient), awaiting, taken

    def connected(self, a: str, b: str) -> bool:
        known = self.h.linked.get((a, b))
        if known is None:
            known = self.h.linked[(a, b)] = self._c.one(CONNECTED, {"a": a, "b": b}) is not None
        return known

    def connect(self, a: str, b: str, at: dt.datetime) -> None:
        for pair in ((a, b), (b, a)):
            if not self.connected(*pair):
                self._set(self.h.linked, pair, True)
                self._undo.append((CUT, self.h.links, len(self.h.links)))
                self.h.links.append({"a": pair[0], "b": pair[1], "at": utc_text(at)})

    def keep_revision(self, revision: str, texts: dict[str, Any]) -> None:
        h = self.h
        if revision in h.revisions:
            return
        if self._c.one(HAS_REVISION, {"revision": revision}) is not None:
            h.revisions[revision] = None  # the database's truth: nothing to take back
            return
        self._set(h.revisions, revision, None)
        self._undo.append((CUT, h.revision_rows, len(h.revision_rows)))
        h.revision_rows.append({"revision": revision, "texts": json.dumps(texts)})

    def log(self, record: LogRecord) -> int:
        """The batch numbers the log itself (it alone writes while it holds the lock)."""
        h = self.h
        if h.next_call is None:
            h.next_call = int(self._c.one(NEXT_CALL, {})[0])
        seq = h.next_call
        self._undo.append((_NEXT_CALL, h, seq))
        h.next_call = seq + 1
        self._undo.append((CUT, h.calls, len(h.calls)))
        h.calls.append({**call_row(record), "seq": seq})
        return seq


def _group(updates: dict[str, list[dict[str, Any]]], update: tuple[str, dict[str, Any]] | None) -> None:
    """Add ``update`` to the rows of its statement (one ``executemany`` each at the flush)."""
    if update is not None:
        updates.setdefault(update[0], []).append(update[1])


def _take_back(h: Held, entry: tuple[Any, ...]) -> None:
    if not journal.take_back(entry):
        h.next_call = entry[2]
