"""``expire``: a lot reached its end; what is left of it goes (not a call)."""

from __future__ import annotations

from engine.events.base import EventKind, fact
from engine.policy import LOT_SOURCES

KIND = EventKind(
    name="expire",
    order=50,
    shape="system",
    actor="account",
    summary="A lot of credits reaches its expiry",
    facts=(
        fact("lot.source", "str", "where the expiring credits came from", LOT_SOURCES),
        fact("lot.remaining", "int", "unused credits left in the expiring lot"),
    ),
    outcomes=("expired", "skipped"),
    reasons=("nothing_left",),
    effects={"expire_lot": "remove what is left of the expiring lot"},
)
