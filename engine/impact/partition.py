"""Splitting a history into partitions that never share an account's state, for many workers.

A call changes its acting account (a response: its message's sender), and
the state of the accounts its kind declares as a ``party`` (a connection is
both ways, so it changes the other end too). A send does not change its
recipient: what it records (the message, the pair awaiting an answer) is
the sender's, so sends between members do not tie them, and neither do
responses. One more thing is shared: message ids, so two senders who choose
the same id are tied. Accounts are grouped into the connected components of
"a call ties them" (union-find over the calls, which arguments do so being
read from each event kind's declaration), and whole components are dealt to the
partitions, largest first, each to the partition with the fewest events so far.
Each partition then replays its accounts' calls in log order with the unchanged
engine, so the merged per-partition reports are the report one process makes,
whatever the number of partitions.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from engine.events import EventKind
from engine.impact.synthetic import Call

#: Per call kind, worked out once: the acting argument and the ``party`` ones (the accounts a
#: call ties), whether the acting one is a message (then its account is the message's sender),
#: and the argument holding the id of a message the call creates.
_NAMES: dict[str, tuple[tuple[str, ...], bool, str | None]] = {}


def _names(kind: EventKind) -> tuple[tuple[str, ...], bool, str | None]:
    found = _NAMES.get(kind.name)
    if found is None:
        found = _NAMES[kind.name] = (
            (kind.acting.name, *kind.parties),
            kind.via_message,
            kind.arg_of("new_message"),
        )
    return found


class Owners:
    """Which account each message belongs to, learnt from the sends as the calls go by."""

    def __init__(self) -> None:
        self.of: dict[str, str] = {}

    def accounts(self, call: Call) -> list[str]:
        """The accounts ``call`` ties, the acting one first; [] for an advance."""
        kind = call.kind
        if kind is None:
            return []
        named, via_message, new = _names(kind)
        out = [str(call.args[n]) for n in named if call.args.get(n) is not None]
        if via_message and out:
            out[0] = self.sender(out[0])
        message = call.args.get(new) if new is not None else None
        if message is not None and out:
            first = self.of.setdefault(str(message), out[0])
            if first != out[0]:  # another sender chose this id first: the second send is refused
                out.append(first)
            shaped = _default_sender(str(message))
            if shaped is not None and shaped != out[0]:  # another's default id: it skips this one
                out.append(shaped)
        return out

    def sender(self, message: str) -> str:
        """The sender of ``message``: as its send named it, else the engine's default id's
        ``<sender>/<n>`` form (a send without an id), else the id itself."""
        known = self.of.get(message)
        if known is not None:
            return known
        shaped = _default_sender(message)
        return shaped if shaped is not None else message


def _default_sender(message: str) -> str | None:
    """The sender a message id names if it has the engine's default form ``<sender>/<n>``."""
    head, slash, tail = message.rpartition("/")
    return head if slash and head and tail.isdigit() else None


def _hash(account: str) -> int:
    """A hash of an account name that is the same in every process and run."""
    return zlib.crc32(account.encode("utf-8", "surrogatepass"))


def hashed(account: str, parts: int) -> int:
    """The partition of an account that ties to no other (a synthetic year's member), by its name alone:
    every worker places it alike without seeing the calls."""
    return _hash(account) % parts


@dataclass(frozen=True)
class Partitioning:
    """Every account's partition (``of``), into ``parts`` partitions."""

    parts: int
    of: dict[str, int]
    events: tuple[int, ...]

    def part(self, account: str) -> int:
        """An account's partition; one no call named (never played) by a stable hash."""
        found = self.of.get(account)
        return found if found is not None else _hash(account) % self.parts


def assign(calls: Iterable[Call], parts: int) -> Partitioning:
    """Group the accounts of ``calls`` into components and deal them to ``parts`` partitions."""
    owners = Owners()
    return deal((owners.accounts(call) for call in calls), parts)


def deal(named: Iterable[Sequence[str]], parts: int) -> Partitioning:
    """:func:`assign` from what each call ties (:meth:`Owners.accounts`, the acting account first;
    empty for an advance), for a caller that reads those itself as it goes."""
    parent: dict[str, str] = {}

    def root(a: str) -> str:
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    events: Counter[str] = Counter()
    for accounts in named:
        if not accounts:
            continue
        events[accounts[0]] += 1
        first = root(accounts[0])
        for other in accounts[1:]:
            second = root(other)
            if second != first:
                parent[second] = first
    members: dict[str, list[str]] = {}
    for account in parent:
        members.setdefault(root(account), []).append(account)
    components = sorted(
        members.values(),
        key=lambda group: (
            -sum(events[a] for a in group),
            _hash(min(group)),
        ),
    )
    loads = [0] * parts
    of: dict[str, int] = {}
    for group in components:
        target = loads.index(min(loads))
        loads[target] += sum(events[a] for a in group)
        of.update(dict.fromkeys(group, target))
    return Partitioning(parts, of, tuple(loads))


def of_partition(
    calls: Iterable[Call], partitioning: Partitioning, index: int
) -> Iterator[tuple[int, Call, bool]]:
    """Every call, numbered in the whole history, and whether partition ``index`` plays it (an
    advance: every partition does). The others pass by, so that each partition ends where the whole does."""
    owners = Owners()
    for n, call in enumerate(calls, 1):
        named = owners.accounts(call)
        yield n, call, not named or partitioning.part(named[0]) == index
