"""What reading a scenario needs beyond the shared YAML reader: counts, times, and what is known so far.

Kept apart from :mod:`engine.scenario.load` so that module reads as the
scenario's grammar; the "is this a whole number / a name" questions are the
shared :class:`~engine.source.reader.Reader`'s, and times are read by the
engine's one instant reader (:func:`engine.ledger.calendar.read_instant`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from engine.codes import C
from engine.ledger.calendar import InstantError, read_instant
from engine.policy import MAX_COUNT, Policy
from engine.rules.catalog import PAYMENT_STATUSES
from engine.source.diagnostics import Location, hint
from engine.source.marked import YNode, YScalar, type_name
from engine.source.reader import Reader


class Checker(Reader):
    """The shared readers, and the two counts a scenario has (credits to buy, expected balances)."""

    def positive_int(self, node: YNode, what: str) -> int | None:
        """A count of credits: a whole number from 1 to 1,000,000 (``invalid_quantity`` otherwise)."""
        v = self.whole(node, what)
        if v is not None and not 1 <= v <= MAX_COUNT:
            bound = "at least 1" if v < 1 else f"at most {MAX_COUNT:,}"
            self.d.error(C.invalid_quantity, f"{what} must be {bound}, found `{v}`", node.loc)
            return None
        return v

    def count(self, node: YNode, what: str) -> int | None:
        v = self.whole(node, what)
        if v is not None and v < 0:
            self.d.error(C.negative_number, f"{what} cannot be negative, found `{v}`", node.loc)
            return None
        return v


def parse_instant(c: Checker, node: YNode, tz: str, what: str) -> dt.datetime | None:
    """An aware instant; dates and naive times are read in the policy's time zone ``tz``.

    YAML already turns most timestamps into datetime/date values; quoted text
    and forms YAML does not know (``2026-01-15 09:00``) are read as text.
    """
    if isinstance(node, YScalar) and isinstance(node.value, dt.datetime | dt.date | str):
        try:
            return read_instant(node.value, tz)
        except InstantError as exc:
            if exc.code != C.invalid_time:
                c.d.error(
                    exc.code,
                    f"{what}: {exc.reason}",
                    node.loc,
                    help=_RANGE_HELP if exc.code == C.time_out_of_range else _GAP_HELP,
                )
                return None
            if exc.reason is not None:
                c.d.error(
                    C.invalid_time,
                    f"{what}: cannot read `{node.value}` as a time ({exc.reason})",
                    node.loc,
                    help=_TIME_HELP,
                )
                return None
    shown = f"`{node.raw}`" if isinstance(node, YScalar) else type_name(node)
    c.d.error(C.invalid_time, f"{what}: cannot read {shown} as a time", node.loc, help=_TIME_HELP)
    return None


_TIME_HELP = "write a date (`2026-01-15`) or a time (`2026-01-15T09:00:00Z`)"
_RANGE_HELP = "times run from 1970-01-01 to 2999-12-31"
_GAP_HELP = "pick a time before or after the daylight-saving jump, or give an offset (`+01:00`)"


class Context:
    """What is known while reading the file top to bottom: accounts, messages, the last time."""

    def __init__(self, c: Checker, policy: Policy | None) -> None:
        self.c = c
        self.policy = policy
        self.tz = policy.timezone if policy else "UTC"
        self.starts: dict[str, dt.datetime] = {}
        self.canceled: set[str] = set()
        #: accounts on a plan that is not Premium: `subscribe` upgrades them
        self.on_basic: set[str] = set()
        self.messages: dict[str, Location] = {}
        #: accounts declared with a mistake of their own: steps naming them add no diagnostics
        self.broken: set[str] = set()

    def track_plan(self, account: str, plan: str) -> None:
        """Remember whether ``account`` is now on a non-Premium plan (so it may `subscribe`)."""
        if self.policy is not None and not self.policy.plans[plan].premium:
            self.on_basic.add(account)
        else:
            self.on_basic.discard(account)

    def named(self, node: YNode, what: str, names: Collection[str] | None, code: C, kind: str) -> str | None:
        """A name that must be one of the policy's ``names`` (e.g. plans); any name without a policy."""
        if names is None:  # the policy did not load: its own diagnostics say why
            return self.c.text(node, what)
        return self.c.named(node, what, names, code, kind)

    def plan(self, node: YNode, what: str) -> str | None:
        return self.named(node, what, self.policy.plans if self.policy else None, C.unknown_plan, "plan")

    def account(self, node: YNode, what: str, at: dt.datetime | None) -> str | None:
        name = self.c.text(node, what)
        if name is None:
            return None
        if name in self.broken:  # declared, but its own entry is wrong: that diagnostic says why
            return None
        if name not in self.starts:
            self.c.d.error(
                C.unknown_account,
                f"unknown account `{name}`",
                node.loc,
                help=hint(name, self.starts)
                if self.starts
                else "declare it under `accounts:` (or `subscribe` it in an earlier step)",
            )
            return None
        start = self.starts[name]
        if at is not None and start > at:
            self.c.d.error(
                C.account_not_started,
                f"account `{name}` starts at {start.isoformat()}, after this step",
                node.loc,
                help="move the step later or the account's `since` earlier",
            )
            return None
        return name

    def message(self, node: YNode, what: str) -> str | None:
        mid = self.c.text(node, what)
        if mid is None:
            return None
        if mid not in self.messages:
            self.c.d.error(
                C.unknown_message,
                f"no earlier `send` defines the message `{mid}`",
                node.loc,
                help=hint(mid, self.messages)
                if self.messages
                else "give the send an `id:` and respond to that id in a later step",
            )
            return None
        return mid


def payment_status(c: Checker, node: YNode) -> str | None:
    status = c.text(node, "`payment`")
    if status is not None and status not in PAYMENT_STATUSES:
        c.d.error(
            C.invalid_payment_status,
            f"payment status cannot be `{status}`",
            node.loc,
            help=hint(status, PAYMENT_STATUSES),
        )
        return None
    return status
