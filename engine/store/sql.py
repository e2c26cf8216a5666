"""The SQL store: SQLAlchemy Core tables on SQLite (a file) or PostgreSQL (a URL).

Each engine call is one transaction. The acting account's row is locked and
its live lots and pending reminders are read inside that transaction, so no
process keeps the truth in memory and two processes on one database always
see the same balance. Concurrent writers serialise: SQLite takes the write
lock at ``BEGIN IMMEDIATE``, PostgreSQL locks the account row with ``SELECT
... FOR UPDATE``. Both details live in :func:`_dialect_corner`; everything
else is portable Core.

Instants are stored as fixed-width UTC text (see :func:`engine.ledger.calendar.iso`),
which sorts and compares like the instant on every backend.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa

from engine.errors import EngineError
from engine.ledger.calendar import from_iso, iso
from engine.ledger.state import AccountState, LotRec, MsgRec, reminder_heap
from engine.model import Decision, LedgerEntry
from engine.store._sql_exec import CoreExec, DriverExec

#: Bumped (with a migration) whenever the tables change shape.
SCHEMA_VERSION = 1

_T = sa.String(40)  # an instant
_NAME = sa.String(200)
metadata = sa.MetaData()

meta_t = sa.Table("meta", metadata, sa.Column("key", sa.String(64), primary_key=True),
                  sa.Column("value", sa.Text, nullable=False))
accounts_t = sa.Table(
    "accounts", metadata,
    sa.Column("name", _NAME, primary_key=True),
    sa.Column("plan", sa.String(64), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),  # subscribed (false after a cancel)
    sa.Column("payment", sa.String(16), nullable=False),
    sa.Column("since", _T, nullable=False),
    sa.Column("billing_anchor", _T, nullable=False),
    sa.Column("clock", _T, nullable=False),
    sa.Column("start_pending", sa.Boolean, nullable=False),
    sa.Column("renew_k", sa.Integer, nullable=False),  # next renewal = anchor + renew_k months
    sa.Column("next_renewal", _T),
    sa.Column("next_due", _T, index=True),
    sa.Column("balance", sa.Integer, nullable=False),
    sa.Column("next_lot", sa.Integer, nullable=False),
    sa.Column("next_seq", sa.Integer, nullable=False),
    sa.Column("next_msg", sa.Integer, nullable=False),
)
lots_t = sa.Table(
    "lots", metadata,
    sa.Column("account", _NAME, primary_key=True),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("remaining", sa.Integer, nullable=False),
    sa.Column("granted_at", _T, nullable=False),
    sa.Column("expires_at", _T, nullable=False),
    sa.Index("lots_live", "account", "expires_at"),
)
entries_t = sa.Table(
    "entries", metadata,
    sa.Column("account", _NAME, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("at", _T, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("lot", sa.Integer),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("balance_after", sa.Integer, nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("requirements", sa.Text, nullable=False),  # comma-separated ids
    sa.Column("message", _NAME),
    sa.Column("note", sa.Text, nullable=False),
)
messages_t = sa.Table(
    "messages", metadata,
    sa.Column("id", _NAME, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("sender", _NAME, nullable=False),
    sa.Column("recipient", _NAME, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # inmail | free
    sa.Column("sent_at", _T, nullable=False),
    sa.Column("lot", sa.Integer),  # the lot the credit came from
    sa.Column("awaiting", sa.Boolean, nullable=False),
    sa.Column("responded_at", _T),
    sa.Column("response_type", sa.String(64)),
    sa.Column("status", sa.String(16)),
    sa.Column("credited", sa.Boolean, nullable=False),
    sa.Column("reminder_at", _T),
    sa.Column("reminder_done", sa.Boolean, nullable=False),
    sa.Column("reminded_at", _T),
    sa.Index("messages_pair", "sender", "recipient", "awaiting"),
    sa.Index("messages_reminders", "sender", "reminder_done"),
    sa.Index("messages_reminded", "reminded_at"),
)
connections_t = sa.Table(
    "connections", metadata,
    sa.Column("a", _NAME, primary_key=True),
    sa.Column("b", _NAME, primary_key=True),
    sa.Column("at", _T, nullable=False),
)
idempotency_t = sa.Table(
    "idempotency", metadata,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("account", _NAME, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),  # Decision.to_dict() as JSON
)


def _dialect_corner(engine: sa.Engine) -> tuple[Callable[[sa.Connection], None], str]:
    """Every dialect-specific line of the store: (schema-creation lock, account row lock clause).

    SQLite: the driver's own transaction handling is switched off so that
    each write transaction starts with ``BEGIN IMMEDIATE`` (the database
    write lock, taken before any read, so two writers never interleave);
    reads start a plain ``BEGIN``. WAL lets readers work beside a writer and
    survives a killed process; ``busy_timeout`` makes a writer wait its turn.
    PostgreSQL: the acting account's row is read ``FOR UPDATE``, so writers
    of one account serialise and others run side by side; schema creation
    takes an advisory lock so that two first-time processes do not race.
    """
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 120000")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            read = conn.get_execution_options().get("inmail_read", False)
            conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

        return (lambda conn: None), ""

    def _schema_lock(conn: sa.Connection) -> None:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7413)")

    return _schema_lock, " FOR UPDATE"


class SqlStore:
    """Implements :class:`~engine.store.base.Store` over a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {}
        in_memory = url.endswith(":memory:") or url.rstrip("/") in ("sqlite:", "sqlite:/")
        if url.startswith("sqlite") and in_memory:
            kwargs["poolclass"] = sa.StaticPool
        try:
            self._engine = sa.create_engine(url, **kwargs)
            schema_lock, for_update = _dialect_corner(self._engine)
            self._select_account = _sql(_SELECT_ACCOUNT + for_update)
            self._sqlite = self._engine.dialect.name == "sqlite"
            self._memory_lock: AbstractContextManager[Any] = (
                threading.Lock() if self._sqlite and in_memory else nullcontext())
            self._local = threading.local()
            self._fairies: list[Any] = []
            with self._engine.begin() as conn:
                schema_lock(conn)
                metadata.create_all(conn)
                q = sa.select(meta_t.c.value).where(meta_t.c.key == "schema_version")
                version = conn.execute(q).scalar()
                if version is None:
                    conn.execute(meta_t.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        except (sa.exc.SQLAlchemyError, ImportError) as exc:  # bad URL, missing driver, unreadable file
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise EngineError(f"cannot open the database `{_shown(url)}`: {reason}",
                              "database_unavailable") from None
        if version is not None and version != str(SCHEMA_VERSION):
            self._engine.dispose()
            raise EngineError(f"database schema version {version}, this engine needs {SCHEMA_VERSION}",
                              "schema_version")

    @contextmanager
    def unit(self) -> Iterator[SqlUnit]:
        if self._sqlite:
            with self._sqlite_unit() as unit:
                yield unit
            return
        with self._engine.begin() as conn:
            yield SqlUnit(CoreExec(conn), self._select_account)

    @contextmanager
    def _sqlite_unit(self) -> Iterator[SqlUnit]:
        """SQLite: the same statements on the driver's cursor, in ``BEGIN IMMEDIATE`` ... ``COMMIT``.

        SQLAlchemy's per-statement machinery (result metadata, events,
        parameter processing) cost ten times the statement itself on SQLite;
        the connection still comes from SQLAlchemy's pool, set up by the same
        ``connect`` hook (WAL, busy timeout, driver transactions off), and is
        kept by its thread. Only the transaction boundaries and the cursor are
        the driver's; the truth is read inside the transaction as before.
        """
        raw = self._raw_connection()
        with self._memory_lock:
            cur = raw.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield SqlUnit(DriverExec(cur), self._select_account)
                    cur.execute("COMMIT")
                except BaseException:
                    if raw.in_transaction:
                        cur.execute("ROLLBACK")
                    raise
            finally:
                cur.close()

    def _raw_connection(self) -> Any:
        """This thread's pooled driver connection (one per thread; returned to the pool on close)."""
        fairy = getattr(self._local, "fairy", None)
        if fairy is None:
            fairy = self._local.fairy = self._engine.raw_connection()
            self._fairies.append(fairy)
        return fairy.driver_connection

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(inmail_read=True)
            with conn.begin():
                yield conn

    def accounts(self) -> list[str]:
        with self._read() as c:
            return list(c.execute(sa.select(accounts_t.c.name).order_by(accounts_t.c.name)).scalars())

    def due_accounts(self, to: dt.datetime) -> list[str]:
        q = sa.select(accounts_t.c.name).where(accounts_t.c.next_due <= iso(to)).order_by(accounts_t.c.name)
        with self._read() as c:
            return list(c.execute(q).scalars())

    def history(self, account: str) -> list[LedgerEntry] | None:
        q = sa.select(entries_t).where(entries_t.c.account == account).order_by(entries_t.c.seq)
        with self._read() as c:
            if c.execute(sa.select(accounts_t.c.name).where(accounts_t.c.name == account)).first() is None:
                return None
            return [_entry(r) for r in c.execute(q).mappings()]

    def lots_and_entries(self, account: str, at: dt.datetime) -> tuple[list[LotRec], list[LedgerEntry]]:
        t = iso(at)
        lq = sa.select(lots_t).where(lots_t.c.account == account, lots_t.c.granted_at <= t,
                                     lots_t.c.expires_at > t)
        eq = sa.select(entries_t).where(entries_t.c.account == account, entries_t.c.at <= t)
        with self._read() as c:
            return ([_lot(r) for r in c.execute(lq).mappings()],
                    [_entry(r) for r in c.execute(eq.order_by(entries_t.c.seq)).mappings()])

    def reminded(self, at: dt.datetime | None) -> list[str]:
        m = messages_t.c
        q = sa.select(m.id).where(m.reminded_at.is_not(None))
        if at is not None:
            q = q.where(m.reminded_at <= iso(at))
        with self._read() as c:
            return list(c.execute(q.order_by(m.reminded_at, m.sender, m.seq)).scalars())

    def close(self) -> None:
        for fairy in self._fairies:
            fairy.close()
        self._fairies.clear()
        self._local = threading.local()
        self._engine.dispose()


def _sql(text: str) -> str:
    return " ".join(text.split())


def _params(cols: tuple[str, ...]) -> str:
    return ", ".join(f":{c}" for c in cols)


def _sets(cols: tuple[str, ...]) -> str:
    return ", ".join(f"{c} = :{c}" for c in cols)


# The statements of a transaction, as plain portable SQL: built once, they cost the
# driver call and little else (Core expression objects would be rebuilt per call).
_ACCOUNT_COLS = ("plan", "active", "payment", "since", "billing_anchor", "clock", "start_pending", "renew_k",
                 "next_renewal", "next_due", "balance", "next_lot", "next_seq", "next_msg")
_SELECT_ACCOUNT = f"SELECT {', '.join(_ACCOUNT_COLS)} FROM accounts WHERE name = :name"
_INSERT_ACCOUNT = _sql(f"INSERT INTO accounts (name, {', '.join(_ACCOUNT_COLS)}) "
                       f"VALUES (:name, {_params(_ACCOUNT_COLS)})")
_UPDATE_ACCOUNT_COLS: dict[tuple[str, ...], str] = {}  # by the columns a call changed
_LIVE_LOTS = _sql("""SELECT id, source, amount, remaining, granted_at, expires_at FROM lots
                     WHERE account = :account AND expires_at > :t ORDER BY id""")
_USABLE_LOTS = _sql("""SELECT id, source, amount, remaining, granted_at, expires_at FROM lots
                       WHERE account = :account AND expires_at > :t AND remaining > 0 ORDER BY id""")
_PENDING_REMINDERS = _sql("""SELECT reminder_at, seq, id FROM messages
                             WHERE sender = :sender AND reminder_done = :no AND reminder_at IS NOT NULL""")
_INSERT_LOT = _sql("""INSERT INTO lots (account, id, source, amount, remaining, granted_at, expires_at)
                      VALUES (:account, :id, :source, :amount, :remaining, :granted_at, :expires_at)""")
_UPDATE_LOT = _sql("UPDATE lots SET remaining = :remaining WHERE account = :account AND id = :id")
_INSERT_ENTRY = _sql("""INSERT INTO entries (account, seq, at, kind, lot, amount, balance_after, event, rule,
                                             requirements, message, note)
                        VALUES (:account, :seq, :at, :kind, :lot, :amount, :balance_after, :event, :rule,
                                :requirements, :message, :note)""")
_MESSAGE_COLS = ("lot", "awaiting", "responded_at", "response_type", "status", "credited", "reminder_at",
                 "reminder_done", "reminded_at")
_SELECT_MESSAGE = _sql(f"SELECT id, seq, sender, recipient, kind, sent_at, {', '.join(_MESSAGE_COLS)} "
                       "FROM messages WHERE id = :id")
_MESSAGE_EXISTS = _sql("SELECT 1 FROM messages WHERE id = :id")
_INSERT_MESSAGE = _sql(f"INSERT INTO messages (id, seq, sender, recipient, kind, sent_at, "
                       f"{', '.join(_MESSAGE_COLS)}) VALUES (:id, :seq, :sender, :recipient, :kind, "
                       f":sent_at, {_params(_MESSAGE_COLS)})")
_UPDATE_MESSAGE_COLS: dict[tuple[str, ...], str] = {}  # by the columns a call changed
_AWAITING = _sql("""SELECT 1 FROM messages
                    WHERE sender = :sender AND recipient = :recipient AND awaiting = :yes""")
_CONNECTED = _sql("SELECT 1 FROM connections WHERE a = :a AND b = :b")
_INSERT_CONNECTION = _sql("INSERT INTO connections (a, b, at) VALUES (:a, :b, :at)")
_SELECT_KEY = _sql("SELECT decision FROM idempotency WHERE key = :key")
_INSERT_KEY = _sql("INSERT INTO idempotency (key, account, decision) VALUES (:key, :account, :decision)")


class SqlUnit:
    """One transaction; implements :class:`~engine.store.base.Unit`."""

    def __init__(self, conn: CoreExec | DriverExec, select_account: str) -> None:
        self._c = conn
        self._select_account = select_account
        self._next_lot: dict[str, int] = {}  # lot ids below this were loaded (update), others are new
        self._messages: dict[str, MsgRec] = {}
        self._written: dict[str, dict[str, Any]] = {}  # each message's columns as the database has them
        self._rows: dict[str, dict[str, Any]] = {}  # each account's row as the database has it

    def recorded(self, key: str) -> Decision | None:
        row = self._c.one(_SELECT_KEY, {"key": key})
        return None if row is None else Decision.from_dict(json.loads(row[0]))

    def remember(self, key: str, account: str, decision: Decision) -> None:
        self._c.run(_INSERT_KEY, {"key": key, "account": account,
                                      "decision": json.dumps(decision.to_dict())})

    def account(self, name: str, spent: bool = True) -> AccountState | None:
        row = self._c.one(self._select_account, {"name": name})
        if row is None:
            return None
        (plan, active, payment, since, anchor, clock, start_pending, renew_k, next_renewal, next_due, balance,
         next_lot, next_seq, next_msg) = row
        acct = AccountState(name, plan, payment, from_iso(since), from_iso(anchor))
        acct.active = bool(active)
        acct.clock = from_iso(clock)
        acct.start_pending = bool(start_pending)
        acct.renew_k = renew_k
        acct.next_renewal = _opt(next_renewal)
        acct.next_due = _opt(next_due)
        acct.balance, acct.next_lot, acct.next_seq, acct.next_msg = balance, next_lot, next_seq, next_msg
        rows = self._c.all(_LIVE_LOTS if spent else _USABLE_LOTS, {"account": name, "t": clock})
        acct.lots = [LotRec(i, src, n, left, from_iso(g), from_iso(e)) for i, src, n, left, g, e in rows]
        rows = self._c.all(_PENDING_REMINDERS, {"sender": name, "no": False})
        acct.reminders = reminder_heap((from_iso(t), seq, i) for t, seq, i in rows)
        self._next_lot[name] = acct.next_lot
        self._rows[name] = dict(zip(_ACCOUNT_COLS, row, strict=True))
        return acct

    def new_account(self, acct: AccountState) -> None:
        row = self._rows[acct.name] = _account_row(acct)
        self._c.run(_INSERT_ACCOUNT, row)
        self._next_lot[acct.name] = acct.next_lot

    def save(self, acct: AccountState) -> None:
        c = self._c
        now = _account_row(acct)
        before = self._rows.get(acct.name)
        changed = {k: now[k] for k in _ACCOUNT_COLS if before is None or before[k] != now[k]}
        self._rows[acct.name] = now
        if changed:  # only what changed: an unchanged next_due costs no index write
            cols = tuple(changed)
            sql = _UPDATE_ACCOUNT_COLS.get(cols)
            if sql is None:
                sql = _sql(f"UPDATE accounts SET {_sets(cols)} WHERE name = :name")
                _UPDATE_ACCOUNT_COLS[cols] = sql
            changed["name"] = acct.name
            c.run(sql, changed)
        first_new = self._next_lot.get(acct.name, 1)
        new = [{"account": acct.name, "id": lot.id, "source": lot.source, "amount": lot.amount,
                "remaining": lot.remaining, "granted_at": iso(lot.granted_at),
                "expires_at": iso(lot.expires_at)}
               for lot in acct.dirty.values() if lot.id >= first_new]
        if new:
            c.many(_INSERT_LOT, new)
        spent = [{"account": acct.name, "id": lot.id, "remaining": lot.remaining}
                 for lot in acct.dirty.values() if lot.id < first_new]
        if spent:
            c.many(_UPDATE_LOT, spent)
        if acct.entries:
            c.many(_INSERT_ENTRY, [
                {"account": e.account, "seq": e.seq, "at": iso(e.at), "kind": e.kind, "lot": e.lot,
                 "amount": e.amount, "balance_after": e.balance_after, "event": e.event, "rule": e.rule,
                 "requirements": ",".join(e.requirements), "message": e.message, "note": e.note}
                for e in acct.entries])
        self._next_lot[acct.name] = acct.next_lot
        acct.dirty.clear()
        acct.entries.clear()

    def message(self, message_id: str) -> MsgRec | None:
        """One record per message per transaction, so every change made to it is written."""
        msg = self._messages.get(message_id)
        if msg is None:
            row = self._c.one(_SELECT_MESSAGE, {"id": message_id})
            if row is None:
                return None
            msg = self._messages[message_id] = _message(row)
            self._written[message_id] = _message_changes(msg)
        return msg

    def message_exists(self, message_id: str) -> bool:
        if message_id in self._messages:
            return True
        return self._c.one(_MESSAGE_EXISTS, {"id": message_id}) is not None

    def add_message(self, msg: MsgRec) -> None:
        self._messages[msg.id] = msg
        cols = self._written[msg.id] = _message_changes(msg)
        self._c.run(_INSERT_MESSAGE, {"id": msg.id, "seq": msg.seq, "sender": msg.sender,
                                      "recipient": msg.recipient, "kind": msg.kind,
                                      "sent_at": iso(msg.sent_at), **cols})

    def update_message(self, msg: MsgRec) -> None:
        """Write only the columns that changed: an untouched indexed column costs no index write."""
        now = _message_changes(msg)
        before = self._written.get(msg.id)
        changed = {k: v for k, v in now.items() if before is None or before[k] != v}
        self._written[msg.id] = now
        if changed:
            names = tuple(changed)
            sql = _UPDATE_MESSAGE_COLS.get(names)
            if sql is None:
                sql = _UPDATE_MESSAGE_COLS[names] = _sql(f"UPDATE messages SET {_sets(names)} WHERE id = :id")
            changed["id"] = msg.id
            self._c.run(sql, changed)

    def awaiting(self, sender: str, recipient: str) -> bool:
        args = {"sender": sender, "recipient": recipient, "yes": True}
        return self._c.one(_AWAITING, args) is not None

    def connected(self, a: str, b: str) -> bool:
        return self._c.one(_CONNECTED, {"a": a, "b": b}) is not None

    def connect(self, a: str, b: str, at: dt.datetime) -> None:
        for x, y in ((a, b), (b, a)):
            if not self.connected(x, y):
                self._c.run(_INSERT_CONNECTION, {"a": x, "b": y, "at": iso(at)})


def _shown(url: str) -> str:
    """The URL as it may be printed: without its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: nothing secret to hide in it
        return url


def _opt(text: str | None) -> dt.datetime | None:
    return None if text is None else from_iso(text)


def _iso_opt(value: dt.datetime | None) -> str | None:
    return None if value is None else iso(value)


def _account_row(acct: AccountState) -> dict[str, Any]:
    return {
        "name": acct.name, "plan": acct.plan, "active": acct.active, "payment": acct.payment,
        "since": iso(acct.since),
        "billing_anchor": iso(acct.anchor), "clock": iso(acct.clock), "start_pending": acct.start_pending,
        "renew_k": acct.renew_k, "next_renewal": _iso_opt(acct.next_renewal),
        "next_due": _iso_opt(acct.next_due), "balance": acct.balance, "next_lot": acct.next_lot,
        "next_seq": acct.next_seq, "next_msg": acct.next_msg,
    }


def _lot(r: Any) -> LotRec:
    return LotRec(r["id"], r["source"], r["amount"], r["remaining"], from_iso(r["granted_at"]),
                  from_iso(r["expires_at"]))


def _entry(r: Any) -> LedgerEntry:
    reqs = tuple(x for x in r["requirements"].split(",") if x)
    return LedgerEntry(r["seq"], r["account"], from_iso(r["at"]), r["kind"], r["lot"], r["amount"],
                       r["balance_after"], r["event"], r["rule"], reqs, r["message"], r["note"])


def _message_changes(msg: MsgRec) -> dict[str, Any]:
    return {
        "lot": msg.lot, "awaiting": msg.awaiting, "responded_at": _iso_opt(msg.responded_at),
        "response_type": msg.response_type, "status": msg.status, "credited": msg.credited,
        "reminder_at": _iso_opt(msg.reminder_at), "reminder_done": msg.reminder_done,
        "reminded_at": _iso_opt(msg.reminded_at),
    }


def _message(r: Any) -> MsgRec:
    (id_, seq, sender, recipient, kind, sent_at, lot, awaiting, responded_at, response_type, status, credited,
     reminder_at, reminder_done, reminded_at) = r
    msg = MsgRec(id_, seq, sender, recipient, kind, from_iso(sent_at))
    msg.lot, msg.awaiting, msg.credited = lot, bool(awaiting), bool(credited)
    msg.responded_at, msg.response_type, msg.status = _opt(responded_at), response_type, status
    msg.reminder_at, msg.reminded_at = _opt(reminder_at), _opt(reminded_at)
    msg.reminder_done = bool(reminder_done)
    return msg
