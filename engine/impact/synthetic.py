"""A seeded year of account events: the workload of the benchmark and of ``inmail impact --synthetic``.

One generator for both, so an impact report over ``--synthetic N`` plays
exactly the calls the benchmark times. Deterministic from its seed and the
policy it is made for: the accounts take that policy's plans and answer with
its response types, whatever they are called (:class:`Mix`).
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.events import KINDS, EventKind
from engine.policy import Policy, load_policy

#: How many accounts in a hundred take each Premium plan, in the policy's order (the first
#: Premium plan is the common one, as Career is in the shipped policy), and each plan that is
#: not Premium or comes after these. For the shipped policy: basic 10, career 40, business 25,
#: sales_navigator 15, recruiter_lite 10, the mix of every recorded benchmark run.
PREMIUM_WEIGHTS = (40, 25, 15, 10)
OTHER_WEIGHT = 10


@dataclass(frozen=True)
class Mix:
    """What a policy gives the workload: its plans with their weights, which of them may buy
    credits, and its response types (in the policy's order, so a seed gives the same year)."""

    plans: tuple[str, ...]
    weights: tuple[int, ...]
    purchasable: frozenset[str]
    responses: tuple[str, ...]

    @classmethod
    def of(cls, policy: Policy) -> Mix:
        premium = [name for name, p in policy.plans.items() if p.premium]
        weights = {name: PREMIUM_WEIGHTS[i] for i, name in enumerate(premium[: len(PREMIUM_WEIGHTS)])}
        return cls(
            plans=tuple(policy.plans),
            weights=tuple(weights.get(name, OTHER_WEIGHT) for name in policy.plans),
            purchasable=frozenset(name for name, p in policy.plans.items() if p.purchasable),
            responses=tuple(policy.responses),
        )


#: The ``event`` of a :class:`Call` that is not a call but a checkpoint: time moves on to ``at``.
ADVANCE = "advance"


@dataclass(frozen=True)
class Call:
    """One call to play, as data: what an impact report or a replay hands to :meth:`Engine.call`.

    ``event`` is the kind's name (``"payment"``, not the method ``set_payment``),
    or :data:`ADVANCE` for a checkpoint (``args`` empty: everything due by ``at``
    happens). ``args`` are the kind's arguments by :attr:`~engine.events.Arg.name`
    (an optional one may be left out), without ``at`` and ``key``: a call is
    data, so the kind's declaration, not a per-method table, says how to read it.
    ``where`` says where it came from, for a report (a scenario's ``file:line``), if anywhere.
    """

    event: str
    args: dict[str, Any]
    at: dt.datetime
    key: str | None = None
    where: str | None = field(default=None, compare=False)

    @property
    def kind(self) -> EventKind | None:
        """The call's event kind (``unknown_event`` if there is none); None for an advance."""
        return None if self.event == ADVANCE else KINDS.call(self.event)


_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_YEAR = 365 * 24 * 3600
_DELAYS = (3600, 86400, 5 * 86400, 30 * 86400, 100 * 86400)


class _Member:
    """One account's part of the year, produced lazily in its own time order.

    Its sends are the order statistics of ``n`` uniform instants, drawn one
    at a time (the next is the minimum of the ``n`` left), so an account
    holds a few numbers and a tiny heap of calls already decided (its next
    send, pending responses, a card renewal, a comeback) instead of its year.
    """

    __slots__ = ("accounts", "idx", "last", "left", "mix", "name", "pending", "popped", "rng", "seq")

    def __init__(self, idx: int, accounts: int, seed: int, sends_per_month: float, mix: Mix) -> None:
        rng = self.rng = random.Random(seed * 1_000_003 + idx)
        self.idx, self.accounts, self.name, self.mix = idx, accounts, member_name(idx), mix
        self.pending: list[tuple[int, int, str, dict[str, Any]]] = []
        self.seq = self.popped = 0
        plan = rng.choices(mix.plans, mix.weights)[0]
        since = rng.uniform(0, 30 * 24 * 3600)
        self._add(since, "subscribe", {"account": self.name, "plan": plan})
        if rng.random() < 0.3:
            self._add(since + 1, "connect", {"account": self.name, "other": f"c{idx}"})
        self.left = int(rng.expovariate(1 / sends_per_month) * 12)
        self.last = since + 60
        self._next_send()
        if plan in mix.purchasable and rng.random() < 0.1:
            t = rng.uniform(since + 60, _YEAR)  # drawn before the credits, as ever: same seed, same year
            self._add(t, "purchase", {"account": self.name, "credits": rng.choice((5, 10, 25))})
        if rng.random() < 0.05:
            t = rng.uniform(since + 60, _YEAR)
            self._add(t, "payment", {"account": self.name, "status": "expired"})
            self._add(t + 7 * 86400, "payment", {"account": self.name, "status": "valid"})
        if rng.random() < 0.05:
            t = rng.uniform(since + 86400, _YEAR)
            self._add(t, "cancel", {"account": self.name})
            if rng.random() < 0.5:
                self._add(t + 20 * 86400, "subscribe", {"account": self.name, "plan": plan})

    def _add(self, t: float, event: str, args: dict[str, Any]) -> None:
        self.seq += 1  # unique per account: the heap never compares two events' arguments
        heapq.heappush(self.pending, (int(t), self.seq, event, args))

    def _next_send(self) -> None:
        if self.left <= 0:
            return
        self.last += (_YEAR - self.last) * (1 - self.rng.random() ** (1 / self.left))
        self.left -= 1
        self._add(self.last, "send", {})

    def pop(self) -> Call:
        """The account's next call; a send schedules its response (60 %) and draws the next send."""
        t, _, event, args = heapq.heappop(self.pending)
        self.popped += 1
        at = _START + dt.timedelta(seconds=t)
        if event != "send":
            return Call(event, args, at)
        rng = self.rng
        mid = f"{self.name}-m{self.seq}"
        recipient = f"c{self.idx}" if rng.random() < 0.1 else f"r{rng.randrange(self.accounts * 20)}"
        if rng.random() < 0.6:
            due = t + rng.choice(_DELAYS)  # drawn before the response type: same seed, same year
            self._add(due, "respond", {"message_id": mid, "response_type": rng.choice(self.mix.responses)})
        self._next_send()
        return Call("send", {"sender": self.name, "recipient": recipient, "message_id": mid}, at)


def member_name(idx: int) -> str:
    """The name of the year's member number ``idx`` (its other ends are ``c<idx>`` and ``r<n>``)."""
    return f"a{idx}"


#: Where a call of the year stands in it: (its second of the year, its member's number, its place
#: among its member's calls). The year is in this order, and any subset of its members makes the
#: same keys for the same calls, so partitions made apart can be put back in the year's order.
Order = tuple[int, int, int]


def year_of_events(
    accounts: int,
    seed: int = 11,
    sends_per_month: float = 6.0,
    policy: Policy | None = None,
    only: Callable[[int], bool] | None = None,
) -> Iterator[Call]:
    """A realistic year under ``policy`` (default: the shipped one): subscriptions to its plans,
    sends, responses of each of its types, purchases, cards, cancels.

    Calls come out in time order (ties: account, then the order each
    account decided them), streamed: one small record per account and a
    heap of each account's next instant, so a 100k-account year needs no
    list of millions of calls and the replay's RSS measures the engine.
    Roughly 60 % of InMails get a response (some after 100 days, beyond the
    shipped policy's 90-day window), a few members of plans that may buy credits
    buy some, a few cards expire and are renewed, about 5 % cancel and some of
    them come back. ``only`` (a test of the member's number) makes only those members' calls:
    each member draws from its own seed, so they are exactly their calls in the whole year.
    """
    return (call for _, call in ordered_year(accounts, seed, sends_per_month, policy, only))


def ordered_year(
    accounts: int,
    seed: int = 11,
    sends_per_month: float = 6.0,
    policy: Policy | None = None,
    only: Callable[[int], bool] | None = None,
) -> Iterator[tuple[Order, Call]]:
    """:func:`year_of_events`, each call with its :data:`Order` in the whole year: a partition that
    makes only its members' calls numbers them as the whole year does."""
    mix = Mix.of(policy if policy is not None else load_policy())
    members = {
        i: _Member(i, accounts, seed, sends_per_month, mix)
        for i in range(accounts)
        if only is None or only(i)
    }
    heap = [(m.pending[0][0], i) for i, m in members.items()]
    heapq.heapify(heap)
    while heap:
        t, i = heap[0]
        m = members[i]
        call = m.pop()
        order = (t, i, m.popped)
        if m.pending:
            heapq.heapreplace(heap, (m.pending[0][0], i))
        else:
            heapq.heappop(heap)
            del members[i]
        yield order, call


def year_end(
    accounts: int,
    seed: int = 11,
    sends_per_month: float = 6.0,
    policy: Policy | None = None,
    only: Callable[[int], bool] | None = None,
) -> dt.datetime | None:
    """The instant of the last call of those members (None: no call), made one member at a time
    (no heap across them, nothing kept): what tells every partition where the whole year ends."""
    mix = Mix.of(policy if policy is not None else load_policy())
    last: int | None = None
    for i in range(accounts):
        if only is not None and not only(i):
            continue
        m = _Member(i, accounts, seed, sends_per_month, mix)
        t = m.pending[0][0]
        while m.pending:  # in its own time order: the last one popped is its last
            t = m.pending[0][0]
            m.pop()
        last = t if last is None else max(last, t)
    return None if last is None else _START + dt.timedelta(seconds=last)
