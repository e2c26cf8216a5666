"""The policy as a form: what the workbench's Plans and Settings views are built from.

A form is drawn from the draft a person is editing, which may not load as a
policy at all (a typo half-way through an edit), so the values are read
leniently, whatever the text holds, and the loader's diagnostics speak
separately. Every key, type, range, choice and default comes from the tables
the loader checks (:data:`~engine.policy.load.SECTIONS`,
:data:`~engine.policy.load.PLAN_KNOBS`, the model's defaults), every title from
:mod:`engine.policy.words` and every help text from the header of the shipped
``policies.yaml``, so the form cannot offer what the loader refuses or name a
key differently from the CLI and the docs. A form's edits go back into the
text through :func:`apply_form_edits`, which keeps everything else as written.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

import pendulum

from engine.errors import InvalidInput
from engine.policy.load import _NOT_ZONES, PLAN_KNOBS, SECTIONS
from engine.policy.model import RESPONSE_STATUSES, TOP_KEYS, Policy
from engine.policy.words import TITLES, key_help
from engine.source.diagnostics import Diagnostics
from engine.source.marked import YMap, YNode, YScalar, YSeq, parse_text


def policy_form(text: str) -> dict[str, Any]:
    """The settings, plans and responses of a draft ``policies.yaml``, JSON-able, with their form fields.

    ``settings`` lists ``timezone`` and every section's knob (its value in the
    text, else the default, and ``set``: whether the text gives it);
    ``plan_keys`` the columns of the plans table; ``plans`` and ``responses``
    what the text holds, with the 1-based line of each name (and of each plan value, and of each
    setting the text gives: a diagnostic of the loader is shown beside the input on its line).
    """
    node = parse_text(text, "policies.yaml", Diagnostics())
    top = node if isinstance(node, YMap) else None  # not a mapping (or not YAML): every default
    words = key_help()
    defaults = {f.name: f.default for f in fields(Policy)}
    settings = [
        {
            "path": ["timezone"],
            "label": TITLES["timezone"],
            "help": words.get("timezone", ""),
            "type": "timezone",
            **_value(_get(top, "timezone"), defaults["timezone"]),
        }
    ]
    for section, (cls, knobs) in SECTIONS.items():
        section_node = _get(top, section)
        section_defaults = {f.name: f.default for f in fields(cls)}
        for key, (kind, arg) in knobs.items():
            settings.append(
                {
                    "path": [section, key],
                    "label": TITLES[f"{section}.{key}"],
                    "help": words.get(f"{section}.{key}", ""),
                    **_field(kind, arg),
                    **_value(_get(section_node, key), section_defaults[key]),
                }
            )
    return {
        "settings": settings,
        "plan_keys": [
            {
                "key": key,
                "label": TITLES[f"plans.{key}"],
                "help": words.get(f"plans.{key}", ""),
                **_field(kind, arg),
            }
            for key, (kind, arg) in PLAN_KNOBS.items()
        ],
        "plans": [
            {
                "name": name,
                "values": {k: _json(v) for k, v in plan.items.items() if k in PLAN_KNOBS}
                if isinstance(plan, YMap)
                else {},
                "line": plans.key_loc(name).line,
                "lines": {k: plan.key_loc(k).line for k in plan.items if k in PLAN_KNOBS}
                if isinstance(plan, YMap)
                else {},
            }
            for plans in _maps(_get(top, "plans"))
            for name, plan in plans.items.items()
        ],
        "responses": [
            {"name": name, "status": _json(status), "line": responses.key_loc(name).line}
            for responses in _maps(_get(top, "responses"))
            for name, status in responses.items.items()
        ],
        "response_statuses": list(RESPONSE_STATUSES),
        "timezones": list(timezones()),
    }


def apply_form_edits(text: str, edits: Sequence[Mapping[str, Any]], *, display: str = "policies.yaml") -> str:
    """Edits from a form or a decision table written into ``text`` (all or none), the rest as written.

    :func:`engine.source.roundtrip.apply_edits` with the policy's section order
    (a new section goes where ``policies.yaml`` lists it, also under a scenario's
    ``policy:``; no other file has those keys), its refusal raised as the
    InvalidInput every door renders (``invalid_edit``, ``yaml_syntax``, ...).
    """
    from engine.source.roundtrip import EditRefused, apply_edits  # ruamel.yaml: the `serve` extra's

    try:
        return apply_edits(text, edits, display=display, order=TOP_KEYS)
    except EditRefused as exc:
        raise InvalidInput(exc.diagnostics) from None


@functools.cache
def timezones() -> tuple[str, ...]:
    """The zone names the loader accepts, sorted (the system's IANA zones, less the meaningless ones)."""
    return tuple(sorted(pendulum.timezones() - _NOT_ZONES))


def _get(node: YNode | None, key: str) -> YNode | None:
    return node.get(key) if isinstance(node, YMap) else None


def _maps(node: YNode | None) -> list[YMap]:
    return [node] if isinstance(node, YMap) else []


def _field(kind: str, arg: Any) -> dict[str, Any]:
    """A knob's form field, from its (kind, argument) in the loader's tables."""
    out: dict[str, Any] = {"type": kind}
    if kind == "int":
        out["min"], out["max"] = arg
    elif kind in ("enum", "enum_list"):
        out["choices"] = list(arg)
    return out


def _value(node: YNode | None, default: Any) -> dict[str, Any]:
    """A knob's value, its default, whether the text sets it, and the line it is on (for diagnostics)."""
    plain = _json(default)
    if node is None:
        return {"value": plain, "default": plain, "set": False, "line": None}
    return {"value": _json(node), "default": plain, "set": True, "line": node.loc.line}


def _json(value: Any) -> Any:
    """A value as JSON can carry it: marked YAML made plain; infinities and NaN as written."""
    if isinstance(value, YScalar):
        if isinstance(value.value, float) and not math.isfinite(value.value):
            return value.raw
        return _json(value.value)
    if isinstance(value, YMap):
        return {k: _json(v) for k, v in value.items.items()}
    if isinstance(value, YSeq):
        return [_json(v) for v in value.items]
    if isinstance(value, (tuple, list)):
        return [_json(v) for v in value]
    return value
