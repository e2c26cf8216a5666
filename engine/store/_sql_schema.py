"""The SQL store's tables, the statements a transaction runs, and how rows become records.

The schema version is stored in the ``meta`` table; a database made by a
different version is refused rather than misread. Instants are stored as
fixed-width UTC text (:func:`utc_text`), which sorts and compares like the
instant on every backend, so "due by then" is a plain text comparison.

On SQLite a commit costs by the pages it writes, so the lots, entries and
messages keep their rows in their primary key's B-tree (``WITHOUT ROWID``:
no second tree beside the table for the key; for ``accounts`` it saved
nothing, measured), and the index of
reminded messages holds only those (most are never reminded): fewer pages
per call (bench/RESULTS.md has the counts). A store made before
keeps its rowid tables and works the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from engine.ledger.state import AccountState, LotRec, MsgRec
from engine.model import LedgerEntry

#: Bumped (with a migration) whenever the tables change shape. 2: the event log (``calls``).
#: Not bumped for how a table is laid out on disk: a store made with SQLite's ``WITHOUT ROWID``
#: tables and the partial index below reads and writes like one made without them.
SCHEMA_VERSION = 2

_T = sa.String(40)  # an instant
_NAME = sa.String(200)
metadata = sa.MetaData()

meta_t = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
accounts_t = sa.Table(
    "accounts",
    metadata,
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
    "lots",
    metadata,
    sa.Column("account", _NAME, primary_key=True),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("remaining", sa.Integer, nullable=False),
    sa.Column("granted_at", _T, nullable=False),
    sa.Column("expires_at", _T, nullable=False),
    sa.Index("lots_live", "account", "expires_at"),
    sqlite_with_rowid=False,
)
entries_t = sa.Table(
    "entries",
    metadata,
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
    sqlite_with_rowid=False,
)
messages_t = sa.Table(
    "messages",
    metadata,
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
    sa.Index(
        "messages_reminded",
        "reminded_at",
        sqlite_where=sa.text("reminded_at IS NOT NULL"),
        postgresql_where=sa.text("reminded_at IS NOT NULL"),
    ),
    sqlite_with_rowid=False,
)
connections_t = sa.Table(
    "connections",
    metadata,
    sa.Column("a", _NAME, primary_key=True),
    sa.Column("b", _NAME, primary_key=True),
    sa.Column("at", _T, nullable=False),
)
calls_t = sa.Table(
    "calls",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", _T, nullable=False),
    sa.Column("account", _NAME, nullable=False, index=True),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("args", sa.Text, nullable=False),  # the call's arguments as JSON
    sa.Column("key", sa.String(400)),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(64)),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("message", _NAME),
    sa.Column("revision", sa.String(64), nullable=False),
)
revisions_t = sa.Table(
    "revisions",
    metadata,
    sa.Column("revision", sa.String(64), primary_key=True),
    sa.Column("texts", sa.Text, nullable=False),  # {"policy", "override", "rules": {file: text}} as JSON
)
idempotency_t = sa.Table(
    "idempotency",
    metadata,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("account", _NAME, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),  # Decision.to_dict() as JSON
)


#: The texts of UTC instants formatted lately, by instant. ``isoformat`` costs about ten times
#: what a lookup does (its generic formatter), and a call formats the same instants again and
#: again: its own in its log row, its entries and its account's clock; its account's fixed ones
#: each time the row is saved. Two in three are found here (bench/RESULTS.md, "Instant texts
#: remembered"). Only instants in UTC are kept: for those, equal means the same instant, so the
#: same text. Emptied when full, so it never holds more than this many (about 2.5 MB).
_TEXTS: dict[dt.datetime, str] = {}
_TEXTS_KEPT = 1 << 14


def utc_text(value: dt.datetime) -> str:
    """Fixed-width UTC text: sorts like the instant, so a database can compare it as text."""
    if value.tzinfo is dt.UTC and value.year >= 1000:  # the engine's own: same text, cheaper (7cd3919)
        text = _TEXTS.get(value)
        if text is None:
            if len(_TEXTS) >= _TEXTS_KEPT:
                _TEXTS.clear()
            text = _TEXTS[value] = value.isoformat(timespec="microseconds")
        return text
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def from_utc_text(text: str) -> dt.datetime:
    """Inverse of :func:`utc_text` (accepts any offset the engine itself wrote)."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)


def one_line(text: str) -> str:
    return " ".join(text.split())


def params(cols: tuple[str, ...]) -> str:
    return ", ".join(f":{c}" for c in cols)


def sets(cols: tuple[str, ...]) -> str:
    return ", ".join(f"{c} = :{c}" for c in cols)


# The statements of a transaction, as plain portable SQL: built once, they cost the
# driver call and little else (Core expression objects would be rebuilt per call).
ACCOUNT_COLS = (
    "plan",
    "active",
    "payment",
    "since",
    "billing_anchor",
    "clock",
    "start_pending",
    "renew_k",
    "next_renewal",
    "next_due",
    "balance",
    "next_lot",
    "next_seq",
    "next_msg",
)
SELECT_ACCOUNT = f"SELECT {', '.join(ACCOUNT_COLS)} FROM accounts WHERE name = :name"
INSERT_ACCOUNT = one_line(
    f"INSERT INTO accounts (name, {', '.join(ACCOUNT_COLS)}) VALUES (:name, {params(ACCOUNT_COLS)})"
)
LIVE_LOTS = one_line("""SELECT id, source, amount, remaining, granted_at, expires_at FROM lots
                     WHERE account = :account AND expires_at > :t ORDER BY id""")
USABLE_LOTS = one_line("""SELECT id, source, amount, remaining, granted_at, expires_at FROM lots
                       WHERE account = :account AND expires_at > :t AND remaining > 0 ORDER BY id""")
PENDING_REMINDERS = one_line("""SELECT reminder_at, seq, id FROM messages
                             WHERE sender = :sender AND reminder_done = :no AND reminder_at IS NOT NULL""")
INSERT_LOT = one_line("""INSERT INTO lots (account, id, source, amount, remaining, granted_at, expires_at)
                      VALUES (:account, :id, :source, :amount, :remaining, :granted_at, :expires_at)""")
UPDATE_LOT = one_line("UPDATE lots SET remaining = :remaining WHERE account = :account AND id = :id")
INSERT_ENTRY = one_line("""INSERT INTO entries (account, seq, at, kind, lot, amount, balance_after, event,
                                                 rule, requirements, message, note)
                        VALUES (:account, :seq, :at, :kind, :lot, :amount, :balance_after, :event, :rule,
                                :requirements, :message, :note)""")
MESSAGE_COLS = (
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
SELECT_MESSAGE = one_line(
    f"SELECT id, seq, sender, recipient, kind, sent_at, {', '.join(MESSAGE_COLS)} "
    "FROM messages WHERE id = :id"
)
MESSAGE_EXISTS = one_line("SELECT 1 FROM messages WHERE id = :id")
INSERT_MESSAGE = one_line(
    f"INSERT INTO messages (id, seq, sender, recipient, kind, sent_at, "
    f"{', '.join(MESSAGE_COLS)}) VALUES (:id, :seq, :sender, :recipient, :kind, "
    f":sent_at, {params(MESSAGE_COLS)})"
)
AWAITING = one_line("""SELECT 1 FROM messages
                    WHERE sender = :sender AND recipient = :recipient AND awaiting = :yes""")
CONNECTED = one_line("SELECT 1 FROM connections WHERE a = :a AND b = :b")
INSERT_CONNECTION = one_line("INSERT INTO connections (a, b, at) VALUES (:a, :b, :at)")
INSERT_CALL = one_line(
    "INSERT INTO calls (at, account, method, args, key, outcome, reason, rule, message, "
    "revision) VALUES (:at, :account, :method, :args, :key, :outcome, :reason, :rule, "
    ":message, :revision) RETURNING seq"
)
HAS_REVISION = "SELECT 1 FROM revisions WHERE revision = :revision"
INSERT_REVISION = "INSERT INTO revisions (revision, texts) VALUES (:revision, :texts)"
SELECT_KEY = one_line("SELECT decision FROM idempotency WHERE key = :key")
INSERT_KEY = one_line("INSERT INTO idempotency (key, account, decision) VALUES (:key, :account, :decision)")


def opt_instant(text: str | None) -> dt.datetime | None:
    return None if text is None else from_utc_text(text)


def opt_text(value: dt.datetime | None) -> str | None:
    return None if value is None else utc_text(value)


def account_row(acct: AccountState) -> dict[str, Any]:
    return {
        "name": acct.name,
        "plan": acct.plan,
        "active": acct.active,
        "payment": acct.payment,
        "since": utc_text(acct.since),
        "billing_anchor": utc_text(acct.anchor),
        "clock": utc_text(acct.clock),
        "start_pending": acct.start_pending,
        "renew_k": acct.renew_k,
        "next_renewal": opt_text(acct.next_renewal),
        "next_due": opt_text(acct.next_due),
        "balance": acct.balance,
        "next_lot": acct.next_lot,
        "next_seq": acct.next_seq,
        "next_msg": acct.next_msg,
    }


def lot_from_row(r: Any) -> LotRec:
    return LotRec(
        r["id"],
        r["source"],
        r["amount"],
        r["remaining"],
        from_utc_text(r["granted_at"]),
        from_utc_text(r["expires_at"]),
    )


def entry_from_row(r: Any) -> LedgerEntry:
    reqs = tuple(x for x in r["requirements"].split(",") if x)
    return LedgerEntry(
        r["seq"],
        r["account"],
        from_utc_text(r["at"]),
        r["kind"],
        r["lot"],
        r["amount"],
        r["balance_after"],
        r["event"],
        r["rule"],
        reqs,
        r["message"],
        r["note"],
    )


def lot_row(account: str, lot: LotRec) -> dict[str, Any]:
    """A new lot as the lots table takes it."""
    return {
        "account": account,
        "id": lot.id,
        "source": lot.source,
        "amount": lot.amount,
        "remaining": lot.remaining,
        "granted_at": utc_text(lot.granted_at),
        "expires_at": utc_text(lot.expires_at),
    }


def message_row(msg: MsgRec, columns: dict[str, Any]) -> dict[str, Any]:
    """A new message as the messages table takes it (``columns``: its :func:`message_columns`)."""
    return {
        "id": msg.id,
        "seq": msg.seq,
        "sender": msg.sender,
        "recipient": msg.recipient,
        "kind": msg.kind,
        "sent_at": utc_text(msg.sent_at),
        **columns,
    }


def message_columns(msg: MsgRec) -> dict[str, Any]:
    return {
        "lot": msg.lot,
        "awaiting": msg.awaiting,
        "responded_at": opt_text(msg.responded_at),
        "response_type": msg.response_type,
        "status": msg.status,
        "credited": msg.credited,
        "reminder_at": opt_text(msg.reminder_at),
        "reminder_done": msg.reminder_done,
        "reminded_at": opt_text(msg.reminded_at),
    }


def message_from_row(r: Any) -> MsgRec:
    (
        id_,
        seq,
        sender,
        recipient,
        kind,
        sent_at,
        lot,
        awaiting,
        responded_at,
        response_type,
        status,
        credited,
        reminder_at,
        reminder_done,
        reminded_at,
    ) = r
    msg = MsgRec(id_, seq, sender, recipient, kind, from_utc_text(sent_at))
    msg.lot, msg.awaiting, msg.credited = lot, bool(awaiting), bool(credited)
    msg.responded_at, msg.response_type, msg.status = opt_instant(responded_at), response_type, status
    msg.reminder_at, msg.reminded_at = opt_instant(reminder_at), opt_instant(reminded_at)
    msg.reminder_done = bool(reminder_done)
    return msg
