"""Reading a scenario's timeline: steps, their one event, and their expectations.

References are resolved in file order (which is also time order, since time
may not go back), so a step may only name accounts started by then and
messages defined by an earlier ``send``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.codes import C
from engine.policy import RESPONSE_STATUSES
from engine.rules.catalog import OUTCOMES, REASONS
from engine.scenario.check import Checker, Context, parse_instant, payment_status
from engine.scenario.model import (
    EVENT_FIELDS,
    STEP_KEYS,
    Cancel,
    ChangePlan,
    Check,
    Connect,
    Event,
    Purchase,
    Respond,
    Send,
    SetPayment,
    Step,
    Subscribe,
)
from engine.source.diagnostics import Location, hint
from engine.source.marked import YMap, YScalar, YSeq

EXPECT_KEYS = ("outcome", "reason", "status", "balance", "reminded")


def read_timeline(ctx: Context, root: YMap, file: str) -> list[Step]:
    c = ctx.c
    node = root.get("timeline")
    if node is None:
        c.d.error(
            C.missing_key,
            "the scenario has no `timeline`",
            root.loc,
            help="add `timeline:` with a list of steps, each with `at:`",
        )
        return []
    items = c.seq(node, "`timeline`")
    if isinstance(node, YSeq) and not items:
        c.d.error(C.empty_timeline, "the timeline has no steps", node.loc)
    steps: list[Step] = []
    last: tuple[dt.datetime, Location] | None = None
    for index, snode in enumerate(items):
        sm = c.mapping(snode, "a timeline step")
        if sm is None:
            continue
        c.unknown_keys(sm, STEP_KEYS, "a timeline step")
        if not c.require(sm, ("at",), "this step", STEP_KEYS):
            continue
        at_node = sm.items["at"]
        at = parse_instant(c, at_node, ctx.tz, "`at`")
        if at is not None and last is not None and at < last[0]:
            c.d.error(
                C.time_went_back,
                f"this step is at {at.isoformat()}, before the step at line "
                f"{last[1].line} ({last[0].isoformat()})",
                at_node.loc,
                help="steps must be in time order; equal times are allowed",
            )
            at = None
        if at is not None:
            last = (at, at_node.loc)
        event = _event(ctx, sm, at)
        checks = _expect(ctx, sm, event, at)
        if at is not None:
            raw = at_node.raw if isinstance(at_node, YScalar) else at.isoformat()
            steps.append(Step(index, at, raw, event, checks, sm.loc))
    return steps


def _event(ctx: Context, sm: YMap, at: dt.datetime | None) -> Event | None:
    c = ctx.c
    kinds = [k for k in sm.items if k in EVENT_FIELDS]
    if len(kinds) > 1:
        second = kinds[1]
        c.d.error(
            C.multiple_events,
            f"a step has at most one event, found `{kinds[0]}` and `{second}`",
            sm.key_loc(second),
            help="split them into two steps (they may share the same `at`)",
        )
        return None
    if not kinds:
        return None
    kind = kinds[0]
    em = c.mapping(sm.items[kind], f"`{kind}`")
    if em is None:
        return None
    required, optional = EVENT_FIELDS[kind]
    c.unknown_keys(em, (*required, *optional), f"`{kind}`")
    if not c.require(em, required, f"`{kind}`", optional):
        return None
    f = em.items
    if kind == "send":
        sender = ctx.account(f["from"], "`from`", at)
        recipient = c.text(f["to"], "`to`")
        mid = _new_message(ctx, em)
        if sender is not None and recipient == sender:
            c.d.error(C.self_connection, f"`{sender}` cannot send an InMail to itself", f["to"].loc)
            return None
        return Send(sender, recipient, mid) if sender and recipient else None
    if kind == "respond":
        mid = ctx.message(f["message"], "`message`")
        response = _response(ctx, f["with"])
        return Respond(mid, response) if mid and response else None
    if kind == "purchase":
        account = ctx.account(f["account"], "`account`", at)
        credits = c.positive_int(f["credits"], "`credits`")
        return Purchase(account, credits) if account and credits else None
    if kind == "subscribe":
        return _subscribe(ctx, em, at)
    account = ctx.account(f["account"], "`account`", at)
    if kind == "cancel":
        if account is not None:
            ctx.canceled.add(account)
        return Cancel(account) if account else None
    if kind == "change_plan":
        plan = ctx.plan(f["plan"], "`plan`")
        if account is not None and plan is not None:
            ctx.track_plan(account, plan)
        return ChangePlan(account, plan) if account and plan else None
    if kind == "payment":
        status = payment_status(c, f["status"])
        return SetPayment(account, status) if account and status else None
    other = c.text(f["with"], "`with`")
    if account is not None and other == account:
        c.d.error(C.self_connection, f"account `{account}` cannot be connected to itself", f["with"].loc)
        return None
    return Connect(account, other) if account and other else None


def _new_message(ctx: Context, em: YMap) -> str | None:
    node = em.get("id")
    if node is None:
        return None
    mid = ctx.c.text(node, "`id`")
    if mid is None:
        return None
    if mid in ctx.messages:
        ctx.c.d.error(
            C.message_exists,
            f"the message id `{mid}` is already used at line {ctx.messages[mid].line}",
            node.loc,
            help="give every send its own id",
        )
        return None
    ctx.messages[mid] = node.loc
    return mid


def _response(ctx: Context, node: Any) -> str | None:
    responses = ctx.policy.responses if ctx.policy else None
    return ctx.named(node, "`with`", responses, C.unknown_response_type, "response type")


def _subscribe(ctx: Context, em: YMap, at: dt.datetime | None) -> Subscribe | None:
    """A subscribe step opens a new account (from its time on) or restarts a canceled one.

    Like the engine, it refuses an account whose Premium subscription is still
    active (a Basic member may subscribe: that is an upgrade); checking it
    here keeps a run from stopping half-way.
    """
    c = ctx.c
    name_node = em.items["account"]
    name = c.text(name_node, "`account`")
    plan = ctx.plan(em.items["plan"], "`plan`")
    anchor = None
    if "billing_anchor" in em:
        anchor = parse_instant(c, em.items["billing_anchor"], ctx.tz, "`billing_anchor`")
    if name is not None and at is not None:
        start = ctx.starts.get(name)
        if start is not None and start > at:
            c.d.error(
                C.account_exists,
                f"account `{name}` is set up later, at {start.isoformat()}",
                name_node.loc,
                help=f"remove `{name}` from `accounts:` or subscribe it after its start",
            )
            return None
        if start is not None and name not in ctx.canceled and name not in ctx.on_basic:
            c.d.error(
                C.account_exists,
                f"account `{name}` already has an active Premium subscription here",
                name_node.loc,
                help="cancel it in an earlier step, or use `change_plan` to move it",
            )
            return None
        ctx.starts[name] = at
        ctx.canceled.discard(name)
        if plan is not None:
            ctx.track_plan(name, plan)
    return Subscribe(name, plan, anchor) if name and plan else None


def _expect(ctx: Context, sm: YMap, event: Event | None, at: dt.datetime | None) -> tuple[Check, ...]:
    c = ctx.c
    node = sm.get("expect")
    if node is None:
        return ()
    em = c.mapping(node, "`expect`")
    if em is None:
        return ()
    c.unknown_keys(em, EXPECT_KEYS, "`expect`")
    kind = event.kind if event is not None else None
    has_event = any(k in EVENT_FIELDS for k in sm.items)
    checks: list[Check] = []
    for key in ("outcome", "reason", "status"):
        if key not in em:
            continue
        vnode = em.items[key]
        if not has_event:
            c.d.error(
                C.expect_needs_event,
                f"`{key}` can only be expected of a step with an event",
                em.key_loc(key),
                help="a bare checkpoint only checks `balance` and `reminded`",
            )
            continue
        value = _expect_name(c, vnode, key, kind)
        if value is not _BAD:
            checks.append(Check(key, value, vnode.loc))
    if "balance" in em:
        bm = c.mapping(em.items["balance"], "`expect.balance`")
        for name, vnode in bm.items.items() if bm else ():
            key_node = YScalar(name, bm.key_loc(name), name) if bm else vnode
            acct = ctx.account(key_node, "an account in `balance`", at)
            credits = c.count(vnode, f"the balance of `{name}`")
            if acct is not None and credits is not None:
                checks.append(Check(f"balance.{acct}", credits, vnode.loc))
    if "reminded" in em:
        rnode = em.items["reminded"]
        ids = [ctx.message(item, "a message in `reminded`") for item in c.seq(rnode, "`reminded`")]
        if all(i is not None for i in ids):
            checks.append(Check("reminded", tuple(sorted({i for i in ids if i})), rnode.loc))
    return tuple(checks)


_BAD = object()


def _expect_name(c: Checker, node: Any, key: str, kind: str | None) -> Any:
    """Check an expected outcome/reason/status name against the vocabulary of the step's event."""
    if key == "reason" and isinstance(node, YScalar) and node.value is None:
        return None
    value = c.text(node, f"`expect.{key}`")
    if value is None:
        return _BAD
    if key == "status":
        allowed: tuple[str, ...] | Mapping[str, Any] = RESPONSE_STATUSES
    elif kind is None:
        return value  # the event itself is broken; it has its own diagnostic
    else:
        allowed = OUTCOMES[kind] if key == "outcome" else REASONS[kind]
    if key == "status" and kind not in (None, "respond"):
        c.d.error(C.expect_not_applicable, "`status` can only be expected of a `respond` step", node.loc)
        return _BAD
    if value not in allowed:
        code = {"outcome": C.unknown_outcome, "reason": C.unknown_reason}.get(key, C.unknown_status)
        where = f" for `{kind}`" if key != "status" else ""
        help_ = hint(value, allowed) if allowed else f"`{kind}` decisions have no reason; use `reason: null`"
        article = "an" if key == "outcome" else "a"
        c.d.error(code, f"`{value}` is not {article} {key}{where}", node.loc, help=help_)
        return _BAD
    return value
