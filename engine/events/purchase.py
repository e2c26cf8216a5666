"""``purchase``: buy extra credits, outside the cap, if the rules allow it."""

from __future__ import annotations

from engine.events.base import Arg, EventKind, fact

KIND = EventKind(
    name="purchase",
    order=30,
    actor="account",
    summary="Buy extra credits, if the plan may",
    doc="Buy ``credits`` extra credits, outside the cap, if the rules allow it (R17, R18).",
    route="/accounts/{account}/purchase",
    args=(
        Arg("account", "account", "an account name", "The member who buys.", scenario="account", http="path"),
        Arg(
            "credits",
            "credits",
            "credits to buy",
            "Whole credits to buy, 1 to 1,000,000.",
            scenario="credits",
            http="credits",
            example=10,
        ),
    ),
    describe=lambda a: f"purchase {a['account']} +{a['credits']}",
    extra_facts=lambda policy, a: {"purchase.credits": a["credits"]},
    facts=(fact("purchase.credits", "int", "how many credits the member asks to buy"),),
    outcomes=("purchased", "denied"),
    reasons=("upgrade_required", "not_purchasable", "update_payment_required"),
    effects={"grant_purchase": "add a lot of the bought credits, outside the cap"},
)
