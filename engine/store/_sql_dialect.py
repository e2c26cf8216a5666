"""Every dialect-specific line of the SQL store, in one place: SQLite's and PostgreSQL's ways.

The rest of :mod:`engine.store.sql` is portable SQLAlchemy Core; what the two
databases need done differently (how a write transaction starts, how an
account row is locked, how schema creation is serialised, how a dead
connection is told) is set up here, on the engine's connection events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from engine.store._sql_exec import pg_gone

#: WAL pages a SQLite commit may leave before it copies them into the database file (SQLite's
#: default is 1,000). A checkpoint copies each page once however often it was rewritten since the
#: last, and a call rewrites the same index and table pages again and again: checkpointing a
#: quarter as often copied fewer pages and took 10-15 % off a call (bench/RESULTS.md, "Checkpoints
#: four times rarer"), for a WAL file of up to 16 MB and a pause of tens of milliseconds on the
#: call that checkpoints, once in a few hundred calls.
WAL_CHECKPOINT_PAGES = 4000


def dialect_corner(
    engine: sa.Engine, create: Callable[[], bool]
) -> tuple[Callable[[sa.Connection], None], str]:
    """Every dialect-specific line of the store: (schema-creation lock, account row lock clause).

    ``create()`` says whether the store may still be created (only while it is being opened).

    SQLite: the driver's own transaction handling is switched off so that
    each write transaction starts with ``BEGIN IMMEDIATE`` (the database
    write lock, taken before any read, so two writers never interleave);
    reads start a plain ``BEGIN``. WAL lets readers work beside a writer and
    survives a killed process; ``busy_timeout`` makes a writer wait its turn;
    the WAL is copied into the file every :data:`WAL_CHECKPOINT_PAGES` pages;
    temporary files (a savepoint's journal, a sort) stay in memory.
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
            cur.execute(
                "SELECT count(*), count(CASE WHEN name IN ('meta', 'accounts') THEN 1 END) "
                "FROM sqlite_master WHERE type = 'table'"
            )
            tables, ours = cur.fetchone()
            if ours == 2 or (create() and not tables):
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            # A savepoint's journal (the pages as they were before it) is a temporary file by
            # default: in memory it costs no write system call per page.
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

    if engine.dialect.name == "postgresql" and engine.driver == "psycopg":

        @sa.event.listens_for(engine, "checkout")
        def _checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
            if pg_gone(dbapi_conn):  # the pool invalidates it and lends another
                raise sa.exc.DisconnectionError("the server ended this connection")

    return _schema_lock, " FOR UPDATE"
