"""``remind``: an InMail waited long enough; the recipient may be reminded (not a call)."""

from __future__ import annotations

from engine.events.base import EventKind, fact

KIND = EventKind(
    name="remind",
    order=60,
    shape="system",
    actor="sender",
    summary="An unanswered InMail's reminder falls due",
    facts=(fact("message.responded", "bool", "the InMail has had a response"),),
    outcomes=("reminded", "skipped"),
    reasons=("already_responded",),
    effects={"send_reminder": "remind the recipient of the unanswered InMail"},
)
