"""How the SQL store runs a statement: through SQLAlchemy Core, or on a SQLite driver cursor.

The store's statements are plain SQL text with ``:name`` parameters, which
both SQLAlchemy's ``text()`` and Python's sqlite3 driver accept. On SQLite the
store runs them on the driver cursor of a pooled connection (Core's
per-statement machinery cost several times the statement itself); on other
backends it goes through Core. Both expose the same four calls.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


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
