"""How the SQL store runs a statement: through SQLAlchemy Core, or on a SQLite driver cursor.

The store's statements are plain SQL text with ``:name`` parameters, which
both SQLAlchemy's ``text()`` and Python's sqlite3 driver accept. On SQLite the
store runs them on the driver cursor of a pooled connection (Core's
per-statement machinery cost several times the statement itself); on other
backends it goes through Core. On PostgreSQL a call's own transaction runs
on the driver too (:class:`PgExec`), where the cost is round trips, not
machinery: writes wait until something must be read, then go in one
pipeline with that read (or with the ``COMMIT``). All expose the same calls.
"""

from __future__ import annotations

import re
import select
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from engine.codes import C

#: PostgreSQL's SQLSTATEs for "another transaction got in the way": serialization failure, deadlock,
#: lock not available. Trying the call again will do.
#: Clashes with another transaction (serialization failure, deadlock, lock not available), and a
#: prepared statement psycopg believes made but the server does not have (seen on the call after a
#: pipeline failed on a clash: two retries of one request racing for their key). Either way nothing
#: was written, and tried again (after a stale statement, on a fresh connection) the call goes through.
_PG_RETRY = {"40001", "40P01", "55P03", "26000"}
#: The error of a statement the driver believed prepared: the connection's own state is stale.
PG_STALE_STATEMENT = "26000"


class CoreExec:
    """Statements through SQLAlchemy Core (PostgreSQL and any other backend)."""

    __slots__ = ("_c",)

    def __init__(self, conn: sa.Connection) -> None:
        self._c = conn

    def one(self, sql: str, params: dict[str, Any]) -> Any:
        return self._c.execute(_text(sql), params).first()

    def all(self, sql: str, params: dict[str, Any]) -> list[Any]:
        return list(self._c.execute(_text(sql), params).all())

    def run(self, sql: str, params: dict[str, Any]) -> None:
        self._c.execute(_text(sql), params)

    def many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        self._c.execute(_text(sql), rows)

    def gather(self, queries: list[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
        return [self.all(sql, params) for sql, params in queries]


class DriverExec:
    """The same statements on a SQLite driver cursor (named ``:param`` style is the driver's own)."""

    __slots__ = ("_cur",)

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def one(self, sql: str, params: dict[str, Any]) -> Any:
        return self._cur.execute(sql, params).fetchone()

    def all(self, sql: str, params: dict[str, Any]) -> list[Any]:
        return list(self._cur.execute(sql, params).fetchall())

    def run(self, sql: str, params: dict[str, Any]) -> None:
        self._cur.execute(sql, params)

    def many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        self._cur.executemany(sql, rows)

    def gather(self, queries: list[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
        return [self.all(sql, params) for sql, params in queries]


class PgExec:
    """The same statements on a psycopg connection in autocommit mode, with the transaction by hand.

    A loopback round trip to PostgreSQL costs about as much as the engine's
    whole decision, and a call made some fifteen of them. Here ``BEGIN`` waits
    for the first statement, a write (``run``, ``many``) waits for the next
    read or the commit, and whatever waits goes in one pipeline with it, in
    order: every read still sees every write before it, and an error in any
    of them fails the call as before (the transaction is rolled back).
    :meth:`gather` reads several things in one round trip. A send is five.
    """

    __slots__ = ("_begun", "_cur", "_pending", "_pg")

    def __init__(self, pg: Any) -> None:
        self._pg = pg
        self._cur = pg.cursor()
        self._begun = False
        self._pending: list[tuple[str, Any, bool]] = []

    def one(self, sql: str, params: dict[str, Any]) -> Any:
        rows = self.gather([(sql, params)])[0]
        return rows[0] if rows else None

    def all(self, sql: str, params: dict[str, Any]) -> list[Any]:
        return self.gather([(sql, params)])[0]

    def run(self, sql: str, params: dict[str, Any]) -> None:
        self._pending.append((_pyformat(sql), params, False))

    def many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        self._pending.append((_pyformat(sql), rows, True))

    def gather(self, queries: list[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
        ops = self._pending
        if not self._begun:
            ops.insert(0, ("BEGIN", None, False))
            self._begun = True
        self._pending = []
        pg = self._pg
        cursors = [pg.cursor() for _ in queries]
        with pg.pipeline():
            self._send(ops)
            for cur, (sql, params) in zip(cursors, queries, strict=True):
                cur.execute(_pyformat(sql), params)
        out = [cur.fetchall() for cur in cursors]
        for cur in cursors:
            cur.close()
        return out

    def commit(self) -> None:
        """Whatever writes wait, then ``COMMIT``: one round trip (none for a call that did nothing)."""
        ops, self._pending = self._pending, []
        if not self._begun:
            if not ops:
                return
            ops.insert(0, ("BEGIN", None, False))
        self._begun = True  # until the COMMIT went through: a failed one is rolled back
        with self._pg.pipeline():
            self._send([*ops, ("COMMIT", None, False)])
        self._begun = False

    def rollback(self) -> None:
        """Drop the waiting writes; roll back what the server has (nothing if the call never began)."""
        self._pending = []
        if self._begun:
            self._begun = False
            self._cur.execute("ROLLBACK")

    def _send(self, ops: list[tuple[str, Any, bool]]) -> None:
        cur = self._cur
        for sql, params, many in ops:
            if many:
                cur.executemany(sql, params)
            else:
                cur.execute(sql, params)


_TEXTS: dict[str, sa.TextClause] = {}
_PYFORMAT: dict[str, str] = {}
_NAMED = re.compile(r"(?<![:\w]):(\w+)")


def _pyformat(sql: str) -> str:
    """A ``:name`` statement in psycopg's ``%(name)s`` style, converted once."""
    out = _PYFORMAT.get(sql)
    if out is None:
        out = _PYFORMAT[sql] = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
    return out


def _text(sql: str) -> sa.TextClause:
    """The Core clause of a statement, built once."""
    clause = _TEXTS.get(sql)
    if clause is None:
        clause = _TEXTS[sql] = sa.text(sql)
    return clause


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn the database's own exceptions into :class:`~engine.errors.StoreUnavailable` with a code.

    The transaction has been rolled back when they reach here, so the caller may retry. A clash
    with another process (two rows made at once, a deadlock, a lock wait that timed out) is
    ``store_conflict``; anything else the database raised is ``store_unavailable``.
    """
    try:
        yield
    except Exception as exc:
        code = store_error_code(exc)
        if code is None:
            raise
        orig = getattr(exc, "orig", exc)
        first_line = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
        raise code(f"the database refused the call ({first_line}); nothing was written, try again") from exc


def store_error_code(exc: BaseException) -> C | None:
    """``store_conflict`` or ``store_unavailable`` for an exception of the database (see
    :func:`store_errors`), None for any other. The store drops a connection that failed with
    ``store_unavailable``: a clash leaves the connection as good as it was, anything else may not."""
    if not isinstance(exc, sa.exc.DBAPIError | sqlite3.Error) and not _from_psycopg(exc):
        return None
    orig = getattr(exc, "orig", exc)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    conflict = (
        isinstance(exc, sa.exc.IntegrityError | sqlite3.IntegrityError)
        or sqlstate in _PG_RETRY
        or (sqlstate or "").startswith("23")  # 23: a constraint
        or "database is locked" in str(orig)
    )
    return C.store_conflict if conflict else C.store_unavailable


def _from_psycopg(exc: BaseException) -> bool:
    """An error of the PostgreSQL driver itself (:class:`PgExec` runs it without SQLAlchemy), told
    by its module so that a SQLite-only install never imports psycopg."""
    return type(exc).__module__.partition(".")[0] == "psycopg"


def pg_gone(pg: Any) -> bool:
    """Whether an idle psycopg connection is known dead without a round trip to the server.

    Closed or broken as psycopg knows it, or with bytes waiting on its socket: an idle
    connection expects nothing, so what came is the server's goodbye (the error "terminating
    connection" of a backend ended, a restart, a shutdown) and the end of the stream. Used
    before a pooled connection is lent, so that a call after such an event does not fail on a
    connection that was dead before the call began. One ``poll`` with no wait, about a
    microsecond, against a few hundred for a call; a server that vanished without a word is
    still found by the call, which then drops the connection.
    """
    if pg.closed or pg.broken:
        return True
    try:
        fd = pg.fileno()
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError, AttributeError):  # no socket left
        return True
