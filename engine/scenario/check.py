"""Small typed readers for scenario YAML: each returns a value or None plus a diagnostic.

Kept apart from :mod:`engine.scenario.load` so that module reads as the scenario's
grammar, while the "is this a whole number / a name / a time" plumbing, which
every key needs, lives here once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Collection, Iterable

import pendulum

from engine.policy.load import Policy
from engine.rules.catalog import PAYMENT_STATUSES
from engine.source.diagnostics import Diagnostics, Location, hint
from engine.source.marked import YMap, YNode, YScalar, YSeq, type_name


def difflib_close(word: str, pool: Iterable[str]) -> str | None:
    """The known name ``word`` is most likely a misspelling of, as ``did you mean`` would say."""
    close = difflib.get_close_matches(word, sorted(pool), n=1, cutoff=0.6)
    return close[0] if close else None


_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")


class Checker:
    """Readers that append to one :class:`Diagnostics` and never raise."""

    def __init__(self, diags: Diagnostics) -> None:
        self.d = diags

    def unknown_keys(self, node: YMap, allowed: Iterable[str], where: str) -> None:
        pool = list(allowed)
        for key in node.items:
            if key not in pool:
                self.d.error("unknown_key", f"unknown key `{key}` in {where}", node.key_loc(key),
                             help=hint(key, pool))

    def require(self, node: YMap, keys: Iterable[str], where: str, allowed: Iterable[str] = ()) -> bool:
        """Report missing keys, except one that a misspelt key already points at (one error per typo)."""
        pool = set(allowed) | set(keys)
        typos = {difflib_close(k, pool) for k in node.items if k not in pool}
        ok = True
        for key in keys:
            if key not in node:
                ok = False
                if key not in typos:
                    self.d.error("missing_key", f"{where} has no `{key}`", node.loc, help=f"add `{key}:`")
        return ok

    def mapping(self, node: YNode, what: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.d.error("wrong_type", f"{what} must be a mapping, found {type_name(node)}", node.loc)
        return None

    def seq(self, node: YNode, what: str) -> list[YNode]:
        if isinstance(node, YSeq):
            return list(node.items)
        self.d.error("wrong_type", f"{what} must be a list, found {type_name(node)}", node.loc)
        return []

    def text(self, node: YNode, what: str) -> str | None:
        """A name: a non-empty string (a bare number like `42` is accepted as its text)."""
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.strip():
            return node.value
        if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.raw
        self.d.error("wrong_type", f"{what} must be a name, found {type_name(node)}", node.loc)
        return None

    def _whole(self, node: YNode, what: str) -> int | None:
        v = node.value if isinstance(node, YScalar) else None
        if isinstance(node, YScalar) and isinstance(v, float):
            self.d.error("not_an_integer", f"{what} must be a whole number, found `{node.raw}`", node.loc)
            return None
        if not isinstance(node, YScalar) or isinstance(v, bool) or not isinstance(v, int):
            self.d.error("wrong_type", f"{what} must be a whole number, found {type_name(node)}", node.loc)
            return None
        return v

    def positive_int(self, node: YNode, what: str) -> int | None:
        v = self._whole(node, what)
        if v is not None and v < 1:
            self.d.error("invalid_quantity", f"{what} must be at least 1, found `{v}`", node.loc)
            return None
        return v

    def count(self, node: YNode, what: str) -> int | None:
        v = self._whole(node, what)
        if v is not None and v < 0:
            self.d.error("negative_number", f"{what} cannot be negative, found `{v}`", node.loc)
            return None
        return v


def parse_instant(c: Checker, node: YNode, tz: str, what: str) -> dt.datetime | None:
    """An aware instant; dates and naive times are read in the policy's time zone ``tz``.

    YAML already turns most timestamps into datetime/date values; quoted text
    and forms YAML does not know (``2026-01-15 09:00``) are parsed here, but
    only when they start with a full date, so ``09:00`` never means "today".
    """
    if isinstance(node, YScalar):
        value = node.value
        if isinstance(value, dt.datetime):
            return _aware(value, tz)
        if isinstance(value, dt.date):
            return pendulum.datetime(value.year, value.month, value.day, tz=tz)
        if isinstance(value, str) and _DATE_LIKE.match(value.strip()):
            try:
                parsed = pendulum.parse(value.strip(), tz=tz, exact=True)
            except (ValueError, OverflowError) as exc:
                c.d.error("invalid_time", f"{what}: cannot read `{value}` as a time ({_short(exc)})",
                          node.loc, help=_TIME_HELP)
                return None
            if isinstance(parsed, dt.datetime):
                return _aware(parsed, tz)
            if isinstance(parsed, dt.date):
                return pendulum.datetime(parsed.year, parsed.month, parsed.day, tz=tz)
    shown = f"`{node.raw}`" if isinstance(node, YScalar) else type_name(node)
    c.d.error("invalid_time", f"{what}: cannot read {shown} as a time", node.loc, help=_TIME_HELP)
    return None


_TIME_HELP = "write a date (`2026-01-15`) or a time (`2026-01-15T09:00:00Z`)"


def _aware(value: dt.datetime, tz: str) -> dt.datetime:
    if value.tzinfo is None:
        return pendulum.instance(value, tz=tz)
    return pendulum.instance(value)


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:80]


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

    def track_plan(self, account: str, plan: str) -> None:
        """Remember whether ``account`` is now on a non-Premium plan (so it may `subscribe`)."""
        if self.policy is not None and not self.policy.plans[plan].premium:
            self.on_basic.add(account)
        else:
            self.on_basic.discard(account)

    def named(self, node: YNode, what: str, names: Collection[str] | None, code: str,
              kind: str) -> str | None:
        """A name that must be one of the policy's ``names`` (e.g. plans): else ``code`` with a hint."""
        name = self.c.text(node, what)
        if name is None or names is None:
            return name
        if name not in names:
            self.c.d.error(code, f"unknown {kind} `{name}`", node.loc, help=hint(name, names))
            return None
        return name

    def plan(self, node: YNode, what: str) -> str | None:
        return self.named(node, what, self.policy.plans if self.policy else None, "unknown_plan", "plan")

    def account(self, node: YNode, what: str, at: dt.datetime | None) -> str | None:
        name = self.c.text(node, what)
        if name is None:
            return None
        if name not in self.starts:
            self.c.d.error("unknown_account", f"unknown account `{name}`", node.loc,
                           help=hint(name, self.starts) if self.starts else
                           "declare it under `accounts:` (or `subscribe` it in an earlier step)")
            return None
        start = self.starts[name]
        if at is not None and start > at:
            self.c.d.error("account_not_started",
                           f"account `{name}` starts at {start.isoformat()}, after this step",
                           node.loc, help="move the step later or the account's `since` earlier")
            return None
        return name

    def message(self, node: YNode, what: str) -> str | None:
        mid = self.c.text(node, what)
        if mid is None:
            return None
        if mid not in self.messages:
            self.c.d.error("unknown_message", f"no earlier `send` defines the message `{mid}`", node.loc,
                           help=hint(mid, self.messages) if self.messages else
                           "give the send an `id:` and respond to that id in a later step")
            return None
        return mid


def payment_status(c: Checker, node: YNode) -> str | None:
    status = c.text(node, "`payment`")
    if status is not None and status not in PAYMENT_STATUSES:
        c.d.error("invalid_payment_status", f"payment status cannot be `{status}`", node.loc,
                  help=hint(status, PAYMENT_STATUSES))
        return None
    return status
