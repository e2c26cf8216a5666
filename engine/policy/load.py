"""The policy model: plans and knobs from ``policies.yaml``, validated and frozen.

A policy is either wholly valid or not loaded: every problem is collected as
a diagnostic pointing at the file, and :class:`~engine.errors.InvalidPolicy`
is raised with all of them. Scenario overrides are deep-merged onto the base
*as marked YAML*, so an error in an override points at the scenario's line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pendulum

from engine.errors import InvalidPolicy
from engine.source.diagnostics import Diagnostics, Location, did_you_mean, expected_one_of, hint
from engine.source.marked import YMap, YNode, YScalar, YSeq, parse_text, read_text, type_name
from engine.source.paths import packaged_policy_path

CAP_STRATEGIES = ("forfeit_oldest", "trim_new")
LOT_SOURCES = ("monthly", "credit_back", "purchase")
CREDIT_BACK_LOTS = ("new", "original")
RESPONSE_STATUSES = ("replied", "accepted", "declined")
PLAN_KEYS = ("premium", "monthly_allotment", "cap", "purchasable")
#: Upper bounds keep numbers within what the ledger and the calendar handle (and catch stray digits).
MAX_COUNT = 1_000_000
MAX_DAYS = 36_500
#: Zone names that exist on a machine but mean nothing portable.
_NOT_ZONES = frozenset({"localtime", "Factory"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Plan:
    """One account type (R10, R11, R17, R18, R20)."""

    name: str
    premium: bool
    monthly_allotment: int
    cap: int
    purchasable: bool
    loc: Location | None = None


@dataclass(frozen=True)
class Credits:
    lifetime_days: int = 90


@dataclass(frozen=True)
class Renewal:
    grant_on_start: bool = True


@dataclass(frozen=True)
class Cap:
    on_overflow: str = "forfeit_oldest"
    applies_to: tuple[str, ...] = ("monthly", "credit_back")


@dataclass(frozen=True)
class CreditBack:
    window_days: int = 90
    lot: str = "new"


@dataclass(frozen=True)
class Reminder:
    after_days: int = 3


@dataclass(frozen=True)
class Purchase:
    credit_lifetime_days: int = 365


_DEFAULT_RESPONSES = {
    "reply": "replied",
    "interested": "accepted",
    "maybe_later": "accepted",
    "not_interested": "declined",
}


@dataclass(frozen=True)
class Policy:
    """A validated policy. ``digest`` is a content hash of the text it came from."""

    plans: Mapping[str, Plan]
    timezone: str = "UTC"
    credits: Credits = Credits()
    renewal: Renewal = Renewal()
    cap: Cap = Cap()
    credit_back: CreditBack = CreditBack()
    reminder: Reminder = Reminder()
    purchase: Purchase = Purchase()
    responses: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(_DEFAULT_RESPONSES))
    source: str = "<policy>"
    digest: str = ""

    def setting(self, path: str) -> Any:
        """Look up a dotted setting such as ``credit_back.window_days`` or ``plans.career.cap``.

        Only what ``policies.yaml`` can say is reachable (not ``source``, ``digest`` or a
        plan's ``loc``), so a rules file cannot refer to bookkeeping. KeyError(path) if absent.
        """
        parts = path.split(".")
        if parts[0] not in TOP_KEYS:
            raise KeyError(path)
        obj: Any = self
        for part in parts:
            if isinstance(obj, Mapping):
                if part not in obj:
                    raise KeyError(path)
                obj = obj[part]
            elif part in getattr(obj, "__dataclass_fields__", {}) and part != "loc":
                obj = getattr(obj, part)
            else:
                raise KeyError(path)
        return obj


# --- schema -------------------------------------------------------------------------------

# Each knob: (kind, argument). Kinds: int (minimum), bool, enum (choices), enum_list (choices).
# An int's argument is its (minimum, maximum).
_SECTIONS: dict[str, tuple[type, dict[str, tuple[str, Any]]]] = {
    "credits": (Credits, {"lifetime_days": ("int", (1, MAX_DAYS))}),
    "renewal": (Renewal, {"grant_on_start": ("bool", None)}),
    "cap": (Cap, {"on_overflow": ("enum", CAP_STRATEGIES), "applies_to": ("enum_list", LOT_SOURCES)}),
    "credit_back": (CreditBack, {"window_days": ("int", (0, MAX_DAYS)), "lot": ("enum", CREDIT_BACK_LOTS)}),
    "reminder": (Reminder, {"after_days": ("int", (0, MAX_DAYS))}),
    "purchase": (Purchase, {"credit_lifetime_days": ("int", (1, MAX_DAYS))}),
}
TOP_KEYS = ("timezone", *_SECTIONS, "responses", "plans")


def known_paths() -> list[str]:
    """Every dotted knob path, for ``did you mean`` on references such as ``policy.x.y``."""
    paths = ["timezone"]
    for section, (_, knobs) in _SECTIONS.items():
        paths.extend(f"{section}.{k}" for k in knobs)
    return paths


class _Reader:
    def __init__(self, diags: Diagnostics) -> None:
        self.d = diags

    def mapping(self, node: YNode, what: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.d.error("wrong_type", f"{what} must be a mapping, found {type_name(node)}", node.loc)
        return None

    def unknown_keys(self, node: YMap, allowed: tuple[str, ...] | list[str], where: str) -> set[str]:
        """Report keys not in ``allowed``; return the allowed keys they look like (typos)."""
        meant: set[str] = set()
        for key in node.items:
            if key not in allowed:
                close = did_you_mean(key, allowed)
                if close:
                    meant.add(close.split("`")[1])
                self.d.error(
                    "unknown_key", f"unknown key `{key}` in {where}", node.key_loc(key),
                    help=close or expected_one_of(allowed),
                )
        return meant

    def value(self, node: YNode, kind: str, arg: Any, what: str) -> Any:
        v = node.plain() if isinstance(node, YScalar) else None
        if kind == "bool":
            if isinstance(node, YScalar) and isinstance(v, bool):
                return v
            self.d.error("wrong_type", f"{what} must be true or false, found {type_name(node)}", node.loc)
            return None
        if kind == "int":
            if not isinstance(node, YScalar) or isinstance(v, bool) or not isinstance(v, int | float):
                self.d.error("wrong_type", f"{what} must be a whole number, found {type_name(node)}",
                             node.loc)
                return None
            if isinstance(v, float):
                self.d.error("not_an_integer", f"{what} must be a whole number, found `{node.raw}`", node.loc)
                return None
            low, high = arg
            if v < low:
                code = "negative_number" if v < 0 else "out_of_range"
                self.d.error(code, f"{what} must be at least {low}, found `{v}`", node.loc)
                return None
            if v > high:
                self.d.error("out_of_range", f"{what} must be at most {high}, found `{v}`", node.loc)
                return None
            return v
        if kind == "enum":
            if isinstance(node, YScalar) and isinstance(v, str) and v in arg:
                return v
            if isinstance(node, YScalar) and node.raw:
                self.d.error("invalid_choice", f"{what} cannot be `{node.raw}`", node.loc,
                             help=hint(node.raw, arg))
            else:
                self.d.error("invalid_choice", f"{what} must be a name, found {type_name(node)}",
                             node.loc, help=expected_one_of(arg))
            return None
        if kind == "enum_list":
            if not isinstance(node, YSeq):
                self.d.error("wrong_type", f"{what} must be a list, found {type_name(node)}", node.loc)
                return None
            out = []
            for item in node.items:
                got = self.value(item, "enum", arg, f"an item of {what}")
                if got is not None:
                    out.append(got)
            return tuple(out)
        raise AssertionError(kind)


def _timezone(r: _Reader, node: YNode) -> str | None:
    if not (isinstance(node, YScalar) and isinstance(node.value, str)):
        r.d.error("wrong_type", f"`timezone` must be a time zone name, found {type_name(node)}", node.loc,
                  help="write a name such as `UTC` or `Europe/Paris`, not an offset")
        return None
    zones = pendulum.timezones() - _NOT_ZONES
    known = node.value in zones
    if known:
        try:
            pendulum.timezone(node.value)
        except Exception:  # pendulum raises several kinds for unreadable zones
            known = False
    if not known:
        r.d.error("unknown_timezone", f"unknown time zone `{node.value}`", node.loc,
                  help=did_you_mean(node.value, zones)
                  or "use a time zone name such as `UTC`, `Europe/Paris` or `America/New_York`")
        return None
    return node.value


def _plans(r: _Reader, node: YNode) -> dict[str, Plan]:
    plans: dict[str, Plan] = {}
    m = r.mapping(node, "`plans`")
    if m is None:
        return plans
    if not m.items:
        r.d.error("missing_key", "`plans` must name at least one plan", m.loc)
    for name, pnode in m.items.items():
        if not _NAME.match(name):
            r.d.error("invalid_name", f"plan name `{name}` must be lowercase letters, digits and _",
                      m.key_loc(name), help=_name_help(name))
            continue
        pm = r.mapping(pnode, f"plan `{name}`")
        if pm is None:
            continue
        typos = r.unknown_keys(pm, PLAN_KEYS, f"plan `{name}`")
        values: dict[str, Any] = {}
        for key in PLAN_KEYS:
            sub = pm.get(key)
            if sub is None:
                if key not in typos:  # a misspelt key already said what is missing
                    r.d.error("missing_key", f"plan `{name}` has no `{key}`", pm.loc,
                              help=f"add `{key}:` to plan `{name}`")
                values[key] = None
                continue
            kind = "bool" if key in ("premium", "purchasable") else "int"
            values[key] = r.value(sub, kind, (0, MAX_COUNT), f"`plans.{name}.{key}`")
        if any(values.get(k) is None for k in PLAN_KEYS):
            continue
        if values["cap"] < values["monthly_allotment"]:
            cap_node = pm.items["cap"]
            r.d.error("cap_below_allotment",
                      f"plan `{name}` has a cap of {values['cap']}, below its monthly allotment "
                      f"of {values['monthly_allotment']}", cap_node.loc,
                      help="a cap must be at least the monthly allotment")
            continue
        plans[name] = Plan(name=name, loc=m.key_loc(name), **values)
    return plans


def _responses(r: _Reader, node: YNode) -> dict[str, str]:
    out: dict[str, str] = {}
    m = r.mapping(node, "`responses`")
    if m is None:
        return out
    for name, sub in m.items.items():
        if not _NAME.match(name):
            r.d.error("invalid_name", f"response type `{name}` must be lowercase letters, digits and _",
                      m.key_loc(name), help=_name_help(name))
            continue
        status = r.value(sub, "enum", RESPONSE_STATUSES, f"`responses.{name}`")
        if status is not None:
            out[name] = status
    if not m.items:
        r.d.error("missing_key", "`responses` must name at least one response type", m.loc)
    return out


def _name_help(name: str) -> str:
    fixed = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
    if fixed and _NAME.match(fixed):
        return f"write it as `{fixed}`"
    return "start with a lowercase letter, e.g. `premium_plus`"


def policy_from_node(node: YNode | None, diags: Diagnostics, source: str, digest: str) -> Policy | None:
    """Validate marked YAML into a :class:`Policy`; None (with diagnostics) if invalid."""
    if node is None:
        return None
    r = _Reader(diags)
    before = len(diags.errors)
    top = r.mapping(node, "a policy file")
    if top is None:
        return None
    r.unknown_keys(top, TOP_KEYS, "the policy")
    kwargs: dict[str, Any] = {}
    if "timezone" in top:
        kwargs["timezone"] = _timezone(r, top.items["timezone"])
    for section, (cls, knobs) in _SECTIONS.items():
        snode = top.get(section)
        if snode is None:
            continue
        sm = r.mapping(snode, f"`{section}`")
        if sm is None:
            continue
        r.unknown_keys(sm, list(knobs), f"`{section}`")
        fields = {}
        for key, (kind, arg) in knobs.items():
            if key in sm:
                fields[key] = r.value(sm.items[key], kind, arg, f"`{section}.{key}`")
        kwargs[section] = cls(**{k: v for k, v in fields.items() if v is not None})
    if "responses" in top:
        kwargs["responses"] = MappingProxyType(_responses(r, top.items["responses"]))
    if "plans" in top:
        kwargs["plans"] = MappingProxyType(_plans(r, top.items["plans"]))
    else:
        diags.error("missing_key", "the policy has no `plans`", top.loc, help="add a `plans:` section")
    if len(diags.errors) > before:
        return None
    return Policy(source=source, digest=digest, **kwargs)


def merge_nodes(base: YMap, override: YMap) -> YMap:
    """Deep-merge ``override`` onto ``base``; mappings merge, anything else replaces."""
    items = dict(base.items)
    key_locs = dict(base.key_locs)
    for key, value in override.items.items():
        old = items.get(key)
        if isinstance(old, YMap) and isinstance(value, YMap):
            items[key] = merge_nodes(old, value)
        else:
            items[key] = value
        key_locs[key] = override.key_loc(key)
    return YMap(items, base.loc, key_locs)


def _digest(*texts: str) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def load_policy_text(text: str, source: str = "policies.yaml",
                     override: YMap | None = None, override_text: str = "") -> Policy:
    """Load a policy from text, optionally deep-merged with a scenario override.

    Stages stop at the first that fails: a value the parser dropped (a forbidden tag, a
    duplicate key) would otherwise reappear as a confusing "missing key" below it.
    """
    diags = Diagnostics()
    node = parse_text(text, source, diags)
    if node is None or diags.has_errors():
        raise InvalidPolicy(diags.items)
    if override is not None and isinstance(node, YMap):
        node = merge_nodes(node, override)
    policy = policy_from_node(node, diags, source, _digest(text, override_text))
    if policy is None or diags.has_errors():
        raise InvalidPolicy(diags.items)
    return policy


def load_policy(path: str | Path | None = None, override: YMap | None = None,
                override_text: str = "", display: str | None = None) -> Policy:
    """Load ``path`` (default: the packaged policy); raises InvalidPolicy with every problem.

    ``display`` is the name diagnostics use for the file (default: ``path`` as given).
    """
    p = Path(path) if path is not None else packaged_policy_path()
    if display is None:
        display = str(path) if path is not None else "policies.yaml"
    diags = Diagnostics()
    text = read_text(p, diags, display)
    if text is None:
        raise InvalidPolicy(diags.items)
    return load_policy_text(text, display, override, override_text)
