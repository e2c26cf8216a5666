"""How the SQL store runs a statement: through SQLAlchemy Core, or on a SQLite driver cursor.

The store's statements are plain SQL text with ``:name`` parameters, which
both SQLAlchemy's ``text()`` and Python's sqlite3 driver accept. On SQLite the
store runs them on the driver cursor of a pooled connection (Core's
per-statement machinery cost several times the statement itself); on other
backends it goes through Core. Both expose the same four calls.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from engine.errors import StoreUnavailable

#: PostgreSQL's SQLSTATEs for "another transaction got in the way": serialization failure, deadlock,
#: lock not available. Trying the call again will do.
_PG_RETRY = {"40001", "40P01", "55P03"}


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


_TEXTS: dict[str, sa.TextClause] = {}


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
    except (sa.exc.DBAPIError, sqlite3.Error) as exc:
        orig = getattr(exc, "orig", exc)
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        conflict = (isinstance(exc, sa.exc.IntegrityError | sqlite3.IntegrityError)
                    or sqlstate in _PG_RETRY or "database is locked" in str(orig))
        first_line = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
        raise StoreUnavailable(f"the database refused the call ({first_line}); nothing was written, "
                               f"try again", "store_conflict" if conflict else "store_unavailable") from exc
