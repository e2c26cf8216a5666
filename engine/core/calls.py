"""The body of every writing :class:`~engine.core.engine.Engine` call: one store transaction each.

:class:`~engine.core.engine.Engine` is the door an app calls with anything at
all; it checks every argument and hands the checked, typed values here. So
these functions may trust their types, and they are among the modules the
optional compiled build (mypyc) turns into C: a compiled function refuses a
wrongly typed argument with a bare ``TypeError``, which must never be what an
app sees, so nothing unchecked reaches this module.

There is one function per call *shape* (:data:`engine.events.base.Shape`), not
per event kind: an event kind declares its shape, and the kinds of one shape
differ only in their declared facts, outcomes and effects. Each function is
one transaction: load (and lock) the acting account, bring
it up to ``at`` (:func:`engine.core.timeline.settle`), build the facts of
the event, ask the rules, and close the call through
:func:`engine.core.plumbing.apply` (effects, log, save, Decision).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.codes import C
from engine.core import arguments as check
from engine.core import plumbing as call
from engine.core import timeline
from engine.core.arguments import Idempotency
from engine.core.context import Context
from engine.events import EventKind
from engine.ledger.state import AccountState, MsgRec
from engine.model import Decision, LogRecord
from engine.store.base import Store


def subscribe(
    ctx: Context,
    store: Store,
    kind: EventKind,
    args: dict[str, Any],
    at: dt.datetime | None,
    idem: Idempotency | None,
) -> Decision:
    """Open or restart an account (see :mod:`engine.events.subscribe`): the acting account may be new."""
    account, plan = args["account"], args["plan"]
    with store.unit() as u:
        t, first = call.begin(ctx, u, at, idem)
        if first is not None:
            return first
        args = check.with_instants(kind, args, t)
        acct = ctx.load(u, account)
        system: list[Decision] = []
        new = acct is None
        if acct is not None:
            if acct.active and ctx.policy.plans[acct.plan].premium:
                raise C.account_exists(f"account `{account}` already has an active Premium subscription")
            call.check_clock(acct, t)
            system = timeline.settle(ctx, u, acct, t)
        else:  # facts of an account that is not subscribed yet: its plan to be, not premium
            acct = AccountState(account, plan, args["payment"], t, args["billing_anchor"])
            acct.active = False
            acct.keep_spent = ctx.keep_spent
        verdict = ctx.decide(kind.name, ctx.facts(acct, kind.actor))
        if new:
            u.new_account(acct)
        return call.apply(ctx, u, acct, verdict, t, system, idem, args, logged=_logged(kind, args, t))


def account(
    ctx: Context,
    store: Store,
    kind: EventKind,
    args: dict[str, Any],
    at: dt.datetime | None,
    idem: Idempotency | None,
) -> Decision:
    """One existing account acts: facts = its own + what the kind adds from the policy and arguments."""
    with store.unit() as u:
        t, first = call.begin(ctx, u, at, idem)
        if first is not None:
            return first
        args = check.with_instants(kind, args, t)
        acct = call.acting(ctx, u, args[kind.acting.name], t)
        system = timeline.settle(ctx, u, acct, t)
        facts = ctx.facts(acct, kind.actor)
        if kind.extra_facts is not None:
            facts.update(kind.extra_facts(ctx.policy, args))
        verdict = ctx.decide(kind.name, facts)
        return call.apply(ctx, u, acct, verdict, t, system, idem, args, logged=_logged(kind, args, t))


def send(
    ctx: Context,
    store: Store,
    kind: EventKind,
    args: dict[str, Any],
    at: dt.datetime | None,
    idem: Idempotency | None,
) -> Decision:
    """An InMail, if the rules let it go (see :mod:`engine.events.send`)."""
    sender, recipient, message_id = args["sender"], args["recipient"], args["message_id"]
    with store.unit() as u:
        t, first = call.begin(ctx, u, at, idem)
        if first is not None:
            return first
        acct = call.acting(ctx, u, sender, t)
        if message_id is not None and u.message_exists(message_id):
            raise C.message_exists(f"a message `{message_id}` already exists")
        system = timeline.settle(ctx, u, acct, t)
        facts = ctx.facts(acct, kind.actor)
        fresh = f"{sender}/{acct.next_msg}"  # the id a send without one takes, unless it is taken
        asked = None if message_id is not None else fresh
        connected, awaiting, taken = u.send_facts(sender, recipient, asked)
        facts["recipient.connected"] = connected
        facts["pair.awaiting_response"] = awaiting
        verdict = ctx.decide(kind.name, facts)
        logged = _logged(kind, args, t)
        if verdict.outcome == "denied":  # a denied send records no message
            return call.apply(
                ctx, u, acct, verdict, t, system, idem, args, message_id=message_id, logged=logged
            )
        msg_id = message_id if message_id is not None else call.new_id(u, acct) if taken else fresh
        msg = MsgRec(
            msg_id,
            acct.next_msg,
            sender,
            recipient,
            "free" if verdict.outcome == "sent_free" else "inmail",
            t,
        )
        acct.next_msg += 1
        return call.apply(
            ctx,
            u,
            acct,
            verdict,
            t,
            system,
            idem,
            args,
            msg=(msg, u.add_message),
            message_id=msg_id,
            logged=logged,
        )


def respond(
    ctx: Context,
    store: Store,
    kind: EventKind,
    args: dict[str, Any],
    at: dt.datetime | None,
    idem: Idempotency | None,
) -> Decision:
    """The recipient responds (see :mod:`engine.events.respond`); the message's sender acts."""
    message_id, response_type = args["message_id"], args["response_type"]
    status = ctx.policy.responses[response_type]
    with store.unit() as u:
        t, first = call.begin(ctx, u, at, idem)
        if first is not None:
            return first
        msg = u.message(message_id)
        if msg is None:
            raise C.unknown_message(f"no message `{message_id}`")
        acct = call.acting(ctx, u, msg.sender, t)
        system = timeline.settle(ctx, u, acct, t)
        facts = ctx.facts(acct, kind.actor)
        facts.update(
            {
                "message.kind": msg.kind,
                "message.responded": msg.responded_at is not None,
                "message.age_days": ctx.cal.whole_days(msg.sent_at, t),
                "response.type": response_type,
                "response.status": status,
                "response.within_window": ctx.cal.within(msg.sent_at, t, ctx.policy.credit_back.window_days),
            }
        )
        return call.apply(
            ctx,
            u,
            acct,
            ctx.decide(kind.name, facts),
            t,
            system,
            idem,
            {**args, "status": status},
            msg=(msg, u.update_message),
            message_id=msg.id,
            status=status,
            logged=_logged(kind, args, t),
        )


Shape = Callable[
    [Context, Store, EventKind, dict[str, Any], dt.datetime | None, Idempotency | None], Decision
]

#: How each call shape of :mod:`engine.events.base` is run.
SHAPES: dict[str, Shape] = {"account": account, "subscribe": subscribe, "send": send, "respond": respond}


def _logged(kind: EventKind, args: dict[str, Any], t: dt.datetime) -> tuple[str, dict[str, Any]]:
    """A call as the event log keeps it: its method, then its arguments, required ones before ``at``."""
    logged: dict[str, Any] = {}
    for a in kind.positional:
        logged[a.name] = args[a.name]
    logged["at"] = t
    for a in kind.optional:
        logged[a.name] = args[a.name]
    return kind.method, logged


def advance(ctx: Context, store: Store, t: dt.datetime) -> list[Decision]:
    """Every account's system events due by ``t``, each account in its own transaction."""
    out: list[Decision] = []
    for name in store.due_accounts(t):
        with store.unit() as u:
            acct = ctx.load(u, name)
            settled = [] if acct is None else timeline.settle(ctx, u, acct, t)
            if acct is not None:
                u.save(acct)
            if settled and ctx.logging:  # logged too, so that a replay brings the account there
                record = LogRecord(
                    t, "advance", name, {"to": t}, None, "advanced", None, "", None, ctx.revision
                )
                call.log(ctx, u, record)
            out.extend(settled)
    out.sort(key=_at)  # stable: at one instant, accounts by name, each in settle order
    return out


def _at(d: Decision) -> dt.datetime:
    return d.at
