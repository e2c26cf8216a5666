"""A store's event log as a scenario file: real history, made into a test an editor can run and edit.

The accounts are set up as they first subscribed; every later call becomes a
step, with the decision the store made as its ``expect`` (outcome and
reason), and every ``advance`` a checkpoint. Run against the same policy, the
file passes; after an edit of the policy, ``inmail simulate`` shows each step
that now comes out differently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from engine.model import LoggedCall, once_per_advance

#: How a logged call's arguments are written as a scenario event: (event key, (field, argument)...).
_EVENTS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "send": ("send", (("from", "sender"), ("to", "recipient"))),
    "respond": ("respond", (("message", "message_id"), ("with", "response_type"))),
    "purchase": ("purchase", (("account", "account"), ("credits", "credits"))),
    "cancel": ("cancel", (("account", "account"),)),
    "subscribe": ("subscribe", (("account", "account"), ("plan", "plan"))),
    "change_plan": ("change_plan", (("account", "account"), ("plan", "plan"))),
    "set_payment": ("payment", (("account", "account"), ("status", "status"))),
    "connect": ("connect", (("account", "account"), ("with", "other"))),
}


def _value(v: object) -> str:
    """A YAML scalar that reads back as the same text or number (JSON is valid YAML flow)."""
    return json.dumps(v, ensure_ascii=False)


def log_to_scenario(calls: Iterable[LoggedCall], title: str, revision: str | None = None) -> str:
    """The scenario text for ``calls`` (in log order)."""
    accounts: dict[str, LoggedCall] = {}
    steps: list[str] = []
    for c in once_per_advance(calls):
        if c.method == "advance":
            steps.append(f"  - at: {_value(c.args['to'])}")
            continue
        if c.method == "subscribe" and c.account not in accounts:
            accounts[c.account] = c
            continue
        key, fields = _EVENTS[c.method]
        parts = [f"{name}: {_value(c.args[arg])}" for name, arg in fields]
        if c.method == "send":  # every send named, so that none is numbered by the engine (a send denied
            # here may go out under an edited policy, and must not take a later send's number)
            parts.append(f"id: {_value(c.message or c.args.get('message_id') or f'{c.account}/log-{c.seq}')}")
        if c.method == "subscribe" and c.args.get("billing_anchor") not in (None, c.args["at"]):
            parts.append(f"billing_anchor: {_value(c.args['billing_anchor'])}")
        expect = f"outcome: {c.outcome}" + (f", reason: {c.reason}" if c.reason else "")
        steps.append(
            f"  - at: {_value(c.args['at'])}\n    {key}: {{{', '.join(parts)}}}\n"
            f"    expect: {{{expect}}}      # log #{c.seq}"
        )
    lines = [
        f"# Exported from a store's event log ({len(steps)} steps"
        + (f", decided under revision {revision}" if revision else "")
        + ").",
        "# Each step expects what the store decided; run it with `inmail simulate FILE`.",
        "# (For completion in an editor, copy the first line of a file in examples/scenarios/.)",
        f"title: {_value(title)}",
        "accounts:",
    ]
    for name, c in accounts.items():
        setup = [f"plan: {_value(c.args['plan'])}", f"since: {_value(c.args['at'])}"]
        if c.args.get("billing_anchor") not in (None, c.args["at"]):
            setup.append(f"billing_anchor: {_value(c.args['billing_anchor'])}")
        if c.args.get("payment", "valid") != "valid":
            setup.append(f"payment: {_value(c.args['payment'])}")
        lines.append(f"  {_value(name)}: {{{', '.join(setup)}}}      # log #{c.seq}")
    if not accounts:
        lines[-1] = "accounts: {}"
    lines.append("timeline:")
    lines.extend(steps)
    return "\n".join(lines) + "\n"
