"""One transaction of the SQL store: loading an account, saving what a call changed, the messages.

:class:`SqlUnit` runs the store's statements (:mod:`engine.store._sql_schema`)
on whichever executor the transaction has: SQLAlchemy Core, the SQLite
driver's cursor or psycopg's pipeline on PostgreSQL (:mod:`engine.store._sql_exec`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from engine.ledger.state import AccountState, LotRec, MsgRec, reminder_heap
from engine.model import Decision, LedgerEntry, LogRecord
from engine.store._sql_exec import CoreExec, DriverExec, PgExec
from engine.store._sql_schema import (
    ACCOUNT_COLS,
    AWAITING,
    CONNECTED,
    HAS_REVISION,
    INSERT_ACCOUNT,
    INSERT_CALL,
    INSERT_CONNECTION,
    INSERT_ENTRY,
    INSERT_KEY,
    INSERT_LOT,
    INSERT_MESSAGE,
    INSERT_REVISION,
    LIVE_LOTS,
    MESSAGE_EXISTS,
    PENDING_REMINDERS,
    SELECT_KEY,
    SELECT_MESSAGE,
    UPDATE_LOT,
    USABLE_LOTS,
    account_row,
    from_utc_text,
    lot_row,
    message_columns,
    message_from_row,
    message_row,
    one_line,
    opt_instant,
    sets,
    utc_text,
)

_UPDATES: dict[tuple[str, str, tuple[str, ...]], str] = {}


def update_of(table: str, key: str, row: dict[str, Any], key_value: Any) -> tuple[str, dict[str, Any]]:
    """An UPDATE of just the changed columns in ``row`` (statement text built once per column set).

    Writing only what changed means an untouched indexed column costs no index write.
    """
    cols = tuple(row)
    sql = _UPDATES.get((table, key, cols))
    if sql is None:
        sql = _UPDATES[(table, key, cols)] = one_line(f"UPDATE {table} SET {sets(cols)} WHERE {key} = :{key}")
    return sql, {**row, key: key_value}


def changed_update(
    table: str,
    key: str,
    key_value: Any,
    now: dict[str, Any],
    before: dict[str, Any] | None,
    cols: Iterable[str] | None = None,
) -> tuple[str, dict[str, Any]] | None:
    """:func:`update_of` the columns of ``now`` (those in ``cols``, default all) that differ from
    ``before`` (all of them if None); None when nothing changed."""
    changed = {k: now[k] for k in (now if cols is None else cols) if before is None or before[k] != now[k]}
    return update_of(table, key, changed, key_value) if changed else None


class SqlUnit:
    """One transaction; implements :class:`~engine.store.base.Unit`."""

    def __init__(self, conn: CoreExec | DriverExec | PgExec, select_account: str) -> None:
        self._c = conn
        self._select_account = select_account
        self._next_lot: dict[str, int] = {}  # lot ids below this were loaded (update), others are new
        self._messages: dict[str, MsgRec] = {}
        self._written: dict[str, dict[str, Any]] = {}  # each message's columns as the database has them
        self._rows: dict[str, dict[str, Any]] = {}  # each account's row as the database has it

    def recorded(self, key: str) -> tuple[str | None, Decision] | None:
        """The request and Decision stored under ``key`` (a store written before requests were kept
        holds the bare Decision: its request is unknown, None)."""
        row = self._c.one(SELECT_KEY, {"key": key})
        if row is None:
            return None
        data = json.loads(row[0])
        if "decision" in data and "request" in data:
            return data["request"], Decision.from_dict(data["decision"])
        return None, Decision.from_dict(data)

    def keep_revision(self, revision: str, texts: dict[str, Any]) -> None:
        if self._c.one(HAS_REVISION, {"revision": revision}) is None:
            self._c.run(INSERT_REVISION, {"revision": revision, "texts": json.dumps(texts)})

    def log(self, record: LogRecord) -> int:  # the database numbers the log
        rows = self._c.all(INSERT_CALL, call_row(record))
        return int(rows[0][0])

    def remember(self, key: str, account: str, request: str, decision: Decision) -> None:
        kept = json.dumps({"request": request, "decision": decision.to_dict()})
        self._c.run(INSERT_KEY, {"key": key, "account": account, "decision": kept})

    def account(self, name: str, spent: bool = True) -> AccountState | None:
        row = self._c.one(self._select_account, {"name": name})
        if row is None:
            return None
        (
            plan,
            active,
            payment,
            since,
            anchor,
            clock,
            start_pending,
            renew_k,
            next_renewal,
            next_due,
            balance,
            next_lot,
            next_seq,
            next_msg,
        ) = row
        acct = AccountState(name, plan, payment, from_utc_text(since), from_utc_text(anchor))
        acct.active = bool(active)
        acct.clock = from_utc_text(clock)
        acct.start_pending = bool(start_pending)
        acct.renew_k = renew_k
        acct.next_renewal = opt_instant(next_renewal)
        acct.next_due = opt_instant(next_due)
        acct.balance, acct.next_lot, acct.next_seq, acct.next_msg = balance, next_lot, next_seq, next_msg
        lots, reminders = self._c.gather(
            [
                (LIVE_LOTS if spent else USABLE_LOTS, {"account": name, "t": clock}),
                (PENDING_REMINDERS, {"sender": name, "no": False}),
            ]
        )
        acct.lots = [
            LotRec(i, src, n, left, from_utc_text(g), from_utc_text(e)) for i, src, n, left, g, e in lots
        ]
        acct.reminders = reminder_heap((from_utc_text(t), seq, i) for t, seq, i in reminders)
        self._next_lot[name] = acct.next_lot
        self._rows[name] = dict(zip(ACCOUNT_COLS, row, strict=True))
        return acct

    def row(self, name: str) -> dict[str, Any]:
        """The row of an account this unit loaded, as the database has it."""
        return self._rows[name]

    def new_account(self, acct: AccountState) -> None:
        row = self._rows[acct.name] = account_row(acct)
        self._c.run(INSERT_ACCOUNT, row)
        self._next_lot[acct.name] = acct.next_lot

    def save(self, acct: AccountState) -> None:
        c = self._c
        now = account_row(acct)
        update = changed_update("accounts", "name", acct.name, now, self._rows.get(acct.name), ACCOUNT_COLS)
        self._rows[acct.name] = now
        if update is not None:  # only what changed: an unchanged next_due costs no index write
            c.run(*update)
        first_new = self._next_lot.get(acct.name, 1)
        new = [lot_row(acct.name, lot) for lot in acct.dirty.values() if lot.id >= first_new]
        if new:
            c.many(INSERT_LOT, new)
        spent = [
            {"account": acct.name, "id": lot.id, "remaining": lot.remaining}
            for lot in acct.dirty.values()
            if lot.id < first_new
        ]
        if spent:
            c.many(UPDATE_LOT, spent)
        if acct.entries:
            c.many(INSERT_ENTRY, [entry_row(e) for e in acct.entries])
        self._next_lot[acct.name] = acct.next_lot
        acct.dirty.clear()
        acct.prior = {}
        acct.entries.clear()

    def message(self, message_id: str) -> MsgRec | None:
        """One record per message per transaction, so every change made to it is written."""
        msg = self._messages.get(message_id)
        if msg is None:
            row = self._c.one(SELECT_MESSAGE, {"id": message_id})
            if row is None:
                return None
            msg = self._messages[message_id] = message_from_row(row)
            self._written[message_id] = message_columns(msg)
        return msg

    def message_exists(self, message_id: str) -> bool:
        if message_id in self._messages:
            return True
        return self._c.one(MESSAGE_EXISTS, {"id": message_id}) is not None

    def add_message(self, msg: MsgRec) -> None:
        self._messages[msg.id] = msg
        cols = self._written[msg.id] = message_columns(msg)
        self._c.run(INSERT_MESSAGE, message_row(msg, cols))

    def update_message(self, msg: MsgRec) -> None:
        """Write only the columns that changed: an untouched indexed column costs no index write."""
        now = message_columns(msg)
        update = changed_update("messages", "id", msg.id, now, self._written.get(msg.id))
        self._written[msg.id] = now
        if update is not None:
            self._c.run(*update)

    def send_facts(self, sender: str, recipient: str, new_id: str | None) -> tuple[bool, bool, bool]:
        queries: list[tuple[str, dict[str, Any]]] = [
            (CONNECTED, {"a": sender, "b": recipient}),
            (AWAITING, {"sender": sender, "recipient": recipient, "yes": True}),
        ]
        if new_id is not None:
            queries.append((MESSAGE_EXISTS, {"id": new_id}))
        found = self._c.gather(queries)
        taken = new_id is not None and (new_id in self._messages or bool(found[2]))
        return bool(found[0]), bool(found[1]), taken

    def connected(self, a: str, b: str) -> bool:
        return self._c.one(CONNECTED, {"a": a, "b": b}) is not None

    def connect(self, a: str, b: str, at: dt.datetime) -> None:
        for x, y in ((a, b), (b, a)):
            if not self.connected(x, y):
                self._c.run(INSERT_CONNECTION, {"a": x, "b": y, "at": utc_text(at)})


def call_row(record: LogRecord) -> dict[str, Any]:
    """A logged call as the calls table takes it (the database numbers it, unless ``seq`` is added)."""
    fields = record._asdict()
    return {**fields, "at": utc_text(fields["at"]), "args": json.dumps(fields["args"], default=iso_json)}


def entry_row(e: LedgerEntry) -> dict[str, Any]:
    """The ``entries`` row of a ledger entry (its parameters for ``INSERT_ENTRY``)."""
    return {
        "account": e.account,
        "seq": e.seq,
        "at": utc_text(e.at),
        "kind": e.kind,
        "lot": e.lot,
        "amount": e.amount,
        "balance_after": e.balance_after,
        "event": e.event,
        "rule": e.rule,
        "requirements": ",".join(e.requirements),
        "message": e.message,
        "note": e.note,
    }


def iso_json(value: Any) -> str:
    """Instants in a call's arguments, as the log writes them (JSON has no datetime)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot log a {type(value).__name__}")
