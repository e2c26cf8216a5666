"""The SQL store: SQLAlchemy Core tables on SQLite (a file) or PostgreSQL (a URL).

Each engine call is one transaction. The acting account's row is locked and
its live lots and pending reminders are read inside that transaction, so no
process keeps the truth in memory and two processes on one database always
see the same balance. Concurrent writers serialise: SQLite takes the write
lock at ``BEGIN IMMEDIATE``, PostgreSQL locks the account row with ``SELECT
... FOR UPDATE``. Both details live in :func:`_dialect_corner`; everything
else is portable Core.

Instants are stored as fixed-width UTC text (see :func:`engine.calendar.iso`),
which sorts and compares like the instant on every backend.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from engine.calendar import from_iso, iso
from engine.errors import EngineError
from engine.ledger import AccountState, LotRec
from engine.model import Decision, LedgerEntry
from engine.store import SCHEMA_VERSION, MsgRec, reminder_heap

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


def _dialect_corner(engine: sa.Engine) -> Callable[[sa.Connection], None]:
    """Every dialect-specific line of the store. Returns the schema-creation lock.

    SQLite: the driver's own transaction handling is switched off so that
    each write transaction starts with ``BEGIN IMMEDIATE`` (the database
    write lock, taken before any read, so two writers never interleave);
    reads start a plain ``BEGIN``. WAL lets readers work beside a writer and
    survives a killed process; ``busy_timeout`` makes a writer wait its turn.
    PostgreSQL: account rows are locked by ``with_for_update()`` in the
    portable code (SQLite ignores it); schema creation takes an advisory lock.
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

        return lambda conn: None
    if engine.dialect.name == "postgresql":
        def _schema_lock(conn: sa.Connection) -> None:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7413)")

        return _schema_lock
    return lambda conn: None


class SqlStore:
    """Implements :class:`~engine.store.Store` over a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {}
        in_memory = url.endswith(":memory:") or url.rstrip("/") in ("sqlite:", "sqlite:/")
        if url.startswith("sqlite") and in_memory:
            kwargs["poolclass"] = sa.StaticPool
        self._engine = sa.create_engine(url, **kwargs)
        schema_lock = _dialect_corner(self._engine)
        with self._engine.begin() as conn:
            schema_lock(conn)
            metadata.create_all(conn)
            version = conn.execute(sa.select(meta_t.c.value).where(meta_t.c.key == "schema_version")).scalar()
            if version is None:
                conn.execute(meta_t.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif version != str(SCHEMA_VERSION):
                raise EngineError(f"database schema version {version}, this engine needs {SCHEMA_VERSION}",
                                  "schema_version")

    @contextmanager
    def unit(self) -> Iterator[SqlUnit]:
        with self._engine.begin() as conn:
            yield SqlUnit(conn)

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

    def history(self, account: str) -> list[LedgerEntry]:
        q = sa.select(entries_t).where(entries_t.c.account == account).order_by(entries_t.c.seq)
        with self._read() as c:
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
        self._engine.dispose()


class SqlUnit:
    """One transaction; implements :class:`~engine.store.Unit`."""

    def __init__(self, conn: sa.Connection) -> None:
        self._c = conn
        self._next_lot: dict[str, int] = {}  # lot ids below this were loaded (update), others are new
        self._messages: dict[str, MsgRec] = {}

    def recorded(self, key: str) -> Decision | None:
        text = self._c.execute(sa.select(idempotency_t.c.decision).where(idempotency_t.c.key == key)).scalar()
        return None if text is None else Decision.from_dict(json.loads(text))

    def remember(self, key: str, account: str, decision: Decision) -> None:
        self._c.execute(idempotency_t.insert().values(key=key, account=account,
                                                      decision=json.dumps(decision.to_dict())))

    def account(self, name: str) -> AccountState | None:
        a = accounts_t.c
        q = sa.select(accounts_t).where(a.name == name).with_for_update()
        row = self._c.execute(q).mappings().first()
        if row is None:
            return None
        acct = AccountState(name, row["plan"], row["payment"], from_iso(row["since"]),
                            from_iso(row["billing_anchor"]))
        acct.active = row["active"]
        acct.clock = from_iso(row["clock"])
        acct.start_pending = row["start_pending"]
        acct.renew_k = row["renew_k"]
        acct.next_renewal = _opt(row["next_renewal"])
        acct.next_due = _opt(row["next_due"])
        acct.balance = row["balance"]
        acct.next_lot, acct.next_seq, acct.next_msg = row["next_lot"], row["next_seq"], row["next_msg"]
        lq = sa.select(lots_t).where(lots_t.c.account == name, lots_t.c.expires_at > row["clock"])
        acct.lots = [_lot(r) for r in self._c.execute(lq.order_by(lots_t.c.id)).mappings()]
        m = messages_t.c
        rq = sa.select(m.reminder_at, m.seq, m.id).where(m.sender == name, m.reminder_done.is_(False),
                                                        m.reminder_at.is_not(None))
        acct.reminders = reminder_heap((from_iso(t), s, i) for t, s, i in self._c.execute(rq))
        self._next_lot[name] = acct.next_lot
        return acct

    def new_account(self, acct: AccountState) -> None:
        self._c.execute(accounts_t.insert().values(name=acct.name, **_account_row(acct)))
        self._next_lot[acct.name] = acct.next_lot

    def save(self, acct: AccountState) -> None:
        c = self._c
        c.execute(accounts_t.update().where(accounts_t.c.name == acct.name).values(**_account_row(acct)))
        first_new = self._next_lot.get(acct.name, 1)
        new = [lot for lot in acct.dirty.values() if lot.id >= first_new]
        if new:
            c.execute(lots_t.insert(), [
                {"account": acct.name, "id": lot.id, "source": lot.source, "amount": lot.amount,
                 "remaining": lot.remaining, "granted_at": iso(lot.granted_at),
                 "expires_at": iso(lot.expires_at)}
                for lot in new])
        for lot in acct.dirty.values():
            if lot.id < first_new:
                c.execute(lots_t.update().where(lots_t.c.account == acct.name, lots_t.c.id == lot.id)
                          .values(remaining=lot.remaining))
        if acct.entries:
            c.execute(entries_t.insert(), [
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
            q = sa.select(messages_t).where(messages_t.c.id == message_id)
            row = self._c.execute(q).mappings().first()
            if row is None:
                return None
            msg = self._messages[message_id] = _message(row)
        return msg

    def message_exists(self, message_id: str) -> bool:
        q = sa.select(messages_t.c.id).where(messages_t.c.id == message_id)
        return self._c.execute(q).first() is not None

    def add_message(self, msg: MsgRec) -> None:
        self._messages[msg.id] = msg
        self._c.execute(messages_t.insert().values(
            id=msg.id, seq=msg.seq, sender=msg.sender, recipient=msg.recipient, kind=msg.kind,
            sent_at=iso(msg.sent_at), **_message_changes(msg)))

    def update_message(self, msg: MsgRec) -> None:
        self._c.execute(messages_t.update().where(messages_t.c.id == msg.id).values(**_message_changes(msg)))

    def awaiting(self, sender: str, recipient: str) -> bool:
        m = messages_t.c
        q = sa.select(m.id).where(m.sender == sender, m.recipient == recipient, m.awaiting.is_(True)).limit(1)
        return self._c.execute(q).first() is not None

    def connected(self, a: str, b: str) -> bool:
        q = sa.select(connections_t.c.a).where(connections_t.c.a == a, connections_t.c.b == b)
        return self._c.execute(q).first() is not None

    def connect(self, a: str, b: str, at: dt.datetime) -> None:
        for x, y in ((a, b), (b, a)):
            if not self.connected(x, y):
                self._c.execute(connections_t.insert().values(a=x, b=y, at=iso(at)))


def _opt(text: str | None) -> dt.datetime | None:
    return None if text is None else from_iso(text)


def _iso_opt(value: dt.datetime | None) -> str | None:
    return None if value is None else iso(value)


def _account_row(acct: AccountState) -> dict[str, Any]:
    return {
        "plan": acct.plan, "active": acct.active, "payment": acct.payment, "since": iso(acct.since),
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
    msg = MsgRec(r["id"], r["seq"], r["sender"], r["recipient"], r["kind"], from_iso(r["sent_at"]))
    msg.lot, msg.awaiting, msg.credited = r["lot"], r["awaiting"], r["credited"]
    msg.responded_at, msg.response_type, msg.status = _opt(r["responded_at"]), r["response_type"], r["status"]
    msg.reminder_at, msg.reminder_done, msg.reminded_at = (_opt(r["reminder_at"]), r["reminder_done"],
                                                           _opt(r["reminded_at"]))
    return msg
