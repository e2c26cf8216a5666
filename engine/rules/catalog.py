"""The fact catalog, outcomes, reasons and effects: the vocabulary of rules files.

A rule may only read facts listed here for its event kind, may only decide
the outcomes and reasons listed here, and may only ask for effects the ledger
implements. Keeping the vocabulary in one table lets the rules loader check
every file against it (with ``did you mean``), lets ``rules/README.md`` be
generated from it, and tells the engine which facts it must compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.policy import LOT_SOURCES, RESPONSE_STATUSES

FactType = Literal["bool", "int", "str"]

#: The largest whole number a fact or a rule's literal may hold. durable_rules compares numbers as
#: C doubles, exact only to 2**53; this bound keeps every comparison exact with room to spare.
MAX_FACT_INT = 10**15

PAYMENT_STATUSES = ("valid", "expired")
MESSAGE_KINDS = ("inmail", "free")

#: Symbolic choice sets resolved against the loaded policy.
PLAN_NAMES = "<plans>"
RESPONSE_TYPES = "<responses>"


@dataclass(frozen=True)
class FactSpec:
    """A fact a condition may read: its type, allowed values (for text) and meaning."""

    name: str
    type: FactType
    doc: str
    choices: tuple[str, ...] | str | None = None


def _f(name: str, type_: FactType, doc: str, choices: tuple[str, ...] | str | None = None) -> FactSpec:
    return FactSpec(name, type_, doc, choices)


def _account(prefix: str) -> list[FactSpec]:
    who = "the sender" if prefix == "sender" else "the account"
    return [
        _f(f"{prefix}.premium", "bool", f"{who} has an active subscription to a Premium plan"),
        _f(f"{prefix}.plan", "str", f"the plan {who} is on (kept after a cancel)", PLAN_NAMES),
        _f(
            f"{prefix}.payment",
            "str",
            f"whether the card on file of {who} is valid or expired",
            PAYMENT_STATUSES,
        ),
        _f(f"{prefix}.balance", "int", f"usable credits {who} holds at this instant"),
        _f("plan.premium", "bool", f"the plan of {who} is a Premium plan"),
        _f("plan.purchasable", "bool", f"members on the plan of {who} may buy credits"),
        _f("plan.monthly_allotment", "int", f"credits the plan of {who} grants at each renewal"),
        _f("plan.cap", "int", f"the most capped credits the plan of {who} may hold"),
    ]


_CATALOG: dict[str, list[FactSpec]] = {
    "send": [
        *_account("sender"),
        _f("recipient.connected", "bool", "the recipient is a 1st-degree connection of the sender"),
        _f(
            "pair.awaiting_response",
            "bool",
            "the sender has an InMail to this recipient that is still unanswered",
        ),
    ],
    "respond": [
        *_account("sender"),
        _f(
            "message.kind",
            "str",
            "`inmail` for a paid InMail, `free` for a message to a connection",
            MESSAGE_KINDS,
        ),
        _f("message.responded", "bool", "the message already had a response before this one"),
        _f("message.age_days", "int", "whole days between the send and this response"),
        _f("response.type", "str", "the kind of response (see `responses` in policies.yaml)", RESPONSE_TYPES),
        _f("response.status", "str", "how the response records the InMail", RESPONSE_STATUSES),
        _f(
            "response.within_window",
            "bool",
            "the response came no later than `credit_back.window_days` after the send",
        ),
    ],
    "purchase": [
        *_account("account"),
        _f("purchase.credits", "int", "how many credits the member asks to buy"),
    ],
    "renew": [*_account("account")],
    "expire": [
        *_account("account"),
        _f("lot.source", "str", "where the expiring credits came from", LOT_SOURCES),
        _f("lot.remaining", "int", "unused credits left in the expiring lot"),
    ],
    "remind": [
        *_account("sender"),
        _f("message.responded", "bool", "the InMail has had a response"),
    ],
    "cancel": [*_account("account")],
    "subscribe": [*_account("account")],
    "change_plan": [*_account("account"), _f("new_plan.premium", "bool", "the new plan is Premium")],
    "payment": [*_account("account"), _f("payment.status", "str", "the new card status", PAYMENT_STATUSES)],
    "connect": [*_account("account")],
}

CATALOG: dict[str, dict[str, FactSpec]] = {
    kind: {f.name: f for f in facts} for kind, facts in _CATALOG.items()
}

EVENT_KINDS: tuple[str, ...] = tuple(CATALOG)

#: Outcomes each event kind may decide, and the reasons that may go with them.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "send": ("sent", "sent_free", "denied"),
    "respond": ("credited_back", "not_credited"),
    "purchase": ("purchased", "denied"),
    "renew": ("renewed", "skipped"),
    "expire": ("expired", "skipped"),
    "remind": ("reminded", "skipped"),
    "cancel": ("canceled",),
    "subscribe": ("subscribed",),
    "change_plan": ("plan_changed",),
    "payment": ("payment_updated",),
    "connect": ("connected",),
}

REASONS: dict[str, tuple[str, ...]] = {
    "send": ("upgrade_required", "update_payment_required", "awaiting_response", "no_credits"),
    "respond": ("late_response", "not_premium", "already_responded", "not_inmail"),
    "purchase": ("upgrade_required", "not_purchasable", "update_payment_required"),
    "renew": ("not_premium",),
    "expire": ("nothing_left",),
    "remind": ("already_responded",),
    "cancel": (),
    "subscribe": (),
    "change_plan": (),
    "payment": (),
    "connect": (),
}

#: Outcomes that refuse or skip something: they must name a reason, and the others must not.
REASONED_OUTCOMES = frozenset({"denied", "not_credited", "skipped"})

#: Outcomes that allow only some of their event's effects (a denied send creates no message, so
#: nothing that needs one can happen).
OUTCOME_EFFECTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("send", "denied"): ("offer_purchase",),
}

#: Effects the ledger implements, per event kind, with what each does.
EFFECTS: dict[str, dict[str, str]] = {
    "send": {
        "consume_credit": "use one credit from the lot that expires soonest",
        "await_response": "block further InMails to this recipient until it responds",
        "schedule_reminder": "remind the recipient `reminder.after_days` after the send",
        "offer_purchase": "tell the caller the member may buy more credits",
    },
    "respond": {
        "record_response": "store the response and its status on the message",
        "release_pair": "let the sender InMail this recipient again",
        "credit_back": "return one credit (`credit_back.lot` says which)",
    },
    "purchase": {"grant_purchase": "add a lot of the bought credits, outside the cap"},
    "renew": {
        "grant_allotment": "add a lot of the plan's monthly allotment",
        "apply_cap": "bring capped credits down to the plan's cap (`cap.on_overflow`)",
    },
    "expire": {"expire_lot": "remove what is left of the expiring lot"},
    "remind": {"send_reminder": "remind the recipient of the unanswered InMail"},
    "cancel": {
        "forfeit_all": "remove every credit the account holds",
        "end_subscription": "stop renewals; the account is no longer Premium",
    },
    "subscribe": {"start_subscription": "start a subscription (new start date and billing anchor)"},
    "change_plan": {"change_plan": "move to the new plan; allotment and cap apply from the next renewal"},
    "payment": {"set_payment": "record the new card status"},
    "connect": {"connect": "record a 1st-degree connection (both ways)"},
}


def fact_names(event: str) -> list[str]:
    """The facts an event kind provides, in catalog order."""
    return list(CATALOG[event])
