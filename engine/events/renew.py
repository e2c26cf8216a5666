"""``renew``: a billing date came; the plan's allotment is granted and the cap applied (not a call)."""

from __future__ import annotations

from engine.events.base import EventKind

KIND = EventKind(
    name="renew",
    order=40,
    shape="system",
    actor="account",
    summary="A renewal on the billing anchor's day",
    outcomes=("renewed", "skipped"),
    reasons=("not_premium",),
    effects={
        "grant_allotment": "add a lot of the plan's monthly allotment",
        "apply_cap": "bring capped credits down to the plan's cap (`cap.on_overflow`)",
    },
)
