"""``respond``: the recipient answers a message; the rules decide whether the sender gets the credit back."""

from __future__ import annotations

from engine.events.base import MESSAGE_KINDS, RESPONSE_TYPES, Arg, EventKind, fact
from engine.policy import RESPONSE_STATUSES

KIND = EventKind(
    name="respond",
    order=20,
    shape="respond",
    actor="sender",
    summary="The recipient responds; the rules decide the credit back",
    doc="""The recipient responds; the rules decide whether the sender gets the credit back (R13-R16).

``Decision.status`` is how the response records the message
(``responses`` in the policy: replied, accepted or declined); the
acting account is the sender, whose balance may change.
""",
    route="/messages/{message:path}/respond",
    args=(
        Arg(
            "message_id",
            "message",
            "a message id",
            "The message id a send returned.",
            scenario="message",
            http="path",
        ),
        Arg(
            "response_type",
            "response",
            "the response type",
            "The response type (the policy's `responses`).",
            scenario="with",
            http="with",
            example="interested",
        ),
    ),
    describe=lambda a: f"respond {a['message_id']}: {a['response_type']}",
    facts=(
        fact(
            "message.kind",
            "str",
            "`inmail` for a paid InMail, `free` for a message to a connection",
            MESSAGE_KINDS,
        ),
        fact("message.responded", "bool", "the message already had a response before this one"),
        fact("message.age_days", "int", "whole days between the send and this response"),
        fact(
            "response.type", "str", "the kind of response (see `responses` in policies.yaml)", RESPONSE_TYPES
        ),
        fact("response.status", "str", "how the response records the InMail", RESPONSE_STATUSES),
        fact(
            "response.within_window",
            "bool",
            "the response came no later than `credit_back.window_days` after the send",
        ),
    ),
    outcomes=("credited_back", "not_credited"),
    reasons=("late_response", "not_premium", "already_responded", "not_inmail"),
    effects={
        "record_response": "store the response and its status on the message",
        "release_pair": "let the sender InMail this recipient again",
        "credit_back": "return one credit (`credit_back.lot` says which)",
    },
)
