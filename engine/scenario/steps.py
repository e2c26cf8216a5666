"""Reading a scenario's timeline: steps, their one event, and their expectations.

References are resolved in file order (which is also time order, since time
may not go back), so a step may only name accounts started by then and
messages defined by an earlier ``send``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from engine.codes import C
from engine.events import AT, KINDS, REQUIRED, Arg, EventKind
from engine.policy import RESPONSE_STATUSES
from engine.rules.catalog import OUTCOMES, REASONS
from engine.scenario.check import Checker, Context, parse_instant, payment_status
from engine.scenario.model import EVENT_FIELDS, STEP_KEYS, Check, Event, EventCall, Step
from engine.source.diagnostics import Location, hint
from engine.source.marked import YMap, YNode, YScalar, YSeq

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
    names = [k for k in sm.items if k in EVENT_FIELDS]
    if len(names) > 1:
        second = names[1]
        c.d.error(
            C.multiple_events,
            f"a step has at most one event, found `{names[0]}` and `{second}`",
            sm.key_loc(second),
            help="split them into two steps (they may share the same `at`)",
        )
        return None
    if not names:
        return None
    name = names[0]
    em = c.mapping(sm.items[name], f"`{name}`")
    if em is None:
        return None
    required, optional = EVENT_FIELDS[name]
    c.unknown_keys(em, (*required, *optional), f"`{name}`")
    if not c.require(em, required, f"`{name}`", optional):
        return None
    kind = KINDS[name]
    args = {a.name: _arg(ctx, em, a, at) for a in kind.args}  # in the kind's order: so are the diagnostics
    if kind.distinct is not None:
        first, other, says = kind.distinct
        if args[first] is not None and args[other] == args[first]:
            c.d.error(C.self_connection, f"`{args[first]}` {says}", _field(em, kind, other).loc)
            return None
    if not _track(ctx, kind, em, args, at):
        return None
    # an optional argument that failed has its diagnostic; the event stands, so `expect` is still checked
    return EventCall(kind, args) if all(args[a.name] is not None for a in kind.positional) else None


#: How a scenario reads an argument of each type: (ctx, node, what, at) -> the checked value or None.
_READ: dict[str, Callable[[Context, YNode, str, dt.datetime | None], Any]] = {
    "account": lambda ctx, node, what, at: ctx.account(node, what, at),
    "name": lambda ctx, node, what, at: ctx.c.text(node, what),
    "message": lambda ctx, node, what, at: ctx.message(node, what),
    "new_message": lambda ctx, node, what, at: _new_message(ctx, node, what),
    "plan": lambda ctx, node, what, at: ctx.plan(node, what),
    "payment": lambda ctx, node, what, at: payment_status(ctx.c, node),
    "response": lambda ctx, node, what, at: _response(ctx, node, what),
    "credits": lambda ctx, node, what, at: ctx.c.positive_int(node, what),
    "instant": lambda ctx, node, what, at: parse_instant(ctx.c, node, ctx.tz, what),
}


def _arg(ctx: Context, em: YMap, arg: Arg, at: dt.datetime | None) -> Any:
    """One argument of a step's call: read from its field by its type, or its value when left out.

    Left out, an argument whose default is the call's own instant (a billing anchor) is None,
    which the engine reads the same way; one a scenario cannot write takes its declared default.
    """
    node = em.get(arg.scenario) if arg.scenario else None
    if node is None:
        return None if arg.default is REQUIRED or arg.default == AT else arg.default
    return _READ[arg.type](ctx, node, f"`{arg.scenario}`", at)


def _field(em: YMap, kind: EventKind, arg: str) -> YNode:
    """The node a step wrote an argument in (one that has a value, so it was written)."""
    return em.items[next(str(a.scenario) for a in kind.args if a.name == arg)]


def _new_message(ctx: Context, node: YNode, what: str) -> str | None:
    mid = ctx.c.text(node, what)
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


def _response(ctx: Context, node: YNode, what: str) -> str | None:
    responses = ctx.policy.responses if ctx.policy else None
    return ctx.named(node, what, responses, C.unknown_response_type, "response type")


def _track(ctx: Context, kind: EventKind, em: YMap, args: Mapping[str, Any], at: dt.datetime | None) -> bool:
    """Follow what the call does to a subscription, so later steps are checked against it.

    Only a subscription's start can be refused here (see :func:`_subscribe`); False then.
    """
    account = args[kind.acting.name]
    plan_arg = kind.arg_of("plan")
    plan = None if plan_arg is None else args[plan_arg]
    if kind.subscription == "end" and account is not None:
        ctx.canceled.add(account)
    elif kind.subscription == "move" and account is not None and plan is not None:
        ctx.track_plan(account, plan)
    elif kind.subscription == "start":
        return _subscribe(ctx, _field(em, kind, kind.acting.name), account, plan, at)
    return True


def _subscribe(
    ctx: Context, name_node: YNode, name: str | None, plan: str | None, at: dt.datetime | None
) -> bool:
    """A subscribe step opens a new account (from its time on) or restarts a canceled one.

    Like the engine, it refuses an account whose Premium subscription is still
    active (a Basic member may subscribe: that is an upgrade); checking it
    here keeps a run from stopping half-way.
    """
    c = ctx.c
    if name is not None and at is not None:
        start = ctx.starts.get(name)
        if start is not None and start > at:
            c.d.error(
                C.account_exists,
                f"account `{name}` is set up later, at {start.isoformat()}",
                name_node.loc,
                help=f"remove `{name}` from `accounts:` or subscribe it after its start",
            )
            return False
        if start is not None and name not in ctx.canceled and name not in ctx.on_basic:
            c.d.error(
                C.account_exists,
                f"account `{name}` already has an active Premium subscription here",
                name_node.loc,
                help="cancel it in an earlier step, or use `change_plan` to move it",
            )
            return False
        ctx.starts[name] = at
        ctx.canceled.discard(name)
        if plan is not None:
            ctx.track_plan(name, plan)
    return True


def _expect(ctx: Context, sm: YMap, event: Event | None, at: dt.datetime | None) -> tuple[Check, ...]:
    c = ctx.c
    node = sm.get("expect")
    if node is None:
        return ()
    em = c.mapping(node, "`expect`")
    if em is None:
        return ()
    c.unknown_keys(em, EXPECT_KEYS, "`expect`")
    kind = event.name if event is not None else None
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
