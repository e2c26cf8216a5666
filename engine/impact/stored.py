"""A partition of a store's history, read by the worker that plays it rather than shipped to it.

The driver reads the log once, a page at a time, to find which accounts a call
ties (:func:`~engine.impact.partition.deal`), keeping a name per account and
per message, not the calls; it then hands each partition only the names of
its accounts, and the worker reads their calls itself through the store's own
reader (``calls_of``: an ``IN`` list of a few hundred names a statement on the
indexed ``account`` column, merged back into log order by ``seq``). That is exact
when every logged call's ``account`` is the account the partitioner reads for
it (its acting account; a response: its message's sender), which the driver
checks as it partitions; a log where it is not (say, a store written by hand)
is read whole and its calls handed out.

An impact report plays every checkpoint (``advance``) in every partition, as
the whole run does: the driver hands out their log numbers and instants,
which are few.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.codes import C
from engine.impact.calls import as_call
from engine.impact.partition import Owners, Partitioning, deal
from engine.impact.synthetic import ADVANCE, Call
from engine.model import LoggedCall, once_per_advance
from engine.store.base import Store, open_store


@dataclass(frozen=True)
class Split:
    """A log split by account: the partitioning, each partition's logged accounts, and what every
    partition of an impact report needs besides: the checkpoints and where the whole log ends.
    ``by_account`` says whether a worker may read its calls by account (every logged call's
    account is the one the partitioner reads for it); ``calls`` and ``revisions`` count the log's
    records and its changes of revision along it, as a replay of the whole log counts them."""

    partitioning: Partitioning
    accounts: tuple[tuple[str, ...], ...]
    advances: tuple[tuple[int, dt.datetime], ...]
    end: dt.datetime | None
    by_account: bool = True
    calls: int = 0
    revisions: int = 0


def split_log(log: Iterable[LoggedCall], parts: int) -> Split:
    """``log`` in ``parts`` partitions, in one pass that keeps none of its calls (the store's
    :meth:`~engine.store.base.Store.calls_paged`): what stays is one name per account and
    message, and the checkpoints."""
    seen = _Seen()
    partitioning = deal(seen.named(log), parts)
    accounts: list[set[str]] = [set() for _ in range(parts)]
    for account in seen.logged:  # an advance is logged for each account it moved: with that account
        accounts[partitioning.part(account)].add(account)
    return Split(
        partitioning,
        tuple(tuple(sorted(a)) for a in accounts),
        tuple(seen.advances),
        seen.end,
        seen.by_account,
        seen.calls,
        seen.revisions,
    )


class _Seen:
    """What one pass over a log learns besides what its calls tie."""

    def __init__(self) -> None:
        self.owners = Owners()
        self.logged: set[str] = set()
        self.advances: list[tuple[int, dt.datetime]] = []
        self.end: dt.datetime | None = None
        self.by_account = True
        self.calls = self.revisions = 0
        self._revision: str | None = None

    def named(self, log: Iterable[LoggedCall]) -> Iterator[list[str]]:
        """What each call ties (the acting account first), for :func:`~engine.impact.partition.deal`."""
        for c in once_per_advance(self._counted(log)):
            if c.revision != self._revision:
                self.revisions, self._revision = self.revisions + 1, c.revision
            call = as_call(c)
            self.end = call.at if self.end is None else max(self.end, call.at)
            if c.method == ADVANCE:
                self.advances.append((c.seq, call.at))
                continue
            named = self.owners.accounts(call)
            if not named or named[0] != c.account:
                self.by_account = False
            yield named

    def _counted(self, log: Iterable[LoggedCall]) -> Iterator[LoggedCall]:
        for c in log:
            self.calls += 1
            self.logged.add(c.account)
            yield c


@contextmanager
def log_of(db: str) -> Iterator[Store]:
    """The store at ``db``, open for reading its log, which must be complete."""
    store = open_store(db, create=False)
    try:
        if not store.log_complete():
            raise C.log_incomplete(
                "this store was made before the event log: its earlier calls are not in it"
            )
        yield store
    finally:
        store.close()


def where(db: str) -> str:
    """The store as a worker in another folder reaches it: a file by its absolute path."""
    return str(Path(db).resolve()) if Path(db).exists() else db


def read_accounts(store: Store, accounts: Sequence[str]) -> list[LoggedCall]:
    """Every logged call of ``accounts`` (advances included), in log order: a worker's own reading."""
    return store.calls_of(accounts)


def partition_calls(
    db: str, accounts: Sequence[str], advances: Sequence[tuple[int, dt.datetime]]
) -> Iterator[tuple[tuple[int], Call, bool]]:
    """An impact partition's calls, each with its log number: its accounts' calls, read here, and
    every checkpoint of the whole log (``advances``: log number, instant), in log order."""
    store = open_store(db, create=False)
    try:
        mine = read_accounts(store, accounts)
    finally:
        store.close()
    return with_checkpoints(mine, advances)


def with_checkpoints(
    mine: Iterable[LoggedCall], advances: Sequence[tuple[int, dt.datetime]]
) -> Iterator[tuple[tuple[int], Call, bool]]:
    """A partition's own logged calls (in log order; their advances left out) and every checkpoint
    of the whole log (``advances``: log number, instant), merged in log order, each with its number."""
    own = ((c.seq, as_call(c)) for c in mine if c.method != ADVANCE)
    checkpoints = ((seq, Call(ADVANCE, {}, at, where=f"log #{seq}")) for seq, at in advances)
    for seq, call in heapq.merge(own, checkpoints, key=lambda sc: sc[0]):
        yield (seq,), call, True
