"""The scenario model: frozen records a validated scenario file turns into.

Kept apart from the reader so the runner, the renderers and tests can import
the shape of a scenario without pulling in YAML handling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.events import CALLS, EventKind
from engine.policy import Policy
from engine.source.diagnostics import Location
from engine.source.marked import YMap


@dataclass(frozen=True)
class EventCall:
    """A step's one event: a call of ``kind`` with its checked arguments.

    One record for every kind, because what a kind takes is declared once in
    :mod:`engine.events`: the reader fills ``args`` from the step by each
    argument's type, and the runner hands them to :meth:`Engine.call` as they
    are. ``args`` is keyed by :attr:`~engine.events.Arg.name` and holds every
    argument of the kind: an optional one the step leaves out is None (the
    call's own default then applies) or, if it is not written in scenarios at
    all, its declared default.
    """

    kind: EventKind
    args: Mapping[str, Any]

    def __post_init__(self) -> None:
        # read-only, so that a frozen step cannot have its call changed under it
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))

    def __hash__(self) -> int:  # the kind holds mappings: hash by its name and the values instead
        return hash((self.kind.name, *self.args.items()))

    @property
    def name(self) -> str:
        """The kind's name: the scenario step key, a decision's ``event``."""
        return self.kind.name

    @property
    def acting(self) -> Any:
        """The value of the kind's acting argument (the account, or for a response the message)."""
        return self.args[self.kind.acting.name]

    @property
    def parties(self) -> tuple[str, ...]:
        """The other accounts the call changes (``connect``'s ``with``), whose balances a step shows."""
        return tuple(self.args[n] for n in self.kind.parties if self.args[n] is not None)

    def describe(self) -> str:
        """The call in a line, as the scenario table shows it."""
        return self.kind.text(self.args)


Event = EventCall

#: Event key -> (required fields, optional fields), as written in a scenario: every call kind's.
EVENT_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    k.name: k.scenario_fields() for k in CALLS
}
STEP_KEYS = ("at", *EVENT_FIELDS, "expect")


@dataclass(frozen=True)
class Check:
    """One expectation: ``key`` is ``outcome``, ``reason``, ``status``, ``balance.<acct>`` or ``reminded``.

    ``expected`` is a str, None (for ``reason: null``), an int, or a sorted tuple of ids.
    """

    key: str
    expected: Any
    loc: Location

    @property
    def account(self) -> str | None:
        return self.key.split(".", 1)[1] if self.key.startswith("balance.") else None


@dataclass(frozen=True)
class Step:
    """One timeline entry. ``event`` is None for a bare checkpoint, which only moves time."""

    index: int
    at: dt.datetime
    at_raw: str
    event: Event | None
    checks: tuple[Check, ...]
    loc: Location

    @property
    def line(self) -> int:
        return self.loc.line


@dataclass(frozen=True)
class Account:
    """An account the scenario sets up by subscribing it at ``since``."""

    name: str
    plan: str
    since: dt.datetime
    billing_anchor: dt.datetime | None
    payment: str
    connections: tuple[str, ...]
    loc: Location


@dataclass(frozen=True)
class Scenario:
    file: str
    title: str
    policy: Policy
    policy_path: Path | None
    override: YMap | None
    override_text: str
    accounts: tuple[Account, ...]
    steps: tuple[Step, ...]
    messages: frozenset[str] = field(default_factory=frozenset)
