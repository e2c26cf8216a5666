"""``subscribe``: a subscription starts, opening the account if new (a canceled or Basic one restarts)."""

from __future__ import annotations

from engine.events.base import AT, Arg, EventKind

KIND = EventKind(
    name="subscribe",
    order=80,
    shape="subscribe",
    actor="account",
    summary="Start a subscription (opening the account if new)",
    doc="""Start a subscription (opening the account if new); a canceled or Basic account starts afresh.

Upgrading a Basic member is a new subscription (new start, anchor and
start grant); moving between Premium plans is :meth:`change_plan`.

The billing anchor (default ``at``) fixes the renewal dates (R07, R08):
a seat assigned mid-cycle still renews on the anchor's day. With
``renewal.grant_on_start`` the start grant is a ``renew`` event at
``at`` that the subscription itself brings about: it is applied right
after it, within this call, and listed in ``system_events`` (so
``Decision.balance`` already includes it).
""",
    route="/accounts/{account}/subscribe",
    args=(
        Arg(
            "account",
            "name",
            "an account name",
            "The member who subscribes.",
            scenario="account",
            http="path",
        ),
        Arg(
            "plan",
            "plan",
            "the plan",
            "A plan of the policy in force.",
            scenario="plan",
            http="plan",
            example="career",
        ),
        Arg(
            "billing_anchor",
            "instant",
            "the billing anchor",
            "Fixes the renewal days; default `at`.",
            scenario="billing_anchor",
            http="billing_anchor",
            default=AT,
        ),
        Arg(
            "payment",
            "payment",
            "the payment status",
            "`valid` (default) or `expired`.",
            http="payment",
            default="valid",
        ),
    ),
    subscription="start",
    describe=lambda a: f"subscribe {a['account']} {a['plan']}",
    outcomes=("subscribed",),
    effects={"start_subscription": "start a subscription (new start date and billing anchor)"},
)
