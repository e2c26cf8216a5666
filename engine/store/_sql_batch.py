"""Bulk work on the SQL store: many calls per transaction, each call still all or nothing.

One transaction per call is what an online app needs: a call that returned
is committed. A bulk job (a replay, ``inmail simulate --db``, an import)
pays for it in commits and in statements: on SQLite a commit costs more than
the whole call. :meth:`Engine.batch` opens a :class:`~engine.store.base.Batch`:
calls join one open transaction, committed every ``every`` calls and when
the batch ends.

- On SQLite (:class:`SqliteBatch`) the transaction holds the write lock
  from its first call to its commit, so the batch holds its accounts and
  messages in memory (:mod:`engine.store._sql_held`): a call reads the
  database only for what the batch has not seen yet, and what the calls
  wrote goes in at commit, one ``executemany`` per table. On PostgreSQL
  (:class:`CoreBatch`), where other writers go on beside a batch, each call
  runs its statements in a savepoint, as before.
- A call that raises (a refused call, say) is taken back: it changes
  nothing, and the calls before it in the batch stand.
- A batch that ends by an exception rolls back what it had not committed;
  a process that dies loses the same. ``Batch.committed`` counts the calls
  that are safe, so a bulk job can start again after the last of them.
- A read of the store outside a call (``history``, ``due_accounts`` ...)
  runs inside the batch's transaction, on its connection, after the batch
  wrote what it holds there: it sees every call made before it, and commits
  nothing (``due_accounts``, which ``advance`` asks before each step of a
  replay, is answered from the database and the accounts held, writing none).
- While a batch holds uncommitted calls it holds the write lock (SQLite)
  or the locks of the accounts it wrote (PostgreSQL): other writers wait.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa

from engine.store._sql_held import Held, HeldUnit
from engine.store._sql_schema import utc_text
from engine.store.batch import Batch

_U = TypeVar("_U")
DUE = "SELECT name FROM accounts WHERE next_due <= :to"


class SqliteBatch:
    """A batch on one SQLite connection of the pool, holding its state in memory (module docstring).

    The transaction begins (``BEGIN IMMEDIATE``, through SQLAlchemy's begin
    hook) at the batch's first call or read. After a commit the lock is let
    go; when the next transaction begins, ``PRAGMA data_version`` tells
    whether another connection wrote meanwhile, and if so what is held is
    forgotten.
    """

    #: accounts and messages held at most across commits (past it, a commit forgets them: the
    #: memory a long bulk job takes stays bounded, and what is forgotten is read again when needed)
    KEEP = 50_000
    KEEP_MESSAGES = 200_000

    def __init__(self, info: Batch, engine: sa.Engine, select_account: str) -> None:
        self.info = info
        self.conn = engine.connect()
        self.tx: sa.RootTransaction | None = None
        self.held = Held()
        self._select_account = select_account
        self._version: int | None = None  # data_version after this batch's last commit

    def _begin(self) -> Any:
        """The transaction (begun if need be); the driver connection under it."""
        raw: Any = self.conn.connection.driver_connection
        if self.tx is None or not self.tx.is_active:
            self.tx = self.conn.begin()
            version = raw.execute("PRAGMA data_version").fetchone()[0]
            if version != self._version:
                self.held.clear()
            self._version = version
        return raw

    @contextmanager
    def call(self, write: bool, _make: Callable[[Any], _U]) -> Iterator[HeldUnit]:
        """One call inside the batch, on what it holds: kept, or taken back if it raises."""
        cur = self._begin().cursor()
        unit = HeldUnit(self.held, cur, self._select_account, write)
        try:
            yield unit
        except BaseException:
            unit.finish(False)
            raise
        finally:
            cur.close()
        unit.finish(True)
        if write:
            self.info.pending += 1
            if self.info.full():
                self.commit()

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """The batch's connection for a read, inside its transaction, once what it holds is written."""
        raw = self._begin()
        cur = raw.cursor()
        try:
            self.held.flush(cur)
        finally:
            cur.close()
        yield self.conn

    def due_accounts(self, to: dt.datetime) -> list[str]:
        """The accounts due by ``to``: the database's answer for those unchanged here, the held
        state for the rest (nothing written, nothing committed)."""
        rows = self._begin().execute(DUE, {"to": utc_text(to)}).fetchall()  # the driver's: asked per step
        return self.held.due([r[0] for r in rows], to)

    def commit(self) -> None:
        if self.tx is not None and self.tx.is_active:
            raw: Any = self.conn.connection.driver_connection
            cur = raw.cursor()
            try:
                self.held.flush(cur)
            finally:
                cur.close()
            self.tx.commit()
            if len(self.held.accounts) > self.KEEP:
                self.held.clear()
            elif len(self.held.msgs) > self.KEEP_MESSAGES:
                self.held.forget_messages()
        self.tx = None
        self.info.committed += self.info.pending
        self.info.pending = 0

    def rollback(self) -> None:
        self.held.clear()
        self._version = None
        if self.tx is not None and self.tx.is_active:
            self.tx.rollback()
        self.tx = None
        self.info.pending = 0

    def close(self) -> None:
        self.held.clear()
        self.conn.close()


class CoreBatch:
    """A batch on one SQLAlchemy connection (PostgreSQL): an outer transaction, a nested one per call."""

    def __init__(self, info: Batch, engine: sa.Engine) -> None:
        self.info = info
        self.conn = engine.connect()
        self.tx: sa.RootTransaction | None = None

    def _begin(self) -> None:
        if self.tx is None or not self.tx.is_active:
            self.tx = self.conn.begin()

    @contextmanager
    def call(self, write: bool, make: Callable[[sa.Connection], _U]) -> Iterator[_U]:
        self._begin()
        nested = self.conn.begin_nested()
        try:
            yield make(self.conn)
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise
        if not write:
            nested.rollback()
            return
        nested.commit()
        self.info.pending += 1
        if self.info.full():
            self.commit()

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """The batch's connection for a read, inside its transaction: it sees every call so far."""
        self._begin()
        yield self.conn

    def commit(self) -> None:
        if self.tx is not None and self.tx.is_active:
            self.tx.commit()
        self.tx = None
        self.info.committed += self.info.pending
        self.info.pending = 0

    def rollback(self) -> None:
        if self.tx is not None and self.tx.is_active:
            self.tx.rollback()
        self.tx = None
        self.info.pending = 0

    def close(self) -> None:
        self.conn.close()
