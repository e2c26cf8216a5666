"""Helpers shared by the rules tests (a plain module: test folders here are not packages)."""

from __future__ import annotations

from typing import Any


def send_facts(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sender.premium": True,
        "sender.plan": "career",
        "sender.payment": "valid",
        "sender.balance": 5,
        "plan.premium": True,
        "plan.purchasable": True,
        "plan.monthly_allotment": 5,
        "plan.cap": 15,
        "recipient.connected": False,
        "pair.awaiting_response": False,
    }
    base.update({k.replace("__", "."): v for k, v in changes.items()})
    return base
