"""``send``: may the sender InMail the recipient now? If the rules say so, the message goes out."""

from __future__ import annotations

from engine.events.base import Arg, EventKind, fact

KIND = EventKind(
    name="send",
    order=10,
    shape="send",
    actor="sender",
    summary="May this member InMail `to` now? If so, the message goes out",
    doc="""May ``sender`` InMail ``recipient`` now? If the rules say so, the message goes out.

A message to a connection is recorded as a free message (a response
to it earns nothing back); a denied send records nothing.
``Decision.message`` is the message id (generated when not given).
""",
    route="/accounts/{account}/send",
    args=(
        Arg("sender", "account", "the sender", "The member who sends.", scenario="from", http="path"),
        Arg(
            "recipient", "name", "the recipient", "The recipient.", scenario="to", http="to", example="carol"
        ),
        Arg(
            "message_id",
            "new_message",
            "a message id",
            "Names the message for its response; default `<sender>/<n>`.",
            scenario="id",
            http="message_id",
            default=None,
            example="m1",
        ),
    ),
    distinct=("sender", "recipient", "cannot send an InMail to itself"),
    describe=lambda a: (
        f"send {a['sender']} → {a['recipient']}" + (f" ({a['message_id']})" if a.get("message_id") else "")
    ),
    facts=(
        fact("recipient.connected", "bool", "the recipient is a 1st-degree connection of the sender"),
        fact(
            "pair.awaiting_response",
            "bool",
            "the sender has an InMail to this recipient that is still unanswered",
        ),
    ),
    outcomes=("sent", "sent_free", "denied"),
    outcome_effects={"denied": ("offer_purchase",)},
    reasons=("upgrade_required", "update_payment_required", "awaiting_response", "no_credits"),
    effects={
        "consume_credit": "use one credit from the lot that expires soonest",
        "await_response": "block further InMails to this recipient until it responds",
        "schedule_reminder": "remind the recipient `reminder.after_days` after the send",
        "offer_purchase": "tell the caller the member may buy more credits",
    },
)
