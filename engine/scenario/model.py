"""The scenario model: frozen records a validated scenario file turns into.

Kept apart from the reader so the runner, the renderers and tests can import
the shape of a scenario without pulling in YAML handling.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from engine.policy import Policy
from engine.source.diagnostics import Location
from engine.source.marked import YMap


@dataclass(frozen=True)
class Send:
    kind: ClassVar[str] = "send"
    sender: str
    recipient: str
    message: str | None = None

    def describe(self) -> str:
        named = f" ({self.message})" if self.message else ""
        return f"send {self.sender} → {self.recipient}{named}"


@dataclass(frozen=True)
class Respond:
    kind: ClassVar[str] = "respond"
    message: str
    response: str

    def describe(self) -> str:
        return f"respond {self.message}: {self.response}"


@dataclass(frozen=True)
class Purchase:
    kind: ClassVar[str] = "purchase"
    account: str
    credits: int

    def describe(self) -> str:
        return f"purchase {self.account} +{self.credits}"


@dataclass(frozen=True)
class Cancel:
    kind: ClassVar[str] = "cancel"
    account: str

    def describe(self) -> str:
        return f"cancel {self.account}"


@dataclass(frozen=True)
class Subscribe:
    kind: ClassVar[str] = "subscribe"
    account: str
    plan: str
    billing_anchor: dt.datetime | None = None

    def describe(self) -> str:
        return f"subscribe {self.account} {self.plan}"


@dataclass(frozen=True)
class ChangePlan:
    kind: ClassVar[str] = "change_plan"
    account: str
    plan: str

    def describe(self) -> str:
        return f"change_plan {self.account} → {self.plan}"


@dataclass(frozen=True)
class SetPayment:
    kind: ClassVar[str] = "payment"
    account: str
    status: str

    def describe(self) -> str:
        return f"payment {self.account}: {self.status}"


@dataclass(frozen=True)
class Connect:
    kind: ClassVar[str] = "connect"
    account: str
    other: str

    def describe(self) -> str:
        return f"connect {self.account} ↔ {self.other}"


Event = Send | Respond | Purchase | Cancel | Subscribe | ChangePlan | SetPayment | Connect

#: Event key -> (required fields, optional fields), as written in a scenario.
EVENT_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "send": (("from", "to"), ("id",)),
    "respond": (("message", "with"), ()),
    "purchase": (("account", "credits"), ()),
    "cancel": (("account",), ()),
    "subscribe": (("account", "plan"), ("billing_anchor",)),
    "change_plan": (("account", "plan"), ()),
    "payment": (("account", "status"), ()),
    "connect": (("account", "with"), ()),
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
