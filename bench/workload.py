"""Deterministic workloads for the benchmark: send-decision facts and a year of account events.

Both are generated from a seed so every path in one run sees the same
inputs, and runs on different days can be compared. The year of events is
the engine's own (``engine.impact.synthetic``), the one ``inmail impact
--synthetic`` plays.
"""

from __future__ import annotations

import random
from typing import Any

from engine.impact.synthetic import Call, Mix, year_of_events
from engine.policy import Policy, load_policy

__all__ = ["Call", "send_facts", "year_of_events"]


def send_facts(n: int, seed: int = 7, policy: Policy | None = None) -> list[dict[str, Any]]:
    """Fact sets for "may this account send an InMail now?", every outcome represented.

    The plans and their numbers are ``policy``'s (default: the shipped one), spread as in the
    year of events (:class:`~engine.impact.synthetic.Mix`).
    """
    policy = policy if policy is not None else load_policy()
    mix = Mix.of(policy)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        plan = policy.plans[rng.choices(mix.plans, mix.weights)[0]]
        out.append(
            {
                "sender.premium": plan.premium and rng.random() > 0.05,
                "sender.plan": plan.name,
                "sender.payment": "expired" if rng.random() < 0.08 else "valid",
                "sender.balance": rng.choice((0, 0, 1, 2, 3, 5, 8, 13, 15, 40)),
                "plan.premium": plan.premium,
                "plan.purchasable": plan.purchasable,
                "plan.monthly_allotment": plan.monthly_allotment,
                "plan.cap": plan.cap,
                "recipient.connected": rng.random() < 0.15,
                "pair.awaiting_response": rng.random() < 0.1,
            }
        )
    return out
