"""Loading ``policies.yaml``: every value checked, then the frozen :class:`~engine.policy.model.Policy`.

A policy is either wholly valid or not loaded: every problem is collected as
a diagnostic pointing at the file, and :class:`~engine.errors.InvalidPolicy`
is raised with all of them. Scenario overrides are deep-merged onto the base
*as marked YAML*, so an error in an override points at the scenario's line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pendulum

from engine.codes import C
from engine.errors import InvalidPolicy
from engine.policy.model import (
    CAP_STRATEGIES,
    CREDIT_BACK_LOTS,
    LOT_SOURCES,
    MAX_COUNT,
    MAX_DAYS,
    PLAN_KEYS,
    RESPONSE_STATUSES,
    TOP_KEYS,
    Cap,
    CreditBack,
    Credits,
    Plan,
    Policy,
    Purchase,
    Reminder,
    Renewal,
)
from engine.source.diagnostics import Diagnostics, did_you_mean
from engine.source.marked import YMap, YNode, YScalar, parse_text, read_text, type_name
from engine.source.paths import packaged_policy_path
from engine.source.reader import Reader

#: Zone names that exist on a machine but mean nothing portable.
_NOT_ZONES = frozenset({"localtime", "Factory"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

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
assert ("timezone", *_SECTIONS, "responses", "plans") == TOP_KEYS
#: What each plan key holds, in the same (kind, argument) form.
PLAN_KNOBS: dict[str, tuple[str, Any]] = {
    "premium": ("bool", None),
    "monthly_allotment": ("int", (0, MAX_COUNT)),
    "cap": ("int", (0, MAX_COUNT)),
    "purchasable": ("bool", None),
}
assert tuple(PLAN_KNOBS) == PLAN_KEYS
#: The knobs of each section and what plan names must look like, for the editor schemas.
SECTIONS = _SECTIONS
NAME_PATTERN = _NAME.pattern


def known_paths() -> list[str]:
    """Every dotted knob path, for ``did you mean`` on references such as ``policy.x.y``."""
    paths = ["timezone"]
    for section, (_, knobs) in _SECTIONS.items():
        paths.extend(f"{section}.{k}" for k in knobs)
    return paths


class _Reader(Reader):
    def value(self, node: YNode, kind: str, arg: Any, what: str) -> Any:
        """A knob's value by its kind in ``_SECTIONS``."""
        if kind == "bool":
            return self.boolean(node, what)
        if kind == "int":
            return self.number(node, what, *arg)
        if kind == "enum":
            return self.choice(node, what, arg)
        if kind == "enum_list":
            return self.choice_list(node, what, arg)
        raise AssertionError(kind)


def _timezone(r: _Reader, node: YNode) -> str | None:
    if not (isinstance(node, YScalar) and isinstance(node.value, str)):
        r.d.error(
            C.wrong_type,
            f"`timezone` must be a time zone name, found {type_name(node)}",
            node.loc,
            help="write a name such as `UTC` or `Europe/Paris`, not an offset",
        )
        return None
    zones = pendulum.timezones() - _NOT_ZONES
    known = node.value in zones
    if known:
        try:
            pendulum.timezone(node.value)
        except Exception:  # pendulum raises several kinds for unreadable zones
            known = False
    if not known:
        r.d.error(
            C.unknown_timezone,
            f"unknown time zone `{node.value}`",
            node.loc,
            help=did_you_mean(node.value, zones)
            or "use a time zone name such as `UTC`, `Europe/Paris` or `America/New_York`",
        )
        return None
    return node.value


def _plans(r: _Reader, node: YNode) -> dict[str, Plan]:
    plans: dict[str, Plan] = {}
    m = r.mapping(node, "`plans`")
    if m is None:
        return plans
    if not m.items:
        r.d.error(C.missing_key, "`plans` must name at least one plan", m.loc)
    for name, pnode in m.items.items():
        if not _NAME.match(name):
            r.d.error(
                C.invalid_name,
                f"plan name `{name}` must be lowercase letters, digits and _",
                m.key_loc(name),
                help=_name_help(name),
            )
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
                    r.d.error(
                        C.missing_key,
                        f"plan `{name}` has no `{key}`",
                        pm.loc,
                        help=f"add `{key}:` to plan `{name}`",
                    )
                values[key] = None
                continue
            kind, arg = PLAN_KNOBS[key]
            values[key] = r.value(sub, kind, arg, f"`plans.{name}.{key}`")
        if any(values.get(k) is None for k in PLAN_KEYS):
            continue
        if values["cap"] < values["monthly_allotment"]:
            cap_node = pm.items["cap"]
            r.d.error(
                C.cap_below_allotment,
                f"plan `{name}` has a cap of {values['cap']}, below its monthly allotment "
                f"of {values['monthly_allotment']}",
                cap_node.loc,
                help="a cap must be at least the monthly allotment",
            )
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
            r.d.error(
                C.invalid_name,
                f"response type `{name}` must be lowercase letters, digits and _",
                m.key_loc(name),
                help=_name_help(name),
            )
            continue
        status = r.value(sub, "enum", RESPONSE_STATUSES, f"`responses.{name}`")
        if status is not None:
            out[name] = status
    if not m.items:
        r.d.error(C.missing_key, "`responses` must name at least one response type", m.loc)
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
        diags.error(C.missing_key, "the policy has no `plans`", top.loc, help="add a `plans:` section")
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


def load_policy_text(
    text: str, source: str = "policies.yaml", override: YMap | None = None, override_text: str = ""
) -> Policy:
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
    return dataclasses.replace(policy, texts=(text, override_text))


def policy_from_texts(text: str, override_text: str = "", source: str = "policies.yaml") -> Policy:
    """The policy :attr:`Policy.texts` describe (how a store's revision is read back)."""
    override: YMap | None = None
    if override_text:
        diags = Diagnostics()
        node = parse_text(override_text, "<policy_override>", diags)
        if not isinstance(node, YMap) or diags.has_errors():
            raise InvalidPolicy(diags.items)
        override = node
    return load_policy_text(text, source, override, override_text)


def load_policy(
    path: str | Path | None = None,
    override: YMap | None = None,
    override_text: str = "",
    display: str | None = None,
) -> Policy:
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
