"""Scenario files: loading and validating them into a typed, frozen model.

A scenario is the project's main job (``inmail simulate``) and its acceptance
format, so a mistake in one must be reported the way a policy mistake is: every
problem at once, each at its ``file:line:col`` with a stable code and a
``did you mean``. Nothing runs until the *whole* file is known to be valid:
keys, times (which must not go back), accounts, plans, messages, response
types and the outcomes/reasons named in ``expect``. References are checked in
timeline order, so "respond to `m1`" before the send that defines `m1` is an
error here rather than a half-run simulation.

The policy is loaded here too, with the scenario's ``policy:`` overrides
deep-merged as marked YAML, so an override typo points at the scenario line.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.codes import C
from engine.errors import InvalidInput, InvalidScenario
from engine.policy import Policy, load_policy
from engine.scenario.check import Checker, Context, parse_instant, payment_status
from engine.scenario.model import EVENT_FIELDS, Account, Check, Event, EventCall, Scenario, Step
from engine.scenario.steps import EXPECT_KEYS, read_timeline
from engine.source.diagnostics import Diagnostics
from engine.source.marked import YMap, read_file

__all__ = [
    "ACCOUNT_KEYS",
    "EVENT_FIELDS",
    "EXPECT_KEYS",
    "TOP_KEYS",
    "Account",
    "Check",
    "Event",
    "EventCall",
    "Scenario",
    "Step",
    "load_scenario",
]

TOP_KEYS = ("title", "policy", "accounts", "timeline")
ACCOUNT_KEYS = ("plan", "since", "billing_anchor", "payment", "connections")


# --- loading --------------------------------------------------------------------------------


def load_scenario(
    path: str | Path, policy_path: str | Path | None = None, display: str | None = None
) -> Scenario:
    """Read and validate a scenario; raise :class:`InvalidScenario` with every problem found.

    ``policy_path`` is the base policy (None: the packaged one); the scenario's
    ``policy:`` section is merged onto it.
    """
    name = display or str(path)
    d = Diagnostics()
    root = read_file(path, d, name)
    if root is None or d.has_errors():  # a value the parser dropped would only cause knock-on errors
        raise InvalidScenario(d.items)
    if not isinstance(root, YMap):
        d.error(
            C.wrong_type, "a scenario must be a mapping with `title`, `accounts` and `timeline`", root.loc
        )
        raise InvalidScenario(d.items)
    c = Checker(d)
    c.unknown_keys(root, TOP_KEYS, "the scenario")
    title = Path(name).stem
    if "title" in root:
        title = c.text(root.items["title"], "`title`") or title
    policy, override, override_text = _policy(c, root, policy_path)
    ctx = Context(c, policy)
    accounts = _accounts(ctx, root)
    steps = read_timeline(ctx, root, name)
    if d.has_errors():
        raise InvalidScenario(d.items)
    assert policy is not None
    return Scenario(
        file=name,
        title=title,
        policy=policy,
        policy_path=Path(policy_path) if policy_path is not None else None,
        override=override,
        override_text=override_text,
        accounts=tuple(accounts),
        steps=tuple(steps),
        messages=frozenset(ctx.messages),
    )


def _policy(c: Checker, root: YMap, policy_path: str | Path | None) -> tuple[Policy | None, YMap | None, str]:
    """Load the base policy with the overrides merged; diagnostics go to the scenario's list."""
    node = root.get("policy")
    override: YMap | None = None
    text = ""
    if node is not None:
        if isinstance(node, YMap):
            override = node
            text = json.dumps(node.plain(), sort_keys=True, default=str)
        else:
            c.d.error(
                C.wrong_type,
                "`policy` must be a mapping of overrides, e.g. `plans: {career: {monthly_allotment: 6}}`",
                node.loc,
            )
    try:
        return load_policy(policy_path, override=override, override_text=text), override, text
    except InvalidInput as exc:
        c.d.extend(exc.diagnostics)
    if override is None:
        return None, None, text
    try:  # keep checking references against the base policy, so all problems show at once
        return load_policy(policy_path), override, text
    except InvalidInput:
        return None, override, text


def _accounts(ctx: Context, root: YMap) -> list[Account]:
    c = ctx.c
    node = root.get("accounts")
    if node is None:
        return []
    m = c.mapping(node, "`accounts`")
    if m is None:
        return []
    out: list[Account] = []
    for name, anode in m.items.items():
        am = c.mapping(anode, f"account `{name}`")
        if am is None:
            ctx.broken.add(name)
            continue
        c.unknown_keys(am, ACCOUNT_KEYS, f"account `{name}`")
        if not c.require(am, ("plan", "since"), f"account `{name}`", ACCOUNT_KEYS):
            ctx.broken.add(name)
            continue
        plan = ctx.plan(am.items["plan"], f"`plan` of `{name}`")
        since = parse_instant(c, am.items["since"], ctx.tz, f"`since` of `{name}`")
        anchor = None
        if "billing_anchor" in am:
            anchor = parse_instant(c, am.items["billing_anchor"], ctx.tz, f"`billing_anchor` of `{name}`")
        payment = "valid"
        if "payment" in am:
            payment = payment_status(c, am.items["payment"]) or payment
        connections = _connections(c, am, name)
        if since is not None:
            ctx.starts[name] = since
        if plan is None or since is None:
            ctx.broken.add(name)
        if plan is not None:
            ctx.track_plan(name, plan)
        if plan is None or since is None:
            continue
        out.append(Account(name, plan, since, anchor, payment, connections, m.key_loc(name)))
    return out


def _connections(c: Checker, am: YMap, name: str) -> tuple[str, ...]:
    node = am.get("connections")
    if node is None:
        return ()
    items = c.seq(node, f"`connections` of `{name}`")
    out: list[str] = []
    for item in items:
        other = c.text(item, f"a connection of `{name}`")
        if other == name:
            c.d.error(C.self_connection, f"account `{name}` cannot be connected to itself", item.loc)
        elif other is not None and other not in out:
            out.append(other)
    return tuple(out)
