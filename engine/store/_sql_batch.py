"""Bulk work on the SQL store: many calls per transaction, each call still all or nothing.

One transaction per call is what an online app needs: a call that returned
is committed. A bulk job (a replay, ``inmail simulate --db``, an import)
pays for it in commits: on SQLite a commit costs more than the whole call.
:meth:`Engine.batch` opens a :class:`~engine.store.base.Batch`: calls join
one open transaction, each inside its own savepoint, and the transaction is
committed every ``every`` calls and when the batch ends.

- A call that raises (a refused call, say) is rolled back to its savepoint:
  it changes nothing, and the calls before it in the batch stand.
- A batch that ends by an exception rolls back what it had not committed;
  a process that dies loses the same. ``Batch.committed`` counts the calls
  that are safe, so a bulk job can start again after the last of them.
- A read of the store outside a call (``history``, ``due_accounts`` ...) goes
  through another connection, so it first commits what the batch holds:
  a read sees every call made before it.
- While a batch holds uncommitted calls it holds the write lock (SQLite)
  or the locks of the accounts it wrote (PostgreSQL): other writers wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa

from engine.store.batch import Batch

_U = TypeVar("_U")


class SqliteBatch:
    """A batch on one SQLite driver connection (the thread's pooled one)."""

    def __init__(self, info: Batch, raw: Any) -> None:
        self.info = info
        self.raw = raw

    @contextmanager
    def call(self, write: bool, make: Callable[[Any], _U]) -> Iterator[_U]:
        """One call inside the batch: a savepoint, released (kept) or rolled back."""
        cur = self.raw.cursor()
        try:
            if not self.raw.in_transaction:
                cur.execute("BEGIN IMMEDIATE")
            cur.execute("SAVEPOINT inmail_call")
            try:
                yield make(cur)
            except BaseException:
                if self.raw.in_transaction:
                    cur.execute("ROLLBACK TO inmail_call")
                    cur.execute("RELEASE inmail_call")
                raise
            if not write:
                cur.execute("ROLLBACK TO inmail_call")
            cur.execute("RELEASE inmail_call")
            if write:
                self.info.pending += 1
                if self.info.pending >= self.info.every:
                    self.commit()
        finally:
            cur.close()

    def commit(self) -> None:
        if self.raw.in_transaction:
            self.raw.execute("COMMIT")
        self.info.committed += self.info.pending
        self.info.pending = 0

    def rollback(self) -> None:
        if self.raw.in_transaction:
            self.raw.execute("ROLLBACK")
        self.info.pending = 0

    def close(self) -> None:
        """Nothing to release: the connection stays the thread's."""


class CoreBatch:
    """A batch on one SQLAlchemy connection (PostgreSQL): an outer transaction, a nested one per call."""

    def __init__(self, info: Batch, engine: sa.Engine) -> None:
        self.info = info
        self.conn = engine.connect()
        self.tx: sa.RootTransaction | None = None

    @contextmanager
    def call(self, write: bool, make: Callable[[sa.Connection], _U]) -> Iterator[_U]:
        if self.tx is None or not self.tx.is_active:
            self.tx = self.conn.begin()
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
        if self.info.pending >= self.info.every:
            self.commit()

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
