"""Where the calls of an impact report come from: a scenario, a store's event log, or a seeded year.

Each source is turned into :class:`Call` records by kind; how a logged call
or a scenario step reads as one comes from the kind's declaration in
:mod:`engine.events`, so a new kind needs nothing here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from engine.events import KINDS
from engine.impact.synthetic import ADVANCE, Call
from engine.model import LoggedCall, once_per_advance
from engine.policy import Policy
from engine.scenario.model import Account, Scenario
from engine.scenario.run import agenda


def scenario_calls(scenario: Scenario, display: str | None = None) -> list[Call]:
    """The calls ``inmail simulate`` makes for ``scenario`` (set-ups, connections, events; no checks)."""
    name = display or Path(scenario.file).name
    out: list[Call] = []
    connected: set[frozenset[str]] = set()
    for item in agenda(scenario.accounts, scenario.steps):
        if isinstance(item, Account):  # a set-up: the account subscribes, then connects
            where = f"{name}:{item.loc.line}"
            setup = {
                "account": item.name,
                "plan": item.plan,
                "billing_anchor": item.billing_anchor,
                "payment": item.payment,
            }
            out.append(Call("subscribe", setup, item.since, where=where))
            for other in item.connections:
                pair = frozenset((item.name, other))
                if pair not in connected:
                    connected.add(pair)
                    out.append(
                        Call("connect", {"account": item.name, "other": other}, item.since, where=where)
                    )
        elif item.event is not None:  # the step's call, with the arguments the reader checked
            event = item.event
            out.append(Call(event.kind.name, dict(event.args), item.at, where=f"{name}:{item.line}"))
        else:  # a checkpoint: what falls due by then happens, on both sides
            out.append(Call(ADVANCE, {}, item.at, where=f"{name}:{item.line}"))
    return out


def synthetic_calls(accounts: int, policy: Policy) -> Iterator[Call]:
    """The benchmark's seeded year of ``accounts`` accounts (``synthetic.year_of_events``), on the
    plans and response types of ``policy``."""
    from engine.impact.synthetic import year_of_events

    return year_of_events(accounts, policy=policy)


def logged_calls(log: Iterable[LoggedCall]) -> Iterator[Call]:
    """A store's event log as calls to play again (an advance once per instant, not per account).

    A logged call keeps its arguments by name with its ``at``, and its method, which names its
    kind (:meth:`~engine.events.Registry.by_method`).
    """
    return map(as_call, once_per_advance(log))


def as_call(c: LoggedCall) -> Call:
    """One logged call as a call to play again, placed by its log number (``where``)."""
    where = f"log #{c.seq}"
    if c.method == ADVANCE:
        return Call(ADVANCE, {}, _instant(c.args["to"]), where=where)
    kind = KINDS.by_method(c.method)
    args = {k: v for k, v in c.args.items() if k != "at"}
    return Call(kind.name, args, _instant(c.args["at"]), c.key, where)


def _instant(value: Any) -> dt.datetime:
    """A logged instant (UTC ISO text; a datetime as some stores read it) as a datetime."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
