"""``connect``: two members become 1st-degree connections, both ways (messages between them are free)."""

from __future__ import annotations

from engine.events.base import Arg, EventKind

KIND = EventKind(
    name="connect",
    order=110,
    actor="account",
    summary="Make two members 1st-degree connections",
    doc="Make ``account`` and ``other`` 1st-degree connections, both ways (R04).",
    route="/accounts/{account}/connect",
    args=(
        Arg(
            "account",
            "account",
            "an account name",
            "One of the two members.",
            scenario="account",
            http="path",
        ),
        Arg(
            "other",
            "name",
            "the account to connect with",
            "The member to connect with (both ways).",
            scenario="with",
            http="with",
            example="bob",
            party=True,
        ),
    ),
    distinct=("account", "other", "cannot connect to itself"),
    describe=lambda a: f"connect {a['account']} ↔ {a['other']}",
    outcomes=("connected",),
    effects={"connect": "record a 1st-degree connection (both ways)"},
)
