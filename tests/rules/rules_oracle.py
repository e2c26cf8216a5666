"""An independent reference for rules files: a tiny plain-Python interpreter and random generators.

The interpreter reads the *raw* YAML (``yaml.safe_load`` dicts), not the
loader's AST, and follows the grammar in HANDOFF/rules/README directly: a
mapping is "all keys hold", ``all``/``any``/``not`` combine, ``policy.x``
values are looked up in the policy and ``plan.f`` values in the acting
account's plan. Agreeing with it on random facts and random rule files is
what shows the loader + compiler + durable_rules path right.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

from engine.policy import Policy
from engine.rules import catalog
from engine.rules.reader import resolve_choices

_CMP = {
    "below": lambda x, y: x < y,
    "at_most": lambda x, y: x <= y,
    "above": lambda x, y: x > y,
    "at_least": lambda x, y: x >= y,
}


class Oracle:
    """First-match evaluation of one raw rules document."""

    def __init__(self, doc: dict[str, Any], policy: Policy) -> None:
        self.event = doc["event"]
        self.rules = doc["rules"]
        self.policy = policy
        self.plan_fact = next(
            (n for n, s in catalog.CATALOG[self.event].items() if s.choices == catalog.PLAN_NAMES), None
        )

    @classmethod
    def from_file(cls, path: Path, policy: Policy) -> Oracle:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")), policy)

    def decide(self, facts: dict[str, Any]) -> str:
        for rule in self.rules:
            if "when" not in rule or self._when(rule["when"], facts):
                return str(rule["id"])
        raise AssertionError("no rule matched")

    def _when(self, cond: dict[str, Any], facts: dict[str, Any]) -> bool:
        for key, val in cond.items():
            if key == "all":
                ok = all(self._when(c, facts) for c in val)
            elif key == "any":
                ok = any(self._when(c, facts) for c in val)
            elif key == "not":
                ok = not self._when(val, facts)
            else:
                ok = self._fact(facts[key], val, facts)
            if not ok:
                return False
        return True

    def _fact(self, x: Any, test: Any, facts: dict[str, Any]) -> bool:
        if not isinstance(test, dict):
            return self._eq(x, self._value(test, facts))
        for op, arg in test.items():
            if op == "is":
                ok = self._eq(x, self._value(arg, facts))
            elif op == "not":
                ok = not self._eq(x, self._value(arg, facts))
            elif op == "in":
                ok = any(self._eq(x, self._value(a, facts)) for a in arg)
            elif op == "not_in":
                ok = not any(self._eq(x, self._value(a, facts)) for a in arg)
            else:
                ok = _CMP[op](x, self._value(arg, facts))
            if not ok:
                return False
        return True

    @staticmethod
    def _eq(x: Any, y: Any) -> bool:
        return type(x) is type(y) and x == y

    def _value(self, v: Any, facts: dict[str, Any]) -> Any:
        if isinstance(v, str) and v.startswith("policy."):
            return self.policy.setting(v[len("policy.") :])
        if isinstance(v, str) and v.startswith("plan."):
            assert self.plan_fact is not None
            return getattr(self.policy.plans[facts[self.plan_fact]], v[len("plan.") :])
        return v


# --- random facts ---------------------------------------------------------------------------


def int_constants(doc: dict[str, Any], policy: Policy) -> set[int]:
    """Every whole number a rules document mentions (literals and resolved references)."""
    out: set[int] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, bool):
            return
        elif isinstance(v, int):
            out.add(v)
        elif isinstance(v, str) and v.startswith("policy."):
            got = policy.setting(v[len("policy.") :])
            if isinstance(got, int) and not isinstance(got, bool):
                out.add(got)
        elif isinstance(v, str) and v.startswith("plan."):
            for p in policy.plans.values():
                got = getattr(p, v[len("plan.") :])
                if isinstance(got, int) and not isinstance(got, bool):
                    out.add(got)

    for rule in doc["rules"]:
        walk(rule.get("when", {}))
    return out


def random_facts(event: str, policy: Policy, rng: random.Random, consts: set[int]) -> dict[str, Any]:
    """Every catalog fact of ``event`` with a random value of its type; numbers favour boundaries."""
    near = sorted({c + d for c in consts for d in (-1, 0, 1)}) or [0, 1]
    out: dict[str, Any] = {}
    for name, spec in catalog.CATALOG[event].items():
        if spec.type == "bool":
            out[name] = rng.random() < 0.5
        elif spec.type == "int":
            out[name] = rng.choice(near) if rng.random() < 0.6 else rng.randint(-3, 120)
        else:
            choices = resolve_choices(spec, policy)
            assert choices
            out[name] = rng.choice(choices)
    return out


# --- random rules files ---------------------------------------------------------------------

_INT_REFS = (
    "policy.credit_back.window_days",
    "policy.reminder.after_days",
    "policy.credits.lifetime_days",
    "plan.cap",
    "plan.monthly_allotment",
    "policy.plans.career.cap",
)
_BOOL_REFS = ("plan.premium", "plan.purchasable", "policy.renewal.grant_on_start")


class RuleGen:
    """Random valid rules documents for one event kind, from the grammar."""

    def __init__(self, event: str, policy: Policy, rng: random.Random) -> None:
        self.event = event
        self.policy = policy
        self.rng = rng
        self.specs = catalog.CATALOG[event]
        # A few facts per file, so that rules overlap and order matters.
        names = list(self.specs)
        self.names = rng.sample(names, k=min(len(names), rng.randint(2, 5)))

    def value(self, name: str) -> Any:
        spec, rng = self.specs[name], self.rng
        if spec.type == "bool":
            return rng.choice(_BOOL_REFS) if rng.random() < 0.15 else rng.random() < 0.5
        if spec.type == "int":
            if rng.random() < 0.2:
                return rng.choice(_INT_REFS)
            return rng.choice([0, 1, 2, 3, 5, 15, 45, 89, 90, 91, -1])
        choices = resolve_choices(spec, self.policy)
        assert choices
        return rng.choice(choices)

    def test(self, name: str) -> Any:
        spec, rng = self.specs[name], self.rng
        r = rng.random()
        if r < 0.35:
            return self.value(name)
        ops = ["is", "not", "in", "not_in"] + (
            ["below", "at_most", "above", "at_least"] * 2 if spec.type == "int" else []
        )
        out: dict[str, Any] = {}
        for op in rng.sample(ops, k=rng.choice([1, 1, 1, 2])):
            if op in ("in", "not_in"):
                out[op] = [self.value(name) for _ in range(rng.randint(1, 4))]
            else:
                out[op] = self.value(name)
        return out

    def cond(self, depth: int = 0) -> dict[str, Any]:
        rng = self.rng
        out: dict[str, Any] = {}
        for _ in range(rng.choice([1, 1, 2])):
            r = rng.random()
            if depth < 3 and r < 0.12:
                out["all"] = [self.cond(depth + 1) for _ in range(rng.randint(1, 3))]
            elif depth < 3 and r < 0.24:
                out["any"] = [self.cond(depth + 1) for _ in range(rng.randint(1, 3))]
            elif depth < 3 and r < 0.34:
                out["not"] = self.cond(depth + 1)
            else:
                name = rng.choice(self.names)
                out[name] = self.test(name)
        return out

    def document(self) -> dict[str, Any]:
        rng = self.rng
        outcomes = catalog.OUTCOMES[self.event]
        rules = []
        n = rng.randint(1, 7)
        for i in range(n):
            outcome = rng.choice(outcomes)
            then: dict[str, Any] = {"outcome": outcome}
            if outcome in catalog.REASONED_OUTCOMES:  # such an outcome must say why
                then["reason"] = catalog.REASONS[self.event][0]
            rule: dict[str, Any] = {
                "id": f"rule-{i}",
                "requirement": "R01",
                "description": f"random rule {i}",
                "then": then,
            }
            if i < n - 1:
                rule["when"] = self.cond()
            rules.append(rule)
        return {"event": self.event, "rules": rules}
