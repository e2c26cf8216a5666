"""The SQL store's reads outside a call: lists, a ledger, the log (Core statements on a pooled connection).

They are a mixin of :class:`~engine.store.sql.SqlStore`, apart from its
transactions so that each file stays readable; every one goes through the
store's ``_read`` (which checks the store is still there, and inside a
batch runs the read in the batch's transaction, so that it sees every call
made before it without committing them).
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from engine.ledger.state import LotRec
from engine.model import LedgerEntry, LoggedCall
from engine.store._sql_schema import (
    accounts_t,
    calls_t,
    entries_t,
    entry_from_row,
    from_utc_text,
    lot_from_row,
    lots_t,
    messages_t,
    meta_t,
    revisions_t,
    utc_text,
)

#: Account names per ``IN (...)`` list when a worker reads its partition's calls.
_IN_LIST = 500


class SqlReads:
    """The reads of :class:`~engine.store.base.Store` on SQL; ``_read`` is the store's."""

    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def accounts(self) -> list[str]:
        with self._read() as c:
            return list(c.execute(sa.select(accounts_t.c.name).order_by(accounts_t.c.name)).scalars())

    def plans_in_use(self) -> dict[str, str]:
        a = accounts_t.c
        q = sa.select(a.plan, sa.func.min(a.name)).group_by(a.plan)
        with self._read() as c:
            return {plan: name for plan, name in c.execute(q)}

    def plan_counts(self, examples: int = 3) -> dict[str, tuple[int, tuple[str, ...]]]:
        """One GROUP BY for the counts; the examples by each plan's row numbers in name order."""
        a = accounts_t.c
        counted = sa.select(a.plan, sa.func.count()).group_by(a.plan)
        order = sa.func.row_number().over(partition_by=a.plan, order_by=a.name).label("n")
        ranked = sa.select(a.plan, a.name, order).subquery()
        first = sa.select(ranked.c.plan, ranked.c.name).where(ranked.c.n <= examples)
        with self._read() as c:
            counts = {plan: int(n) for plan, n in c.execute(counted)}
            rows = c.execute(first.order_by(ranked.c.plan, ranked.c.n)).all() if examples > 0 else []
        names: dict[str, list[str]] = {}
        for plan, name in rows:
            names.setdefault(plan, []).append(name)
        return {plan: (n, tuple(names.get(plan, ()))) for plan, n in counts.items()}

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
        lq = sa.select(lots_t).where(
            lots_t.c.account == account, lots_t.c.granted_at <= t, lots_t.c.expires_at > t
        )
        eq = sa.select(entries_t).where(entries_t.c.account == account, entries_t.c.at <= t)
        with self._read() as c:
            return (
                [lot_from_row(r) for r in c.execute(lq).mappings()],
                [entry_from_row(r) for r in c.execute(eq.order_by(entries_t.c.seq)).mappings()],
            )

    def calls(self, account: str | None = None, since: dt.datetime | None = None) -> list[LoggedCall]:
        c = calls_t.c
        q = sa.select(calls_t).order_by(c.seq)
        if account is not None:
            q = q.where(c.account == account)
        if since is not None:
            q = q.where(c.at >= utc_text(since))
        with self._read() as conn:
            rows = conn.execute(q).mappings().all()
        return [_logged(row) for row in rows]

    def calls_of(self, accounts: Sequence[str]) -> list[LoggedCall]:
        c = calls_t.c
        names = sorted(set(accounts))
        chunks = []
        for start in range(
            0, len(names), _IN_LIST
        ):  # a few hundred names a statement: every database takes it
            q = sa.select(calls_t).where(c.account.in_(names[start : start + _IN_LIST])).order_by(c.seq)
            with self._read() as conn:
                chunks.append([_logged(row) for row in conn.execute(q).mappings()])
        return list(heapq.merge(*chunks, key=lambda call: call.seq))

    def calls_paged(self, page: int = 10_000) -> Iterator[LoggedCall]:
        c = calls_t.c
        with self._read() as conn:  # the log as it is now: calls appended while it is read are not in it
            last = conn.execute(sa.select(sa.func.max(c.seq))).scalar()
        after = None
        while last is not None:
            q = sa.select(calls_t).where(c.seq <= last).order_by(c.seq).limit(page)
            if after is not None:
                q = q.where(c.seq > after)
            with self._read() as conn:
                rows = conn.execute(q).mappings().all()
            if not rows:
                return
            after = rows[-1]["seq"]
            yield from (_logged(row) for row in rows)

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


def _logged(row: sa.RowMapping) -> LoggedCall:
    """A row of the log table as a logged call (its instant and arguments read back from text)."""
    return LoggedCall(**{**row, "at": from_utc_text(row["at"]), "args": json.loads(row["args"])})
