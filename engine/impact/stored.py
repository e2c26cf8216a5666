"""A partition of a store's history, read by the worker that plays it rather than shipped to it.

The driver still reads the log once, to find which accounts a call ties
(:func:`~engine.impact.partition.assign`); it then hands each partition only
the names of its accounts, and the worker reads their calls itself, one
account at a time through the store's own reader (``calls(account=...)``, an
indexed column), and puts them back in log order by ``seq``. That is exact
when every logged call's ``account`` is the account the partitioner reads for
it (its acting account; a response: its message's sender), which the driver
checks as it partitions; a log where it is not (say, a store written by hand)
is split as before, the driver handing out the calls.

An impact report plays every checkpoint (``advance``) in every partition, as
the whole run does: the driver hands out their log numbers and instants,
which are few.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.impact.calls import logged_calls
from engine.impact.partition import Owners, Partitioning, assign
from engine.impact.synthetic import ADVANCE, Call
from engine.model import LoggedCall, once_per_advance
from engine.store.base import Store, open_store


@dataclass(frozen=True)
class Split:
    """A log split by account: the partitioning, each partition's logged accounts, and what every
    partition of an impact report needs besides: the checkpoints and where the whole log ends."""

    partitioning: Partitioning
    accounts: tuple[tuple[str, ...], ...]
    advances: tuple[tuple[int, dt.datetime], ...]
    end: dt.datetime | None


def split_log(log: Sequence[LoggedCall], parts: int) -> Split | None:
    """``log`` in ``parts`` partitions, or None when a call's logged account is not the one the
    partitioner reads for it (then a worker could not read its calls by account)."""
    pairs = list(zip(once_per_advance(log), logged_calls(log), strict=True))
    partitioning = assign((call for _, call in pairs), parts)
    owners = Owners()
    accounts: list[set[str]] = [set() for _ in range(parts)]
    advances = []
    for c, call in pairs:
        if c.method == ADVANCE:
            advances.append((c.seq, call.at))
            continue
        named = owners.accounts(call)
        if not named or named[0] != c.account:
            return None
        accounts[partitioning.part(c.account)].add(c.account)
    for c in log:  # an advance is logged for each account it moved: with its account, for a replay
        if c.method == ADVANCE:
            accounts[partitioning.part(c.account)].add(c.account)
    end = max((call.at for _, call in pairs), default=None)
    return Split(partitioning, tuple(tuple(sorted(a)) for a in accounts), tuple(advances), end)


def where(db: str) -> str:
    """The store as a worker in another folder reaches it: a file by its absolute path."""
    return str(Path(db).resolve()) if Path(db).exists() else db


def read_accounts(store: Store, accounts: Sequence[str]) -> list[LoggedCall]:
    """Every logged call of ``accounts`` (advances included), in log order: a worker's own reading."""
    return list(heapq.merge(*(store.calls(account=a) for a in accounts), key=lambda c: c.seq))


def partition_calls(
    db: str, accounts: Sequence[str], advances: Sequence[tuple[int, dt.datetime]]
) -> Iterator[tuple[tuple[int], Call, bool]]:
    """An impact partition's calls, each with its log number: its accounts' calls, read here, and
    every checkpoint of the whole log (``advances``: log number, instant), in log order."""
    store = open_store(db, create=False)
    try:
        mine = [c for c in read_accounts(store, accounts) if c.method != ADVANCE]
    finally:
        store.close()
    own = zip((c.seq for c in mine), logged_calls(mine), strict=True)
    checkpoints = ((seq, Call(ADVANCE, {}, at, where=f"log #{seq}")) for seq, at in advances)
    for seq, call in heapq.merge(own, checkpoints, key=lambda sc: sc[0]):
        yield (seq,), call, True
