"""Deterministic workloads for the benchmark: send-decision facts and a year of account events.

Both are generated from a seed so every path in one run sees the same
inputs, and runs on different days can be compared.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PLANS = ("basic", "career", "business", "sales_navigator", "recruiter_lite")
PLAN_WEIGHTS = (10, 40, 25, 15, 10)
RESPONSES = ("reply", "interested", "maybe_later", "not_interested")


def send_facts(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Fact sets for "may this account send an InMail now?", every outcome represented."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        plan = rng.choices(PLANS, PLAN_WEIGHTS)[0]
        purchasable = plan in ("career", "business")
        out.append({
            "sender.premium": plan != "basic" and rng.random() > 0.05,
            "sender.plan": plan,
            "sender.payment": "expired" if rng.random() < 0.08 else "valid",
            "sender.balance": rng.choice((0, 0, 1, 2, 3, 5, 8, 13, 15, 40)),
            "plan.premium": plan != "basic",
            "plan.purchasable": purchasable,
            "plan.monthly_allotment": {"basic": 0, "career": 5, "business": 15,
                                       "sales_navigator": 20, "recruiter_lite": 30}[plan],
            "plan.cap": {"basic": 0, "career": 15, "business": 45,
                         "sales_navigator": 60, "recruiter_lite": 90}[plan],
            "recipient.connected": rng.random() < 0.15,
            "pair.awaiting_response": rng.random() < 0.1,
        })
    return out


@dataclass(frozen=True)
class Call:
    """One API call of the replay: method name, positional args, keyword args (``at`` included)."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def year_of_events(accounts: int, seed: int = 11, sends_per_month: float = 6.0) -> Iterator[Call]:
    """A realistic year: subscriptions, sends, responses of each type, purchases, cards, cancels.

    Calls come out in time order. Roughly 60 % of InMails get a response
    (some after the 90-day window), a few members buy credits, a few cards
    expire and are renewed, about 5 % cancel and some of them come back.
    """
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    year = 365 * 24 * 3600
    calls: list[tuple[float, int, Call]] = []
    seq = 0

    def add(t: float, method: str, *args: Any, **kwargs: Any) -> None:
        nonlocal seq
        seq += 1
        at = start + dt.timedelta(seconds=int(t))
        calls.append((t, seq, Call(method, args, {**kwargs, "at": at})))

    for a in range(accounts):
        name = f"a{a}"
        plan = rng.choices(PLANS, PLAN_WEIGHTS)[0]
        since = rng.uniform(0, 30 * 24 * 3600)
        add(since, "subscribe", name, plan)
        if rng.random() < 0.3:
            add(since + 1, "connect", name, f"c{a}")
        n_sends = int(rng.expovariate(1 / sends_per_month) * 12)
        for m in range(n_sends):
            t = rng.uniform(since + 60, year)
            recipient = f"c{a}" if rng.random() < 0.1 else f"r{rng.randrange(accounts * 20)}"
            mid = f"{name}-m{m}"
            add(t, "send", name, recipient, message_id=mid)
            if rng.random() < 0.6:
                delay = rng.choice((3600, 86400, 5 * 86400, 30 * 86400, 100 * 86400))
                add(t + delay, "respond", mid, rng.choice(RESPONSES))
        if plan in ("career", "business") and rng.random() < 0.1:
            add(rng.uniform(since + 60, year), "purchase", name, rng.choice((5, 10, 25)))
        if rng.random() < 0.05:
            t = rng.uniform(since + 60, year)
            add(t, "set_payment", name, "expired")
            add(t + 7 * 86400, "set_payment", name, "valid")
        if rng.random() < 0.05:
            t = rng.uniform(since + 86400, year)
            add(t, "cancel", name)
            if rng.random() < 0.5:
                add(t + 20 * 86400, "subscribe", name, plan)
    calls.sort(key=lambda c: (c[0], c[1]))
    for _, _, call in calls:
        yield call
