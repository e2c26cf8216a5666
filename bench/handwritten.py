"""The floor: the send rules of ``rules/send.yaml`` written by hand as a Python if-chain.

This is what a team would write without a rule engine. It is fast and
opaque: the numbers and the order live in code, not in a file a policy
editor can read. The benchmark checks it agrees with the engine.
"""

from __future__ import annotations

from collections.abc import Mapping


def decide_send(f: Mapping[str, object]) -> str:
    """Return the id of the rule that decides a send."""
    if f["recipient.connected"]:
        return "free-to-connections"
    if not f["sender.premium"]:
        return "basic-must-upgrade"
    if f["sender.payment"] == "expired":
        return "expired-card"
    if f["pair.awaiting_response"]:
        return "one-unanswered-inmail-per-recipient"
    if f["sender.balance"] < 1:  # type: ignore[operator]
        return "no-credits-can-buy" if f["plan.purchasable"] else "no-credits"
    return "send-inmail"
