"""The plumbing every :class:`~engine.core.engine.Engine` call shares, behind its public methods.

Checking the acting account and its clock, replaying a call under its
idempotency key, and closing a call: carrying out the verdict's effects,
settling what falls due at that same instant, saving the account and
building the one :class:`~engine.model.Decision` the caller receives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from engine.codes import C
from engine.core import arguments as check
from engine.core import timeline
from engine.core.context import Context
from engine.core.effects import Act, carry_out
from engine.ledger.state import AccountState, Cause, MsgRec
from engine.model import Decision, LogRecord, Verdict
from engine.store.base import Unit


def begin(
    ctx: Context, u: Unit, at: dt.datetime | None, idem: check.Idempotency | None
) -> tuple[dt.datetime, Decision | None]:
    """The call's instant, and the Decision already made under its key (None: a new call).

    A retry under a known key repeats the first call: without ``at`` it takes the first call's
    instant, not the clock's, so that it is the same call and gets the first answer. A key used
    for another call is refused. A new call without ``at`` happens at the engine's clock, read
    here, inside the transaction, after the key was found unused.
    """
    if idem is not None:
        found = u.recorded(idem.key)
        if found is not None:
            request, decision = found
            t = at if at is not None else decision.at
            if request is not None and request != idem.request(t):
                used = request.split(" ", 1)[0]
                raise C.idempotency_key_reused(
                    f"the idempotency key `{idem.key}` was used for another call ({used})"
                )
            return t, dataclasses.replace(decision, replayed=True)
    if at is not None:
        return at, None
    return ctx.now(), None


def acting(ctx: Context, u: Unit, name: str, t: dt.datetime) -> AccountState:
    acct = ctx.load(u, name)
    if acct is None:
        raise C.unknown_account(f"no account `{name}`")
    check_clock(acct, t)
    return acct


def check_clock(acct: AccountState, t: dt.datetime) -> None:
    if t < acct.clock:
        raise C.time_went_back(
            f"`{t.isoformat()}` is before the last instant of account `{acct.name}` "
            f"({acct.clock.isoformat()}); events must not go back in time",
        )


def apply(
    ctx: Context,
    u: Unit,
    acct: AccountState,
    verdict: Verdict,
    t: dt.datetime,
    system: list[Decision],
    idem: check.Idempotency | None,
    args: Mapping[str, Any],
    *,
    msg: tuple[MsgRec, Callable[[MsgRec], None]] | None = None,
    message_id: str | None = None,
    status: str | None = None,
    logged: tuple[str, dict[str, Any]] | None = None,
) -> Decision:
    """Carry out the verdict's effects and close the call.

    ``msg`` is the message the call acts on and how to write it (add or
    update), done before anything due at ``t`` itself (a start grant, a
    reminder with no delay) is settled. Then the account is saved and the
    Decision built, remembered under the call's idempotency key and, for a
    caller's call (``logged`` = its method and arguments), appended to the
    event log: all in the call's one transaction.
    """
    start = len(acct.entries)
    act = Act(
        ctx,
        u,
        acct,
        t,
        Cause(verdict.event, verdict.rule, verdict.requirements, message_id),
        verdict.effects,
        args,
        None if msg is None else msg[0],
    )
    carry_out(act)
    if msg is not None:
        msg[1](msg[0])
    entries_end = len(acct.entries)
    acct.clock = t
    acct.next_due = timeline.next_due(acct)
    if acct.next_due is not None and acct.next_due <= t:
        system = [*system, *timeline.settle(ctx, u, acct, t)]
    seq = None
    if logged is not None and ctx.logging:
        record = LogRecord(  # by position (a NamedTuple's keywords cost more than the rest of it)
            t,  # at
            logged[0],  # method
            acct.name,  # account
            logged[1],  # args
            None if idem is None else idem.key,  # key
            verdict.outcome,
            verdict.reason,
            verdict.rule,
            message_id,  # message
            ctx.book.revision,
        )
        seq = log(ctx, u, record)
    decision = ctx.decision(
        verdict,
        acct,
        t,
        start,
        end=entries_end,
        message=message_id,
        status=status,
        purchase_possible=act.purchase_possible if verdict.event == "send" else None,
        system=system,
        seq=seq,
    )
    u.save(acct)
    if idem is not None:
        u.remember(idem.key, acct.name, idem.request(t), decision)
    return decision


def log(ctx: Context, u: Unit, record: LogRecord) -> int | None:
    """Append a call to the event log (each store writes it its own way), keeping the policy's and
    rules' texts with the first call under them."""
    if not ctx.revision_kept:
        policy_text, override_text = ctx.policy.texts
        u.keep_revision(
            ctx.book.revision, {"policy": policy_text, "override": override_text, "rules": ctx.book.texts()}
        )
        ctx.revision_kept = True
    return u.log(record)


def new_id(u: Unit, acct: AccountState) -> str:
    """A message id no message has yet: ``<sender>/<n>``, n counting the sender's messages."""
    n = acct.next_msg
    while u.message_exists(f"{acct.name}/{n}"):
        n += 1
    return f"{acct.name}/{n}"
