"""Default facts: what a fact is when a person trying a rule does not say.

``inmail decide`` (and the workbench's decision form) let a policy editor
name only the facts that matter; every other fact of the event's catalog
entry takes a default chosen so that an ordinary Premium member on the
default plan gets an ordinary answer. Facts that follow from others (the
plan's numbers, a response's status, whether a response is within the
window) follow the values given. The table below is the single statement of
those defaults: :data:`DEFAULTS_TEXT` (shown by ``--help`` and in
``rules/README.md``) is written from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from engine.codes import C
from engine.policy import Policy
from engine.rules import catalog
from engine.rules.conditions import fact_problem
from engine.source.diagnostics import hint

if TYPE_CHECKING:
    from engine.rules.book import RuleBook
    from engine.rules.reader import Rule

Value = bool | int | str


@dataclass(frozen=True)
class Derived:
    """A default that follows from other facts or from the policy; ``words`` says how."""

    words: str


#: Every default, in the order they are described. Keys are fact names, or the last part of
#: an account fact's name (``balance`` stands for ``sender.balance`` and ``account.balance``).
DEFAULTS: dict[str, Value | Derived] = {
    "plan": Derived(
        "the policy's first Premium plan (career), or, with premium: false given, "
        "its first plan that is not Premium"
    ),
    "premium and plan.*": Derived("those of that plan"),
    "payment": "valid",
    "balance": 5,
    "recipient.connected": False,
    "pair.awaiting_response": False,
    "message.kind": "inmail",
    "message.responded": False,
    "message.age_days": 1,
    "response.type": Derived("the policy's first response type (reply)"),
    "response.status": Derived("what that type records"),
    "response.within_window": Derived("message.age_days <= credit_back.window_days"),
    "purchase.credits": 10,
    "lot.source": "monthly",
    "lot.remaining": 1,
    "new_plan.premium": True,
    "payment.status": "valid",
}

#: The plain (not derived) defaults.
PLAIN_DEFAULTS: dict[str, Value] = {k: v for k, v in DEFAULTS.items() if not isinstance(v, Derived)}


def _words(value: Value | Derived) -> str:
    if isinstance(value, Derived):
        return value.words
    return str(value).lower() if isinstance(value, bool) else str(value)


#: What the defaults are, in words (shown by --help and in rules/README.md).
DEFAULTS_TEXT = "; ".join(f"{name}: {_words(value)}" for name, value in DEFAULTS.items())


def default_plan(policy: Policy, premium: object = None) -> str:
    """The policy's first Premium plan (``career`` in the shipped one), else its first plan.

    ``premium=False`` (a member said to be not Premium) picks the first plan that is not
    Premium, so the plan's facts agree with the member's.
    """
    if premium is False:
        basic = [name for name, p in policy.plans.items() if not p.premium]
        if basic:
            return basic[0]
    premium = [name for name, p in policy.plans.items() if p.premium]
    return premium[0] if premium else next(iter(policy.plans))


def complete_facts(event: str, given: dict[str, Value], policy: Policy) -> dict[str, Value]:
    """Every catalog fact of ``event``: the given ones, and defaults (derived where they follow)."""
    specs = catalog.CATALOG[event]
    out: dict[str, Value] = {}
    premium = next((given[n] for n in ("sender.premium", "account.premium") if n in given), None)
    plan_name = next(
        (str(given[n]) for n, s in specs.items() if s.choices == catalog.PLAN_NAMES and n in given),
        default_plan(policy, premium),
    )
    plan = policy.plans.get(plan_name) or policy.plans[default_plan(policy)]
    for name, spec in specs.items():
        if name in given:
            out[name] = given[name]
            continue
        head, _, tail = name.partition(".")
        if spec.choices == catalog.PLAN_NAMES:
            out[name] = plan.name
        elif head == "plan":
            out[name] = getattr(plan, tail)
        elif tail == "premium" and head in ("sender", "account"):
            out[name] = plan.premium
        elif name in PLAIN_DEFAULTS:
            out[name] = PLAIN_DEFAULTS[name]
        elif tail in PLAIN_DEFAULTS and head in ("sender", "account"):
            out[name] = PLAIN_DEFAULTS[tail]
    if "response.type" in specs and "response.type" not in out:
        out["response.type"] = next(iter(policy.responses))
    if "response.status" in specs and "response.status" not in out:
        out["response.status"] = policy.responses.get(str(out.get("response.type")), "replied")
    if "response.within_window" in specs and "response.within_window" not in out:
        age = out.get("message.age_days", 0)
        out["response.within_window"] = isinstance(age, int) and age <= policy.credit_back.window_days
    missing = [n for n in specs if n not in out]
    assert not missing, f"no default for {missing}"  # a fact added to the catalog needs one in DEFAULTS
    return {n: out[n] for n in specs}


def given_facts(event: str, data: Mapping[str, Any], policy: Policy, where: str = "") -> dict[str, Value]:
    """Facts a person or an app gave as plain data (JSON), each checked against the catalog.

    ``where`` (`` (in `file`)``) says where they came from in messages. An
    unknown name is ``unknown_fact`` with a suggestion; a value of the wrong
    type, or text outside the fact's choices, is ``invalid_fact``.
    """
    specs = catalog.CATALOG[event]
    out: dict[str, Value] = {}
    for name, value in data.items():
        if name not in specs:
            raise C.unknown_fact(f"`{event}` has no fact `{name}`{where}", help=hint(name, specs))
        problem = fact_problem(f"{name}`{where}`" if where else name, value, specs[name], policy)
        if problem is not None:
            raise C.invalid_fact(problem[0], help=problem[1])
        out[name] = cast(Value, value)
    return out


def what_if(
    book: RuleBook, policy: Policy, event: str, given: dict[str, Value]
) -> tuple[dict[str, Any], Rule]:
    """Decide ``event`` on the facts given (the others take their defaults): the answer as JSON, as
    ``inmail decide --format json`` and ``POST /v1/decide/{event}`` both give it, and the deciding rule."""
    check_event(event)
    facts = complete_facts(event, given, policy)
    verdict = book.decide(event, facts)
    rule = next(r for r in book.rules(event) if r.id == verdict.rule)
    return {
        "event": event,
        "outcome": verdict.outcome,
        "reason": verdict.reason,
        "effects": list(verdict.effects),
        "rule": verdict.rule,
        "requirements": list(verdict.requirements),
        "description": rule.description,
        "revision": book.revision,
        "facts": facts,
        "given": sorted(given),
    }, rule


def check_event(event: str) -> None:
    """``unknown_event`` (with a suggestion) unless ``event`` is one of the catalog's event kinds."""
    if event not in catalog.EVENT_KINDS:
        raise C.unknown_event(f"there is no event kind `{event}`", help=hint(event, catalog.EVENT_KINDS))
