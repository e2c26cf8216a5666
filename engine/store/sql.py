"""The SQL store: SQLAlchemy Core tables on SQLite (a file) or PostgreSQL (a URL).

Each engine call is one transaction. The acting account's row is locked and
its live lots and pending reminders are read inside that transaction, so no
process keeps the truth in memory and two processes on one database always
see the same balance. Concurrent writers serialise: SQLite takes the write
lock at ``BEGIN IMMEDIATE``, PostgreSQL locks the account row with ``SELECT
... FOR UPDATE``. Both details live in :func:`_dialect_corner`; everything
else is portable Core.

The tables, the statements and the row conversions are in
:mod:`engine.store._sql_schema`.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any

import sqlalchemy as sa

from engine.errors import EngineError
from engine.ledger.state import LotRec
from engine.model import LedgerEntry, LoggedCall
from engine.store._sql_batch import CoreBatch, SqliteBatch
from engine.store._sql_exec import CoreExec, DriverExec, PgExec, store_errors
from engine.store._sql_schema import (
    SCHEMA_VERSION,
    SELECT_ACCOUNT,
    accounts_t,
    calls_t,
    entries_t,
    entry_from_row,
    from_utc_text,
    lot_from_row,
    lots_t,
    messages_t,
    meta_t,
    metadata,
    one_line,
    revisions_t,
    utc_text,
)
from engine.store._sql_unit import SqlUnit
from engine.store.batch import Batch


def _dialect_corner(engine: sa.Engine, create: bool) -> tuple[Callable[[sa.Connection], None], str]:
    """Every dialect-specific line of the store: (schema-creation lock, account row lock clause).

    SQLite: the driver's own transaction handling is switched off so that
    each write transaction starts with ``BEGIN IMMEDIATE`` (the database
    write lock, taken before any read, so two writers never interleave);
    reads start a plain ``BEGIN``. WAL lets readers work beside a writer and
    survives a killed process; ``busy_timeout`` makes a writer wait its turn;
    temporary files (a batch's per-call savepoint journal) stay in memory.
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
            # Switching to WAL rewrites the file header: not on another program's database.
            cur.execute("SELECT count(*), count(CASE WHEN name IN ('meta', 'accounts') THEN 1 END) "
                        "FROM sqlite_master WHERE type = 'table'")
            tables, ours = cur.fetchone()
            if ours == 2 or (create and not tables):
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            # A batch runs each call in a savepoint, whose journal (the pages as they were before
            # the call) is a temporary file by default: in memory it holds one call's pages and
            # costs no write system call per page.
            cur.execute("PRAGMA temp_store = MEMORY")
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


class _Foreign(Exception):
    def __init__(self, tables: list[str]) -> None:
        super().__init__("not an inmail store")
        self.tables = tables


class _Missing(Exception):
    """An empty database where an existing store was asked for."""


class SqlStore:
    """Implements :class:`~engine.store.base.Store` over a SQLAlchemy URL."""

    def __init__(self, url: str, create: bool = True) -> None:
        """Open (and with ``create``, set up) the store at ``url``; refuse another program's database.

        Nothing is written to a database that is not an inmail store: the
        check for one comes before the schema, and before WAL mode (which
        rewrites the file header). Without ``create``, a database that holds no
        store is refused (``store_not_found``) rather than given one.
        """
        with warnings.catch_warnings():  # the driver's warnings are not the user's diagnostics
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            self._open(url, create)

    def _open(self, url: str, create: bool) -> None:
        kwargs: dict[str, Any] = {}
        in_memory = url.endswith(":memory:") or url.rstrip("/") in ("sqlite:", "sqlite:/")
        if url.startswith("sqlite") and in_memory:
            kwargs["poolclass"] = sa.StaticPool
        try:
            self._engine = sa.create_engine(url, **kwargs)
            schema_lock, for_update = _dialect_corner(self._engine, create)
            self._select_account = one_line(SELECT_ACCOUNT + for_update)
            self._sqlite = self._engine.dialect.name == "sqlite"
            # psycopg 3 only: the driver-level path speaks its API (another driver goes through Core)
            self._postgres = self._engine.dialect.name == "postgresql" and self._engine.driver == "psycopg"
            self._memory_lock: AbstractContextManager[Any] = (
                threading.Lock() if self._sqlite and in_memory else nullcontext())
            self._local = threading.local()
            self._fairies: list[Any] = []
            with self._engine.begin() as conn:
                schema_lock(conn)
                tables = set(sa.inspect(conn).get_table_names())
                if tables and not {"meta", "accounts"} <= tables:  # another program's database: leave it
                    raise _Foreign(sorted(tables))
                if not tables and not create:
                    raise _Missing()
                metadata.create_all(conn)  # a store of an older version gains the tables it lacks
                q = sa.select(meta_t.c.value).where(meta_t.c.key == "schema_version")
                version = conn.execute(q).scalar()
                if version is None:
                    conn.execute(meta_t.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
                elif version == "1":  # made before the event log: its earlier calls are not in it
                    conn.execute(meta_t.update().where(meta_t.c.key == "schema_version")
                                 .values(value=str(SCHEMA_VERSION)))
                    conn.execute(meta_t.insert().values(key="log_incomplete", value="made before the log"))
                    version = str(SCHEMA_VERSION)
        except _Foreign as exc:
            self._engine.dispose()
            shown = ", ".join(exc.tables[:5]) + (", ..." if len(exc.tables) > 5 else "")
            raise EngineError(f"`{_shown(url)}` is another program's database (tables: {shown}), not an "
                              "inmail store; nothing was changed", "not_an_inmail_store") from None
        except _Missing:
            self._engine.dispose()
            raise EngineError(f"`{_shown(url)}` holds no inmail store (run `inmail simulate FILE --db URL` "
                              "first?)", "store_not_found") from None
        except ImportError as exc:  # the URL names a driver that is not installed
            extra = " (install the pg extra: pip install -e '.[pg]')" if "psycopg" in str(exc) else ""
            raise EngineError(f"cannot open the database `{_shown(url)}`: {exc}{extra}",
                              "database_unavailable") from None
        except sa.exc.SQLAlchemyError as exc:  # bad URL, unreadable file, no server
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise EngineError(f"cannot open the database `{_shown(url)}`: {reason}",
                              "database_unavailable") from None
        except (ValueError, TypeError, IndexError, KeyError) as exc:  # a URL SQLAlchemy cannot take apart
            reason = (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:80]
            raise EngineError(f"`{_shown(url)}` is not a database URL SQLAlchemy can read ({reason})",
                              "invalid_database") from None
        if version is not None and version != str(SCHEMA_VERSION):
            self._engine.dispose()
            raise EngineError(f"database schema version {version}, this engine needs {SCHEMA_VERSION}",
                              "schema_version")

    @contextmanager
    def unit(self, write: bool = True) -> Iterator[SqlUnit]:
        """One transaction; ``write=False`` always rolls back (a read that may compute, never store).

        Inside a batch (:meth:`batch`), one savepoint of the batch's transaction instead.
        """
        batch = getattr(self._local, "batch", None)
        if batch is not None:
            with store_errors(), self._memory_lock, batch.call(write, self._batch_unit) as unit:
                yield unit
            return
        if self._sqlite:
            with store_errors(), self._sqlite_unit(write) as unit:
                yield unit
            return
        if self._postgres:
            with store_errors(), self._pg_unit(write) as unit:
                yield unit
            return
        with store_errors(), self._engine.connect() as conn:
            tx = conn.begin()
            try:
                yield SqlUnit(CoreExec(conn), self._select_account)
            except BaseException:
                tx.rollback()
                raise
            if write:
                tx.commit()
            else:
                tx.rollback()

    @contextmanager
    def _pg_unit(self, write: bool) -> Iterator[SqlUnit]:
        """PostgreSQL: the call's statements in as few round trips as they allow (:class:`PgExec`).

        The thread's pooled connection, switched to autocommit so that the
        transaction's ``BEGIN`` and ``COMMIT`` ride with its statements; the
        acting account is still locked ``FOR UPDATE`` before anything of it is
        read. A connection the server dropped is given back to the pool as
        broken, and the next call takes a new one.
        """
        fairy = self._thread_connection()
        ex = PgExec(fairy.driver_connection)
        try:
            yield SqlUnit(ex, self._select_account)
            if write:
                ex.commit()
            else:
                ex.rollback()
        except BaseException:
            with suppress(Exception):  # the connection is gone: the server rolled the transaction back
                ex.rollback()
            if fairy.driver_connection.closed or fairy.driver_connection.broken:
                self._drop_connection(fairy)
            raise

    @contextmanager
    def _sqlite_unit(self, write: bool) -> Iterator[SqlUnit]:
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
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield SqlUnit(DriverExec(cur), self._select_account)
                    cur.execute("COMMIT" if write else "ROLLBACK")
                except BaseException:
                    if raw.in_transaction:
                        cur.execute("ROLLBACK")
                    raise
            finally:
                cur.close()

    def _raw_connection(self) -> Any:
        """This thread's pooled driver connection (one per thread; returned to the pool on close)."""
        return self._thread_connection().driver_connection

    def _thread_connection(self) -> Any:
        """This thread's pooled connection (the pool's wrapper; on PostgreSQL, in autocommit mode)."""
        fairy: Any = getattr(self._local, "fairy", None)
        if fairy is None:
            fairy = self._engine.raw_connection()
            if self._postgres:
                fairy.driver_connection.autocommit = True
            self._local.fairy = fairy
            self._fairies.append(fairy)
        return fairy

    def _drop_connection(self, fairy: Any) -> None:
        self._local.fairy = None
        self._fairies.remove(fairy)
        fairy.invalidate()

    def _batch_unit(self, conn: Any) -> SqlUnit:
        return SqlUnit(DriverExec(conn) if self._sqlite else CoreExec(conn), self._select_account)

    @contextmanager
    def batch(self, every: int) -> Iterator[Batch]:
        """See :mod:`engine.store._sql_batch`: many calls per transaction, for bulk work."""
        if getattr(self._local, "batch", None) is not None:  # inside a batch: join it
            yield self._local.batch.info
            return
        info = Batch(every)
        with store_errors():
            batch: SqliteBatch | CoreBatch = (
                SqliteBatch(info, self._raw_connection()) if self._sqlite else CoreBatch(info, self._engine))
        self._local.batch = batch
        try:
            yield info
        except BaseException:
            self._local.batch = None
            with store_errors():
                batch.rollback()
                batch.close()
            raise
        self._local.batch = None
        with store_errors():
            try:
                batch.commit()
            finally:
                batch.close()

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        batch = getattr(self._local, "batch", None)
        if batch is not None:  # another connection: it must see every call made so far
            with store_errors():
                batch.commit()
        with store_errors(), self._engine.connect() as conn:
            conn.execution_options(inmail_read=True)
            with conn.begin():
                yield conn

    def accounts(self) -> list[str]:
        with self._read() as c:
            return list(c.execute(sa.select(accounts_t.c.name).order_by(accounts_t.c.name)).scalars())

    def plans_in_use(self) -> dict[str, str]:
        a = accounts_t.c
        q = sa.select(a.plan, sa.func.min(a.name)).group_by(a.plan)
        with self._read() as c:
            return {plan: name for plan, name in c.execute(q)}

    def due_accounts(self, to: dt.datetime) -> list[str]:
        a = accounts_t.c
        q = sa.select(a.name).where(a.next_due <= utc_text(to)).order_by(a.name)
        with self._read() as c:
            return list(c.execute(q).scalars())

    def history(self, account: str) -> list[LedgerEntry] | None:
        q = sa.select(entries_t).where(entries_t.c.account == account).order_by(entries_t.c.seq)
        with self._read() as c:
            if c.execute(sa.select(accounts_t.c.name).where(accounts_t.c.name == account)).first() is None:
                return None
            return [entry_from_row(r) for r in c.execute(q).mappings()]

    def lots_and_entries(self, account: str, at: dt.datetime) -> tuple[list[LotRec], list[LedgerEntry]]:
        t = utc_text(at)
        lq = sa.select(lots_t).where(lots_t.c.account == account, lots_t.c.granted_at <= t,
                                     lots_t.c.expires_at > t)
        eq = sa.select(entries_t).where(entries_t.c.account == account, entries_t.c.at <= t)
        with self._read() as c:
            return ([lot_from_row(r) for r in c.execute(lq).mappings()],
                    [entry_from_row(r) for r in c.execute(eq.order_by(entries_t.c.seq)).mappings()])

    def calls(self, account: str | None = None, since: dt.datetime | None = None) -> list[LoggedCall]:
        c = calls_t.c
        q = sa.select(calls_t).order_by(c.seq)
        if account is not None:
            q = q.where(c.account == account)
        if since is not None:
            q = q.where(c.at >= utc_text(since))
        with self._read() as conn:
            rows = conn.execute(q).mappings().all()
        return [LoggedCall(**{**row, "at": from_utc_text(row["at"]), "args": json.loads(row["args"])})
                for row in rows]

    def revision(self, revision: str) -> dict[str, Any] | None:
        with self._read() as conn:
            q = sa.select(revisions_t.c.texts).where(revisions_t.c.revision == revision)
            found = conn.execute(q).scalar()
        return None if found is None else dict(json.loads(found))

    def log_complete(self) -> bool:
        with self._read() as conn:
            q = sa.select(meta_t.c.value).where(meta_t.c.key == "log_incomplete")
            return conn.execute(q).scalar() is None

    def reminded(self, at: dt.datetime | None) -> list[tuple[dt.datetime, str, int, str]]:
        m = messages_t.c
        q = sa.select(m.reminded_at, m.sender, m.seq, m.id).where(m.reminded_at.is_not(None))
        if at is not None:
            q = q.where(m.reminded_at <= utc_text(at))
        with self._read() as c:
            rows = c.execute(q.order_by(m.reminded_at, m.sender, m.seq)).all()
        return [(from_utc_text(r[0]), r[1], r[2], r[3]) for r in rows]

    def close(self) -> None:
        for fairy in self._fairies:
            if self._postgres and not fairy.driver_connection.closed:
                fairy.driver_connection.autocommit = False  # as the pool lent it
            fairy.close()
        self._fairies.clear()
        self._local = threading.local()
        self._engine.dispose()


def _shown(url: str) -> str:
    """The URL as it may be printed: without its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: nothing secret to hide in it
        return url
