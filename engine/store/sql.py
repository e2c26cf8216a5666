"""The SQL store: SQLAlchemy Core tables on SQLite (a file) or PostgreSQL (a URL).

Each engine call is one transaction. The acting account's row is locked and
its live lots and pending reminders are read inside that transaction, so no
process keeps the truth in memory and two processes on one database always
see the same balance. Concurrent writers serialise: SQLite takes the write
lock at ``BEGIN IMMEDIATE``, PostgreSQL locks the account row with ``SELECT
... FOR UPDATE``. What the two databases need set up differently (the
connection hook, the row lock clause, the schema-creation lock) is in
:mod:`engine.store._sql_dialect`.

The statements are plain SQL text, with the tables and the row conversions,
in :mod:`engine.store._sql_schema`. A call's transaction runs them on the
driver where that pays (:mod:`engine.store._sql_exec`): the sqlite3 cursor
(:meth:`SqlStore._sqlite_unit`), psycopg 3's pipeline on PostgreSQL
(:meth:`SqlStore._pg_unit`), and SQLAlchemy Core for any other driver. Reads
outside a call are in :mod:`engine.store._sql_reads`, batches in
:mod:`engine.store._sql_batch`.

A store error never poisons what comes after it. On SQLite the store is the
file it opened: deleted, emptied or replaced under it, every call is
``store_unavailable`` until a valid store is back at the path, which is then
adopted (:mod:`engine.store._sql_file`). A connection that failed for want of
its store (anything but a clash with another transaction) is dropped with
the pool's idle ones, so the next call starts on a new one; on PostgreSQL a
connection the server is known to have ended is replaced before it is used.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any

import sqlalchemy as sa

from engine.codes import C
from engine.errors import StoreUnavailable
from engine.store._sql_batch import CoreBatch, SqliteBatch
from engine.store._sql_dialect import dialect_corner
from engine.store._sql_exec import (
    PG_STALE_STATEMENT,
    CoreExec,
    DriverExec,
    PgExec,
    pg_gone,
    store_error_code,
    store_errors,
)
from engine.store._sql_file import StoreFile, watch
from engine.store._sql_reads import SqlReads
from engine.store._sql_schema import (
    SCHEMA_VERSION,
    SELECT_ACCOUNT,
    meta_t,
    metadata,
    one_line,
)
from engine.store._sql_unit import SqlUnit
from engine.store.batch import Batch


class _Foreign(Exception):
    def __init__(self, tables: list[str]) -> None:
        super().__init__("not an inmail store")
        self.tables = tables


class _Missing(Exception):
    """An empty database where an existing store was asked for."""


class SqlStore(SqlReads):
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
        self._file: StoreFile | None = None
        try:
            self._engine = sa.create_engine(url, **kwargs)
            self._sqlite = self._engine.dialect.name == "sqlite"
            self._in_memory = self._sqlite and in_memory
            path = _file_path(self._engine.url) if self._sqlite and not in_memory else None
            if path is not None:
                self._file = StoreFile(path, create, self._adopt, self._broken)
                watch(self._engine, self._file)
            file = self._file
            self._schema_lock, for_update = dialect_corner(
                self._engine, lambda: file.creating if file is not None else create
            )
            self._select_account = one_line(SELECT_ACCOUNT + for_update)
            # psycopg 3 only: the driver-level path speaks its API (another driver goes through Core)
            self._postgres = self._engine.dialect.name == "postgresql" and self._engine.driver == "psycopg"
            self._memory_lock: AbstractContextManager[Any] = (
                threading.Lock() if self._sqlite and in_memory else nullcontext()
            )
            self._local = threading.local()
            self._fairies: list[Any] = []
            version = self._schema(create)
        except _Foreign as exc:
            self._engine.dispose()
            shown = ", ".join(exc.tables[:5]) + (", ..." if len(exc.tables) > 5 else "")
            raise C.not_an_inmail_store(
                f"`{_shown(url)}` is another program's database (tables: {shown}), not an "
                "inmail store; nothing was changed",
            ) from None
        except _Missing:
            self._engine.dispose()
            raise C.store_not_found(
                f"`{_shown(url)}` holds no inmail store (run `inmail simulate FILE --db URL` first?)",
            ) from None
        except ImportError as exc:  # the URL names a driver that is not installed
            if "psycopg" in str(exc):
                raise C.missing_dependency(
                    f"`{_shown(url)}` is a PostgreSQL store, and psycopg is not installed",
                    help="pip install 'inmail-engine[pg]' (in a checkout: pip install -e '.[pg]')",
                ) from None
            raise C.database_unavailable(f"cannot open the database `{_shown(url)}`: {exc}") from None
        except sa.exc.SQLAlchemyError as exc:  # bad URL, unreadable file, no server
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise C.database_unavailable(f"cannot open the database `{_shown(url)}`: {reason}") from None
        except (ValueError, TypeError, IndexError, KeyError) as exc:  # a URL SQLAlchemy cannot take apart
            reason = (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:80]
            raise C.invalid_database(
                f"`{_shown(url)}` is not a database URL SQLAlchemy can read ({reason})"
            ) from None
        if version is not None and version != str(SCHEMA_VERSION):
            self._engine.dispose()
            raise C.schema_version(f"database schema version {version}, this engine needs {SCHEMA_VERSION}")
        if self._file is not None:
            self._file.start()

    def _schema(self, create: bool) -> str | None:
        """The checks of an open (an inmail store, or an empty database with ``create``), and the
        schema brought up to date; the schema version found."""
        with self._engine.begin() as conn:
            self._schema_lock(conn)
            tables = set(sa.inspect(conn).get_table_names())
            if tables and not {"meta", "accounts"} <= tables:  # another program's database: leave it
                raise _Foreign(sorted(tables))
            if not tables and not create:
                raise _Missing()
            metadata.create_all(conn)  # a store of an older version gains the tables it lacks
            q = sa.select(meta_t.c.value).where(meta_t.c.key == "schema_version")
            version: str | None = conn.execute(q).scalar()
            if version is None:
                conn.execute(meta_t.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif version == "1":  # made before the event log: its earlier calls are not in it
                conn.execute(
                    meta_t.update().where(meta_t.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
                )
                conn.execute(meta_t.insert().values(key="log_incomplete", value="made before the log"))
                version = str(SCHEMA_VERSION)
        return version

    def _adopt(self) -> None:
        """The open checks (never creating) on what the store's path holds now: a backup put back
        after the file was lost. Raises :class:`EngineError` when it is no store this engine can use."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                version = self._schema(False)
        except _Foreign:
            raise C.not_an_inmail_store("another program's database") from None
        except _Missing:
            raise C.store_not_found("an empty database") from None
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:120]
            raise C.database_unavailable(reason) from None
        if version != str(SCHEMA_VERSION):
            raise C.schema_version(f"schema version {version}, this engine needs {SCHEMA_VERSION}")

    def _check_file(self) -> int:
        """Before a transaction: the store's file is still at its path (else ``store_unavailable``).

        One ``os.stat`` (see :mod:`engine.store._sql_file`); the generation of
        the file, for :meth:`StoreFile.still` after a commit. Not a file: 0.
        """
        return 0 if self._file is None else self._file.check()

    @contextmanager
    def unit(self, write: bool = True) -> Iterator[SqlUnit]:
        """One transaction; ``write=False`` always rolls back (a read that may compute, never store).

        Inside a batch (:meth:`batch`), one savepoint of the batch's transaction instead.
        On SQLite, a write is answered only if the file it went into is still the store's.
        """
        generation = self._check_file()
        batch = getattr(self._local, "batch", None)
        if batch is not None:
            with store_errors(), self._memory_lock, batch.call(write, self._batch_unit) as unit:
                yield unit
            return
        if self._sqlite:
            with store_errors(), self._sqlite_unit(write) as unit:
                yield unit
            if write and self._file is not None:
                self._file.still(generation)
            return
        if self._postgres:
            with store_errors(), self._pg_unit(write) as unit:
                yield unit
            return
        with store_errors(), self._engine.connect() as conn:
            tx = conn.begin()
            try:
                yield SqlUnit(CoreExec(conn), self._select_account)
            except BaseException as exc:
                tx.rollback()
                if _lost(exc):
                    conn.invalidate()
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
        read. A connection that failed (the server went away, restarted, or
        ended the backend; anything but a clash with another transaction) is
        given back to the pool as broken, and the next call takes a new one:
        one bad connection never fails more than one call.
        """
        fairy = self._thread_connection()
        ex = PgExec(fairy.driver_connection)
        try:
            yield SqlUnit(ex, self._select_account)
            if write:
                ex.commit()
            else:
                ex.rollback()
        except BaseException as exc:
            with suppress(Exception):  # the connection is gone: the server rolled the transaction back
                ex.rollback()
            pg = fairy.driver_connection
            if pg is None or pg.closed or pg.broken or _lost(exc):
                self._broken()
            elif _sqlstate(exc) == PG_STALE_STATEMENT:  # the driver's statement cache is out of step
                self._drop_connection(fairy)
            raise

    @contextmanager
    def _sqlite_unit(self, write: bool) -> Iterator[SqlUnit]:
        """SQLite: the same statements on the driver's cursor, in ``BEGIN IMMEDIATE`` ... ``COMMIT``.

        SQLAlchemy's per-statement machinery (result metadata, events,
        parameter processing) cost several times the statement itself on SQLite
        (bench/RESULTS.md, the 2026-11-27 run, "What changed");
        the connection still comes from SQLAlchemy's pool, set up by the same
        ``connect`` hook (WAL, busy timeout, driver transactions off), and is
        kept by its thread. Only the transaction boundaries and the cursor are
        the driver's; the truth is read inside the transaction as before.
        A connection that failed with anything but a clash with another writer
        (a read-only or full disk, an I/O error) is dropped, so the next call
        opens a new one: a connection SQLite opened read-only stays read-only.
        """
        fairy = self._thread_connection()
        raw = fairy.driver_connection
        try:
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
        except BaseException as exc:
            if _lost(exc) and not self._in_memory:  # (an in-memory database would go with it)
                self._broken()
            raise

    def _raw_connection(self) -> Any:
        """This thread's pooled driver connection (one per thread; returned to the pool on close)."""
        return self._thread_connection().driver_connection

    def _thread_connection(self) -> Any:
        """This thread's pooled connection (the pool's wrapper; on PostgreSQL, in autocommit mode).

        One made before the store lost its file (an older generation), or one the PostgreSQL server
        is known to have ended (:func:`~engine.store._sql_exec.pg_gone`), is let go first.
        """
        fairy: Any = getattr(self._local, "fairy", None)
        generation = 0 if self._file is None else self._file.generation
        if fairy is not None and (
            self._local.generation != generation or (self._postgres and pg_gone(fairy.driver_connection))
        ):
            self._drop_connection(fairy)
            fairy = None
        if fairy is None:
            fairy = self._engine.raw_connection()
            if self._postgres:
                fairy.driver_connection.autocommit = True
            self._local.fairy = fairy
            self._local.generation = generation
            self._fairies.append(fairy)
        return fairy

    def _drop_connection(self, fairy: Any) -> None:
        """Close this thread's connection for good (the pool will not lend it again)."""
        self._local.fairy = None
        with suppress(ValueError):
            self._fairies.remove(fairy)
        with suppress(Exception):  # closing a connection that is already broken may fail: it is gone
            fairy.invalidate()

    def _broken(self) -> None:
        """A call failed for want of its store, or the store lost its file: drop this thread's
        connection, and the pool's idle ones, made in the same trouble (a server that went away, a
        file SQLite opened read-only, a file no longer at the path), so that the next call starts
        afresh instead of failing once per pooled connection. Another thread's connection goes
        at its next call (when it failed there too, or its file's generation is out of date)."""
        fairy = getattr(self._local, "fairy", None)
        if fairy is not None:
            self._drop_connection(fairy)
        self._engine.dispose()

    def _batch_unit(self, conn: Any) -> SqlUnit:
        return SqlUnit(CoreExec(conn), self._select_account)

    @contextmanager
    def batch(self, every: int) -> Iterator[Batch]:
        """See :mod:`engine.store._sql_batch`: many calls per transaction, for bulk work.

        A batch that fails for want of its store (not a clash) drops this
        thread's connection, as a call would.
        """
        if getattr(self._local, "batch", None) is not None:  # inside a batch: join it
            yield self._local.batch.info
            return
        info = Batch(every)
        generation = self._check_file()
        with store_errors():
            batch: SqliteBatch | CoreBatch = (
                SqliteBatch(info, self._engine, self._select_account)
                if self._sqlite
                else CoreBatch(info, self._engine)
            )
        self._local.batch = batch
        try:
            yield info
        except BaseException as exc:
            self._local.batch = None
            try:
                with store_errors():
                    batch.rollback()
                    batch.close()
            except StoreUnavailable as failed:
                self._after_batch(failed)
                raise
            self._after_batch(exc)
            raise
        self._local.batch = None
        try:
            with store_errors():
                try:
                    batch.commit()
                finally:
                    batch.close()
            if self._file is not None:
                self._file.still(generation)
        except StoreUnavailable as exc:
            self._after_batch(exc)
            raise

    def _after_batch(self, exc: BaseException) -> None:
        if not self._in_memory and _lost(exc):
            self._broken()

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        """A read outside a call, through the pool (a connection that failed is not lent again)."""
        self._check_file()
        batch = getattr(self._local, "batch", None)
        if batch is not None:  # inside the batch's transaction: it sees every call, commits none
            with store_errors(), batch.reading() as conn:
                yield conn
            return
        with store_errors(), self._engine.connect() as conn:
            try:
                conn.execution_options(inmail_read=True)
                with conn.begin():
                    yield conn
            except Exception as exc:
                if _lost(exc) and not self._in_memory:  # (the pool's one connection is the database)
                    conn.invalidate()
                    self._broken()
                raise

    def due_accounts(self, to: dt.datetime) -> list[str]:
        """Inside a SQLite batch, answered without writing what the batch holds (see
        :meth:`SqliteBatch.due_accounts`): ``advance`` asks it before every step of a replay."""
        batch = getattr(self._local, "batch", None)
        if isinstance(batch, SqliteBatch):
            self._check_file()
            with store_errors():
                return batch.due_accounts(to)
        return super().due_accounts(to)

    def close(self) -> None:
        """Give every connection back; one that belongs to a lost file is closed for good (and,
        by the pool's ``close`` hook, without writing to whatever the path holds now)."""
        file = self._file
        for fairy in self._fairies:
            if self._postgres and not fairy.driver_connection.closed:
                fairy.driver_connection.autocommit = False  # as the pool lent it
            if file is not None and (
                fairy.info.get("inmail_generation") != file.generation or not file.intact()
            ):
                fairy.invalidate()
            else:
                fairy.close()
        self._fairies.clear()
        self._local = threading.local()
        self._engine.dispose()


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, wrapped or not (None for anything else)."""
    while exc is not None and not hasattr(exc, "sqlstate"):
        exc = exc.__cause__ or getattr(exc, "orig", None)  # type: ignore[assignment]
    return None if exc is None else getattr(exc, "sqlstate", None)


def _lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection may be unusable (``store_unavailable``, not a clash)."""
    if isinstance(exc, StoreUnavailable):
        return exc.code == C.store_unavailable
    return store_error_code(exc) is C.store_unavailable


def _file_path(url: sa.URL) -> str | None:
    """The file a SQLite URL names, made absolute (None for memory, or a URL in SQLite's URI form,
    which the store takes as it is)."""
    name = url.database
    if not name or name == ":memory:" or url.query.get("uri") or name.startswith("file:"):
        return None
    return os.path.abspath(name)


def _shown(url: str) -> str:
    """The URL as it may be printed: without its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: nothing secret to hide in it
        return url
