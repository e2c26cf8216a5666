"""Where the calls of an impact report come from: a scenario, a store's event log, or a seeded year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path

from engine.impact.synthetic import Call
from engine.model import LoggedCall, once_per_advance
from engine.policy import Policy
from engine.scenario.model import Account, Scenario
from engine.scenario.run import agenda, event_call


def scenario_calls(scenario: Scenario, display: str | None = None) -> list[Call]:
    """The calls ``inmail simulate`` makes for ``scenario`` (set-ups, connections, events; no checks)."""
    name = display or Path(scenario.file).name
    out: list[Call] = []
    connected: set[frozenset[str]] = set()
    for item in agenda(scenario.accounts, scenario.steps):
        if isinstance(item, Account):
            where = f"{name}:{item.loc.line}"
            setup = {"at": item.since, "billing_anchor": item.billing_anchor, "payment": item.payment}
            out.append(Call("subscribe", (item.name, item.plan), setup, where))
            for other in item.connections:
                pair = frozenset((item.name, other))
                if pair not in connected:
                    connected.add(pair)
                    out.append(Call("connect", (item.name, other), {"at": item.since}, where))
        elif item.event is not None:
            method, args, kwargs = event_call(item.event, item.at)
            out.append(Call(method, args, kwargs, f"{name}:{item.line}"))
        else:  # a checkpoint: what falls due by then happens, on both sides
            out.append(Call("advance", (item.at,), {}, f"{name}:{item.line}"))
    return out


def synthetic_calls(accounts: int, policy: Policy) -> Iterator[Call]:
    """The benchmark's seeded year of ``accounts`` accounts (``synthetic.year_of_events``), on the
    plans and response types of ``policy``."""
    from engine.impact.synthetic import year_of_events

    return year_of_events(accounts, policy=policy)


#: Each logged method's positional arguments, in order (the rest are keyword arguments).
POSITIONAL = {
    "subscribe": ("account", "plan"),
    "send": ("sender", "recipient"),
    "respond": ("message_id", "response_type"),
    "purchase": ("account", "credits"),
    "cancel": ("account",),
    "change_plan": ("account", "plan"),
    "set_payment": ("account", "status"),
    "connect": ("account", "other"),
}


def logged_calls(log: Iterable[LoggedCall]) -> Iterator[Call]:
    """A store's event log as calls to play again (an advance once per instant, not per account)."""
    for c in once_per_advance(log):
        if c.method == "advance":
            yield Call("advance", (dt.datetime.fromisoformat(c.args["to"]),), {}, f"log #{c.seq}")
            continue
        names = POSITIONAL[c.method]
        rest = {k: v for k, v in c.args.items() if k not in names}
        yield Call(c.method, tuple(c.args[n] for n in names), {**rest, "key": c.key}, f"log #{c.seq}")
