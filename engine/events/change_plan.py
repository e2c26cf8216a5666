"""``change_plan``: move to another plan; eligibility at once, allotment and cap from the next renewal."""

from __future__ import annotations

from engine.events.base import Arg, EventKind, fact

KIND = EventKind(
    name="change_plan",
    order=90,
    actor="account",
    summary="Move to another plan",
    doc="Move to ``plan``: eligibility at once; allotment and cap from the next renewal; lots kept.",
    route="/accounts/{account}/change-plan",
    args=(
        Arg(
            "account", "account", "an account name", "The member who moves.", scenario="account", http="path"
        ),
        Arg(
            "plan",
            "plan",
            "the plan",
            "A plan of the policy in force.",
            scenario="plan",
            http="plan",
            example="business",
        ),
    ),
    subscription="move",
    describe=lambda a: f"change_plan {a['account']} → {a['plan']}",
    extra_facts=lambda policy, a: {"new_plan.premium": policy.plans[a["plan"]].premium},
    facts=(fact("new_plan.premium", "bool", "the new plan is Premium"),),
    outcomes=("plan_changed",),
    effects={"change_plan": "move to the new plan; allotment and cap apply from the next renewal"},
)
