"""Deterministic workloads for the benchmark: send-decision facts and a year of account events.

Both are generated from a seed so every path in one run sees the same
inputs, and runs on different days can be compared. The year of events is
the engine's own (``engine.impact.synthetic``), the one ``inmail impact
--synthetic`` plays.
"""

from __future__ import annotations

import random
from typing import Any

from engine.impact.synthetic import PLAN_WEIGHTS, PLANS, Call, year_of_events

__all__ = ["Call", "send_facts", "year_of_events"]


def send_facts(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Fact sets for "may this account send an InMail now?", every outcome represented."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        plan = rng.choices(PLANS, PLAN_WEIGHTS)[0]
        purchasable = plan in ("career", "business")
        out.append(
            {
                "sender.premium": plan != "basic" and rng.random() > 0.05,
                "sender.plan": plan,
                "sender.payment": "expired" if rng.random() < 0.08 else "valid",
                "sender.balance": rng.choice((0, 0, 1, 2, 3, 5, 8, 13, 15, 40)),
                "plan.premium": plan != "basic",
                "plan.purchasable": purchasable,
                "plan.monthly_allotment": {
                    "basic": 0,
                    "career": 5,
                    "business": 15,
                    "sales_navigator": 20,
                    "recruiter_lite": 30,
                }[plan],
                "plan.cap": {
                    "basic": 0,
                    "career": 15,
                    "business": 45,
                    "sales_navigator": 60,
                    "recruiter_lite": 90,
                }[plan],
                "recipient.connected": rng.random() < 0.15,
                "pair.awaiting_response": rng.random() < 0.1,
            }
        )
    return out
