"""JSON Schemas (draft-07) for the files people edit, built from the tables the loaders check.

An editor with yaml-language-server completes keys, shows what each means
and underlines a wrong value while the file is typed, before ``inmail
validate`` runs. Every key, type, range and choice below comes from the same
tables the loaders use (``engine.policy.load.SECTIONS``, the fact catalog, the
rules reader's keys, the scenario's keys), every description from the
words the project already shows people (the header of ``policies.yaml``, the
fact catalog, the effect table) and every policy key's title from the titles
every door shows (``engine.policy.words``), so a schema cannot say something
the loader does not. What a schema cannot express (a cap at least the allotment, a
shadowed rule, names that must exist) is said in its description and left to
``inmail validate``.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from engine.events import CALLS, ArgType
from engine.policy import model as policy_model
from engine.policy.load import NAME_PATTERN, PLAN_KNOBS, SECTIONS
from engine.policy.words import TITLES, key_help
from engine.rules import catalog
from engine.rules.conditions import COMBINATORS, LIST_OPERATORS, OPERATORS
from engine.rules.reader import REQUIREMENTS_FILE, RULE_ID
from engine.scenario.load import ACCOUNT_KEYS
from engine.scenario.steps import EXPECT_KEYS
from engine.source.requirements import ID_FORM

DRAFT = "http://json-schema.org/draft-07/schema#"
KINDS = ("policy", "rules", "scenario")

_REF = "^(policy|plan)\\.[a-z_.]+$"  # a rule may compare a fact with a policy setting or plan property
_TIME = (
    "a date (2026-01-15) or a date and time (2026-01-15T09:30:00Z); without an offset it is read "
    "in the policy's time zone; from 1970-01-01 to 2999-12-31"
)


# --- the policy -----------------------------------------------------------------------------


def _knob(kind: str, arg: Any, title: str, description: str | None, default: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"title": title}
    if kind == "bool":
        out["type"] = "boolean"
    elif kind == "int":
        out.update({"type": "integer", "minimum": arg[0], "maximum": arg[1]})
    elif kind == "enum":
        out.update({"type": "string", "enum": list(arg)})
    else:  # enum_list
        out.update({"type": "array", "items": {"type": "string", "enum": list(arg)}, "uniqueItems": True})
    if description:
        out["description"] = description
    if default is not None:
        out["default"] = list(default) if isinstance(default, tuple) else default
    return out


def _defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in fields(cls)}


def policy_schema(*, partial: bool = False) -> dict[str, Any]:
    """``policies.yaml``; ``partial``: a scenario's ``policy:`` overrides (nothing is required)."""
    words = key_help()
    props: dict[str, Any] = {
        "timezone": {
            "title": TITLES["timezone"],
            "type": "string",
            "default": "UTC",
            "examples": ["UTC", "Europe/Paris", "America/New_York"],
            "description": (
                words.get("timezone", "") + " (an IANA zone name; offsets and `localtime` are refused)"
            ).strip(),
        }
    }
    for section, (cls, knobs) in SECTIONS.items():
        defaults = _defaults(cls)
        props[section] = {
            "title": TITLES[section],
            "type": "object",
            "additionalProperties": False,
            "description": f"leave out any key (or the whole `{section}` section) for its default",
            "properties": {
                key: _knob(
                    kind, arg, TITLES[f"{section}.{key}"], words.get(f"{section}.{key}"), defaults.get(key)
                )
                for key, (kind, arg) in knobs.items()
            },
        }
    props["responses"] = {
        "title": TITLES["responses"],
        "type": "object",
        "minProperties": 1,
        "description": words.get("responses", ""),
        "propertyNames": {"pattern": NAME_PATTERN},
        "additionalProperties": {"type": "string", "enum": list(policy_model.RESPONSE_STATUSES)},
    }
    plan: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "description": "one account type; `inmail validate` also checks that `cap` is at least "
        "`monthly_allotment`",
        "properties": {
            key: _knob(kind, arg, TITLES[f"plans.{key}"], words.get(f"plans.{key}"), None)
            for key, (kind, arg) in PLAN_KNOBS.items()
        },
    }
    if not partial:
        plan["required"] = list(PLAN_KNOBS)
    props["plans"] = {
        "title": TITLES["plans"],
        "type": "object",
        "description": words.get("plans", "one entry per account type"),
        "propertyNames": {"pattern": NAME_PATTERN, "description": "lowercase letters, digits and _"},
        "additionalProperties": plan,
    }
    if not partial:
        props["plans"]["minProperties"] = 1
    out: dict[str, Any] = {
        "$schema": DRAFT,
        "title": "inmail-engine policy (policies.yaml)" if not partial else "policy overrides",
        "description": "The numbers and switches of the InMail credit policy. Check a file with "
        "`inmail validate`; it also checks what a schema cannot (a cap below the "
        "allotment, an unknown time zone).",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }
    if not partial:
        out["required"] = ["plans"]
    return out


# --- rules ----------------------------------------------------------------------------------


def _value_kind(spec: catalog.FactSpec) -> str:
    """Facts that take the same values share one definition (``bool``, ``int``, ``payment``, ``plan``...)."""
    if spec.type != "str":
        return spec.type
    if isinstance(spec.choices, tuple):
        return "choice_" + "_".join(spec.choices)
    return "plan" if spec.choices == catalog.PLAN_NAMES else "response"


def _value(kind: str, spec: catalog.FactSpec) -> dict[str, Any]:
    if kind == "bool":
        base: dict[str, Any] = {"type": "boolean"}
    elif kind == "int":
        base = {"type": "integer", "minimum": -catalog.MAX_FACT_INT, "maximum": catalog.MAX_FACT_INT}
    elif kind.startswith("choice_"):
        base = {"type": "string", "enum": list(spec.choices or ())}
    else:
        base = {
            "type": "string",
            "description": f"a {'plan' if kind == 'plan' else 'response type'} name from policies.yaml",
        }
    return {
        "anyOf": [
            base,
            {
                "type": "string",
                "pattern": _REF,
                "description": "a policy setting or a plan property to compare with",
            },
        ]
    }


def _value_definitions(events: tuple[str, ...]) -> dict[str, Any]:
    """``value_<kind>`` (one value) and ``test_<kind>`` (a value, or an operator mapping) per kind."""
    out: dict[str, Any] = {}
    for ev in events:
        for spec in catalog.CATALOG[ev].values():
            kind = _value_kind(spec)
            if f"value_{kind}" in out:
                continue
            value = {"$ref": f"#/definitions/value_{kind}"}
            ops: dict[str, Any] = {op: value for op in OPERATORS if kind == "int" or op in ("is", "not")}
            ops.update({op: {"type": "array", "items": value} for op in LIST_OPERATORS})
            out[f"value_{kind}"] = _value(kind, spec)
            out[f"test_{kind}"] = {
                "anyOf": [
                    value,
                    {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": ops},
                ]
            }
    return out


def _condition(event: str) -> dict[str, Any]:
    facts = catalog.CATALOG[event]
    ref = f"#/definitions/when_{event}"
    props: dict[str, Any] = {
        name: {"$ref": f"#/definitions/test_{_value_kind(spec)}", "description": f"({spec.type}) {spec.doc}"}
        for name, spec in facts.items()
    }
    props.update(
        {
            "all": {"type": "array", "items": {"$ref": ref}, "description": "every one holds"},
            "any": {"type": "array", "items": {"$ref": ref}, "description": "at least one holds"},
            "not": {"$ref": ref, "description": "this does not hold"},
        }
    )
    assert set(COMBINATORS) <= set(props)
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": props,
        "description": f"conditions on the facts of a `{event}` event (all must hold)",
    }


def _rule(event: str) -> dict[str, Any]:
    reasons: list[Any] = list(catalog.REASONS[event])
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "description", "then"],
        "properties": {
            "id": {
                "type": "string",
                "pattern": RULE_ID.pattern,
                "description": "lowercase words joined by -",
            },
            "requirement": {
                "anyOf": [
                    {"type": "string", "pattern": ID_FORM.pattern},
                    {"type": "array", "items": {"type": "string", "pattern": ID_FORM.pattern}},
                ],
                "description": f"the requirement(s) it implements, ids of {REQUIREMENTS_FILE} (R09)",
            },
            "description": {
                "type": "string",
                "minLength": 1,
                "description": "what the rule does, in plain words",
            },
            "when": {"$ref": f"#/definitions/when_{event}"},
            "then": {
                "type": "object",
                "additionalProperties": False,
                "required": ["outcome"],
                "properties": {
                    "outcome": {"type": "string", "enum": list(catalog.OUTCOMES[event])},
                    "reason": {
                        "type": ["string", "null"],
                        "enum": [*reasons, None],
                        "description": "required with "
                        + ", ".join(sorted(catalog.REASONED_OUTCOMES))
                        + "; not allowed otherwise",
                    },
                    "effects": {
                        "type": "array",
                        "uniqueItems": True,
                        "items": {
                            "type": "string",
                            "enum": list(catalog.EFFECTS[event]),
                            "description": "; ".join(f"{k}: {v}" for k, v in catalog.EFFECTS[event].items()),
                        },
                    },
                },
            },
        },
    }


def _rules_file(event: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["event", "rules"],
        "properties": {
            "event": {"const": event},
            "rules": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": f"#/definitions/rule_{event}"},
                "description": "read top to bottom; the first that matches decides; "
                "the last must have no `when`",
            },
        },
    }


def rules_schema(event: str | None = None) -> dict[str, Any]:
    """A rules file: every event kind (chosen by ``event:``), or only ``event``'s."""
    events = catalog.EVENT_KINDS if event is None else (event,)
    definitions: dict[str, Any] = _value_definitions(events)
    for ev in events:
        definitions[f"when_{ev}"] = _condition(ev)
        definitions[f"rule_{ev}"] = _rule(ev)
    out: dict[str, Any] = {
        "$schema": DRAFT,
        "title": "inmail-engine rules file (rules/<event>.yaml)" if event is None else f"rules/{event}.yaml",
        "description": "One event kind's rules. `inmail validate` also checks what a schema cannot: "
        "references, rules that can never fire, the final catch-all.",
        "definitions": definitions,
    }
    if event is None:
        out.update(
            {
                "type": "object",
                "required": ["event", "rules"],
                "properties": {"event": {"type": "string", "enum": list(catalog.EVENT_KINDS)}},
                "allOf": [
                    {
                        "if": {"properties": {"event": {"const": ev}}, "required": ["event"]},
                        "then": _rules_file(ev),
                    }
                    for ev in events
                ],
            }
        )
    else:
        out.update(_rules_file(event))
    return out


# --- scenarios ------------------------------------------------------------------------------

#: A scenario field by its argument's type (engine.events.ArgType); any other is a name.
_ARG_TYPES: dict[ArgType, dict[str, Any]] = {
    "credits": {"type": "integer", "minimum": 1, "maximum": policy_model.MAX_COUNT},
    "instant": {"type": "string", "description": _TIME},
    "payment": {"type": "string", "enum": list(catalog.PAYMENT_STATUSES)},
}


def _events() -> dict[str, dict[str, Any]]:
    """Each call kind's step: its scenario keys (required first), each typed by its argument."""
    out = {}
    for kind in CALLS:
        required, optional = kind.scenario_fields()
        types = {a.scenario: _ARG_TYPES.get(a.type, {"type": "string", "minLength": 1}) for a in kind.args}
        props = {f: types[f] for f in (*required, *optional)}
        out[kind.name] = {
            "type": "object",
            "additionalProperties": False,
            "required": list(required),
            "properties": props,
        }
    return out


def scenario_schema() -> dict[str, Any]:
    """A scenario file, as ``inmail simulate`` reads it."""
    time = {"type": "string", "description": _TIME}
    account = {
        "type": "object",
        "additionalProperties": False,
        "required": ["plan", "since"],
        "properties": {
            "plan": {"type": "string", "description": "a plan name from the policy"},
            "since": time,
            "billing_anchor": time,
            "payment": {"type": "string", "enum": list(catalog.PAYMENT_STATUSES)},
            "connections": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        },
    }
    assert set(account["properties"]) == set(ACCOUNT_KEYS)  # type: ignore[call-overload]
    outcomes = sorted({o for ev in catalog.EVENT_KINDS for o in catalog.OUTCOMES[ev]})
    reasons = sorted({r for ev in catalog.EVENT_KINDS for r in catalog.REASONS[ev]})
    expect = {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "outcome": {"type": "string", "enum": outcomes},
            "reason": {
                "type": ["string", "null"],
                "enum": [*reasons, None],
                "description": "null: no reason",
            },
            "status": {
                "type": "string",
                "enum": list(policy_model.RESPONSE_STATUSES),
                "description": "only of a respond step",
            },
            "balance": {
                "type": "object",
                "description": "account -> credits after the step",
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "reminded": {
                "type": "array",
                "items": {"type": "string"},
                "uniqueItems": True,
                "description": "the exact set of named messages reminded by then",
            },
        },
    }
    assert tuple(expect["properties"]) == EXPECT_KEYS  # type: ignore[arg-type]
    events = _events()
    names = list(events)
    step = {
        "type": "object",
        "additionalProperties": False,
        "required": ["at"],
        "description": "one moment of the timeline: at most one event, and what to expect after it",
        "properties": {"at": time, **events, "expect": expect},
        "not": {"anyOf": [{"required": [a, b]} for i, a in enumerate(names) for b in names[i + 1 :]]},
        # what `expect` may say depends on the step's event: its own outcomes and reasons
        "allOf": [
            {
                "if": {"required": [name]},
                "then": {
                    "properties": {
                        "expect": {
                            "properties": {
                                "outcome": {"enum": list(catalog.OUTCOMES[name])},
                                "reason": {"enum": [*catalog.REASONS[name], None]},
                            }
                        }
                    }
                },
            }
            for name in names
        ],
    }
    return {
        "$schema": DRAFT,
        "title": "inmail-engine scenario (inmail simulate)",
        "description": "Accounts and a timeline of events, with expectations. `inmail simulate` also "
        "checks names, message ids and time order.",
        "type": "object",
        "additionalProperties": False,
        "required": ["timeline"],
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "policy": {k: v for k, v in policy_schema(partial=True).items() if k != "$schema"},
            "accounts": {"type": "object", "additionalProperties": account},
            "timeline": {"type": "array", "minItems": 1, "items": step},
        },
    }


def schema(kind: str, event: str | None = None) -> dict[str, Any]:
    """The schema of ``kind`` (``policy``, ``rules`` or ``scenario``); ``event`` narrows rules."""
    if kind == "policy":
        return policy_schema()
    if kind == "rules":
        return rules_schema(event)
    if kind == "scenario":
        return scenario_schema()
    raise ValueError(kind)
