"""``cancel``: the subscription ends; the rules forfeit the balance and stop renewals."""

from __future__ import annotations

from engine.events.base import Arg, EventKind

KIND = EventKind(
    name="cancel",
    order=70,
    actor="account",
    summary="Cancel the subscription (the rules forfeit the balance)",
    doc="Cancel the subscription: the rules forfeit the balance and stop renewals (R12).",
    route="/accounts/{account}/cancel",
    args=(
        Arg(
            "account",
            "account",
            "an account name",
            "The member who cancels.",
            scenario="account",
            http="path",
        ),
    ),
    subscription="end",
    outcomes=("canceled",),
    effects={
        "forfeit_all": "remove every credit the account holds",
        "end_subscription": "stop renewals; the account is no longer Premium",
    },
)
