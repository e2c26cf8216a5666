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

from engine.events import AT, KINDS, Arg
from engine.model import LoggedCall, once_per_advance


def _value(v: object) -> str:
    """A YAML scalar that reads back as the same text or number (JSON is valid YAML flow)."""
    return json.dumps(v, ensure_ascii=False)


_OMIT = object()


def _field(arg: Arg, c: LoggedCall) -> object:
    """What a step writes for one argument of a logged call; ``_OMIT``: nothing.

    The step writes what the call was given, in the kind's scenario keys, with
    two exceptions. A new message is always named (``<account>/log-<n>`` when
    the log has no id), so that none is numbered by the engine: a send denied
    here may go out under an edited policy, and must not take a later send's
    number. And an instant whose default is the call's own (a billing anchor)
    is written only when it differs from ``at``.
    """
    if arg.scenario is None:
        return _OMIT
    value = c.args.get(arg.name)
    if arg.type == "new_message":
        return c.message or value or f"{c.account}/log-{c.seq}"
    if arg.required:
        return c.args[arg.name]
    if value is None or value == arg.default or (arg.default == AT and value == c.args["at"]):
        return _OMIT
    return value


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
        kind = KINDS.by_method(c.method)
        parts = [f"{a.scenario}: {_value(v)}" for a in kind.args if (v := _field(a, c)) is not _OMIT]
        expect = f"outcome: {c.outcome}" + (f", reason: {c.reason}" if c.reason else "")
        steps.append(
            f"  - at: {_value(c.args['at'])}\n    {kind.name}: {{{', '.join(parts)}}}\n"
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
