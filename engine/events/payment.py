"""``payment``: the card on file is now valid or expired (an expired card blocks sends and purchases).

The Engine method is ``set_payment`` (a verb reads better in code); everywhere
else, in rules, scenarios, decisions and routes, the kind is ``payment``.
"""

from __future__ import annotations

from engine.events.base import PAYMENT_STATUSES, Arg, EventKind, fact

KIND = EventKind(
    name="payment",
    method="set_payment",
    order=100,
    actor="account",
    summary="Record the card on file as valid or expired",
    doc="Record the card on file as ``valid`` or ``expired`` (R03: expired blocks sends and purchases).",
    route="/accounts/{account}/payment",
    args=(
        Arg(
            "account",
            "account",
            "an account name",
            "The member whose card it is.",
            scenario="account",
            http="path",
        ),
        Arg(
            "status",
            "payment",
            "the payment status",
            "`valid` or `expired`.",
            scenario="status",
            http="status",
            example="expired",
        ),
    ),
    describe=lambda a: f"payment {a['account']}: {a['status']}",
    extra_facts=lambda policy, a: {"payment.status": a["status"]},
    facts=(fact("payment.status", "str", "the new card status", PAYMENT_STATUSES),),
    outcomes=("payment_updated",),
    effects={"set_payment": "record the new card status"},
)
