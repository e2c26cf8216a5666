"""Conditions of rules: the small AST, and the reader that builds it from the YAML grammar.

A policy editor writes ``when`` in a forgiving grammar (``fact: value``,
``{below: n}``, ``in`` lists, ``all``/``any``/``not``, values named from
``policies.yaml``). :class:`ConditionReader` checks every part against the
fact catalog and turns it into :class:`Cmp` leaves under :class:`All` /
:class:`AnyOf` with ``not`` pushed down to the leaves (De Morgan), ``in``
lists expanded and references resolved to literals, so the compiler and the
linter see only comparisons of one fact with one typed literal.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.codes import C
from engine.events.base import FACT_TYPES, fact_type_of
from engine.policy import PLAN_KEYS, Policy, known_paths
from engine.rules import catalog
from engine.source.diagnostics import Diagnostics, Location, hint
from engine.source.marked import YMap, YNode, YScalar, YSeq, type_name
from engine.source.reader import Reader

Scalar = bool | int | str

#: How many values an ``in`` / ``not_in`` list may hold; longer lists belong in policies.yaml.
MAX_IN_LIST = 20


@dataclass(frozen=True)
class Op:
    """A comparison, once: its name in the condition tree, the word a rules file writes, the symbol
    a reader sees, what it means in Python (the reference evaluator and the linter), its negation,
    and its durable_rules operator (None for equality, which durable writes as a plain match)."""

    name: str
    word: str
    symbol: str
    test: Callable[[Any, Any], bool]
    negated: str
    durable: str | None
    ordering: bool  # only for whole-number facts


#: Every comparison a condition may make. ``in`` / ``not_in`` expand into several of them.
OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("eq", "is", "==", operator.eq, "ne", None, False),
        Op("ne", "not", "!=", operator.ne, "eq", "$neq", False),
        Op("lt", "below", "<", operator.lt, "ge", "$lt", True),
        Op("le", "at_most", "<=", operator.le, "gt", "$lte", True),
        Op("gt", "above", ">", operator.gt, "le", "$gt", True),
        Op("ge", "at_least", ">=", operator.ge, "lt", "$gte", True),
    )
}
#: Surface operator -> AST operator.
OPERATORS = {op.word: op.name for op in OPS.values()}
LIST_OPERATORS = ("in", "not_in")
COMPARISONS = tuple(op.word for op in OPS.values() if op.ordering)
NEGATED = {op.name: op.negated for op in OPS.values()}
COMBINATORS = ("all", "any", "not")


# --- the condition AST --------------------------------------------------------------------


@dataclass(frozen=True)
class Cmp:
    """``fact op value``; ``op`` is one of eq, ne, lt, le, gt, ge (ordering only on int facts)."""

    fact: str
    op: str
    value: Scalar

    def __str__(self) -> str:
        shown = str(self.value).lower() if isinstance(self.value, bool) else str(self.value)
        return f"{self.fact} {OPS[self.op].symbol} {shown}"


@dataclass(frozen=True)
class All:
    """Every item holds (never empty after normalisation)."""

    items: tuple[Cond, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one item holds (never empty after normalisation)."""

    items: tuple[Cond, ...]


Cond = Cmp | All | AnyOf


def _flat(items: list[Cond], kind: type) -> list[Cond]:
    """Children of a group: nested groups of the same kind merged, repeats dropped (order kept)."""
    out: list[Cond] = []
    for it in items:
        subs = it.items if isinstance(it, All | AnyOf) and isinstance(it, kind) else (it,)
        for sub in subs:
            if sub not in out:
                out.append(sub)
    return out


def all_of(items: list[Cond]) -> Cond:
    """Build a flattened conjunction; one item stands for itself."""
    flat = _flat(items, All)
    return flat[0] if len(flat) == 1 else All(tuple(flat))


def any_of(items: list[Cond]) -> Cond:
    """Build a flattened disjunction; one item stands for itself."""
    flat = _flat(items, AnyOf)
    return flat[0] if len(flat) == 1 else AnyOf(tuple(flat))


def holds(cond: Cond | None, facts: Mapping[str, Any]) -> bool:
    """Evaluate a normalised condition on complete facts (the reference semantics)."""
    if cond is None:
        return True
    if isinstance(cond, Cmp):
        return bool(OPS[cond.op].test(facts[cond.fact], cond.value))
    if isinstance(cond, All):
        return all(holds(c, facts) for c in cond.items)
    return any(holds(c, facts) for c in cond.items)


def leaves(cond: Cond | None) -> list[Cmp]:
    """Every comparison in a condition, left to right."""
    if cond is None:
        return []
    if isinstance(cond, Cmp):
        return [cond]
    return [leaf for c in cond.items for leaf in leaves(c)]


def resolve_choices(spec: catalog.FactSpec, policy: Policy) -> tuple[str, ...] | None:
    """The allowed values of a text fact, with symbolic sets read from the policy."""
    if spec.choices == catalog.PLAN_NAMES:
        return tuple(policy.plans)
    if spec.choices == catalog.RESPONSE_TYPES:
        return tuple(policy.responses)
    if isinstance(spec.choices, tuple):
        return spec.choices
    return None


def fact_problem(
    name: str, value: object, spec: catalog.FactSpec, policy: Policy
) -> tuple[str, str | None] | None:
    """What is wrong with ``value`` for the fact ``name``, and a ``did you mean``; None if nothing.

    The one check of a fact given from outside the engine (``inmail decide``, ``POST /v1/decide``,
    an app asking the rule book with ``checked=True``), so a mistake reads the same at every door.
    """
    python, words = FACT_TYPES[spec.type]
    if type(value) is not python:
        return f"fact `{name}` must be {words}, not {json.dumps(value, default=str)[:80]}", None
    if isinstance(value, int) and abs(value) > catalog.MAX_FACT_INT:
        return f"fact `{name}` is out of range (at most {catalog.MAX_FACT_INT:,} either way)", None
    allowed = resolve_choices(spec, policy)
    if allowed is not None and value not in allowed:
        return f"fact `{name}` cannot be `{value}`", hint(str(value), allowed)
    return None


def plan_fact(event: str) -> str | None:
    """The fact naming the acting account's plan, which ``plan.<field>`` references expand over."""
    for name, spec in catalog.CATALOG[event].items():
        if spec.choices == catalog.PLAN_NAMES:
            return name
    return None


_TYPE_WORDS = {name: words for name, (_, words) in FACT_TYPES.items()}
_value_type = fact_type_of


# --- the reader ---------------------------------------------------------------------------


class ConditionReader(Reader):
    """Reads the conditions of one event kind's rules; problems go to ``diags``, reading goes on."""

    def __init__(self, event: str, policy: Policy, diags: Diagnostics) -> None:
        super().__init__(diags)
        self.event = event
        self.policy = policy
        self.facts = catalog.CATALOG[event]

    # values -------------------------------------------------------------------------------
    def value(self, fact: str, node: YNode) -> list[tuple[str | None, Scalar]] | None:
        """A literal or reference, checked against ``fact``; plan references give one per plan."""
        spec = self.facts[fact]
        if not isinstance(node, YScalar):
            self.d.error(
                C.type_mismatch,
                f"`{fact}` is compared with {type_name(node)}",
                node.loc,
                help=f"write a single value ({_TYPE_WORDS[spec.type]})",
            )
            return None
        raw = node.value
        if isinstance(raw, str) and raw.startswith("policy."):
            v = self._policy_ref(raw, node)
            return None if v is None or not self._check(spec, v, node, raw) else [(None, v)]
        if isinstance(raw, str) and raw.startswith("plan."):
            return self._plan_ref(spec, raw, node)
        return [(None, raw)] if self._check(spec, raw, node, None) else None

    def _check(self, spec: catalog.FactSpec, v: Any, node: YScalar, ref: str | None) -> bool:
        got = _value_type(v)
        what = f"`{ref}` (= `{_shown(v)}`)" if ref else type_name(node)
        if got != spec.type:
            self.d.error(
                C.type_mismatch,
                f"`{spec.name}` is {_TYPE_WORDS[spec.type]}, but it is compared with {what}",
                node.loc,
                help=_type_help(spec, v, ref),
            )
            return False
        if spec.type == "int" and abs(v) > catalog.MAX_FACT_INT:
            bound = f"{catalog.MAX_FACT_INT:,}"
            self.d.error(
                C.out_of_range,
                f"`{_shown(v)[:40]}` is beyond what `{spec.name}` is compared with",
                node.loc,
                help=f"numbers run from -{bound} to {bound}",
            )
            return False
        choices = resolve_choices(spec, self.policy)
        if spec.type == "str" and choices is not None and v not in choices:
            self.d.error(
                C.invalid_choice, f"`{spec.name}` is never `{v}`", node.loc, help=hint(str(v), choices)
            )
            return False
        return True

    def _policy_ref(self, raw: str, node: YScalar) -> Scalar | None:
        path = raw[len("policy.") :]
        try:
            v = self.policy.setting(path)
        except (KeyError, TypeError):
            v = None
        if v is None:
            pool = [f"policy.{p}" for p in known_paths()]
            pool += [f"policy.plans.{n}.{k}" for n in self.policy.plans for k in PLAN_KEYS]
            self.d.error(
                C.unknown_reference, f"the policy has no setting `{path}`", node.loc, help=hint(raw, pool)
            )
            return None
        if _value_type(v) is None:
            self.d.error(
                C.invalid_reference,
                f"`{raw}` is not a single value",
                node.loc,
                help="refer to a setting that holds one number, true/false or name",
            )
            return None
        return v

    def _plan_ref(
        self, spec: catalog.FactSpec, raw: str, node: YScalar
    ) -> list[tuple[str | None, Scalar]] | None:
        field = raw[len("plan.") :]
        acting = plan_fact(self.event)
        if field not in PLAN_KEYS:
            self.d.error(
                C.unknown_reference,
                f"plans have no field `{field}`",
                node.loc,
                help=hint(raw, [f"plan.{k}" for k in PLAN_KEYS]),
            )
            return None
        if acting is None:
            self.d.error(
                C.plan_reference_unavailable,
                f"`{self.event}` events have no acting account plan, so `{raw}` means nothing",
                node.loc,
                help="use a literal or a `policy.` setting",
            )
            return None
        out: list[tuple[str | None, Scalar]] = []
        for name, plan in self.policy.plans.items():
            v = getattr(plan, field)
            if not self._check(spec, v, node, raw):
                return None
            out.append((name, v))
        return out

    # conditions ---------------------------------------------------------------------------
    def cond(self, node: YNode, neg: bool) -> Cond | None:
        """Parse a condition mapping; ``neg`` asks for its negation (pushed to the leaves)."""
        if not isinstance(node, YMap):
            self.mapping(node, "a condition", help="write `fact: value`, or `all:` / `any:` / `not:`")
            return None
        if not node.items:
            self.d.error(
                C.empty_condition,
                "this condition is empty",
                node.loc,
                help="leave out `when` for a rule that always applies",
            )
            return None
        return _conjoin([self._entry(node, key, sub, neg) for key, sub in node.items.items()], neg)

    def _entry(self, parent: YMap, key: str, sub: YNode, neg: bool) -> Cond | None:
        if key in ("all", "any"):
            if not isinstance(sub, YSeq) or not sub.items:
                self.d.error(C.wrong_type, f"`{key}` needs a non-empty list of conditions", sub.loc)
                return None
            items = [self.cond(item, neg) for item in sub.items]
            if any(i is None for i in items):
                return None
            conj = (key == "all") != neg
            good = [i for i in items if i is not None]
            return all_of(good) if conj else any_of(good)
        if key == "not":
            return self.cond(sub, not neg)
        if key not in self.facts:
            self.d.error(
                C.unknown_fact,
                f"`{self.event}` rules have no fact `{key}`",
                parent.key_loc(key),
                help=elsewhere(key, catalog.CATALOG, self.event) or hint(key, [*self.facts, *COMBINATORS]),
            )
            return None
        if isinstance(sub, YMap):
            return self._operators(key, sub, neg)
        return self._compare(key, "is", sub, neg)

    def _operators(self, fact: str, node: YMap, neg: bool) -> Cond | None:
        if not node.items:
            self.d.error(
                C.empty_condition, f"no test for `{fact}`", node.loc, help=f"write e.g. `{fact}: {{is: ...}}`"
            )
            return None
        return _conjoin(
            [self._compare(fact, op, sub, neg, node.key_loc(op)) for op, sub in node.items.items()], neg
        )

    def _compare(
        self, fact: str, op: str, node: YNode, neg: bool, op_loc: Location | None = None
    ) -> Cond | None:
        spec = self.facts[fact]
        where = op_loc or node.loc
        if op not in OPERATORS and op not in LIST_OPERATORS:
            self.d.error(
                C.unknown_operator,
                f"unknown test `{op}` on `{fact}`",
                where,
                help=hint(op, [*OPERATORS, *LIST_OPERATORS]),
            )
            return None
        if op in COMPARISONS and spec.type != "int":
            self.d.error(
                C.invalid_operator,
                f"`{op}` compares numbers, but `{fact}` is {_TYPE_WORDS[spec.type]}",
                where,
                help="use `is`, `not`, `in` or `not_in`",
            )
            return None
        if op in LIST_OPERATORS:
            return self._in_list(fact, op, node, neg, where)
        values = self.value(fact, node)
        if values is None:
            return None
        return self._expand(fact, OPERATORS[op], values, neg)

    def _in_list(self, fact: str, op: str, node: YNode, neg: bool, where: Location) -> Cond | None:
        if not isinstance(node, YSeq) or not node.items:
            self.d.error(
                C.wrong_type,
                f"`{op}` needs a non-empty list of values",
                node.loc,
                help=f"write e.g. `{fact}: {{{op}: [a, b]}}`",
            )
            return None
        if len(node.items) > MAX_IN_LIST:
            self.d.error(
                C.list_too_long,
                f"`{op}` lists {len(node.items)} values, more than {MAX_IN_LIST}",
                where,
                help="name fewer values, or compare with `below`/`above`",
            )
            return None
        parts: list[Cond] = []
        ok = True
        for item in node.items:
            values = self.value(fact, item)
            if values is None:
                ok = False
                continue
            parts.append(self._expand(fact, "eq", values, neg != (op == "not_in")))
        if not ok:
            return None
        positive = (op == "in") != neg
        return any_of(parts) if positive else all_of(parts)

    def _expand(self, fact: str, op: str, values: list[tuple[str | None, Scalar]], neg: bool) -> Cond:
        """``fact op v``, negated if asked; plan references become one branch per plan."""
        op = NEGATED[op] if neg else op
        spec = self.facts[fact]
        if len(values) == 1 and values[0][0] is None:
            return _cmp(spec, op, values[0][1])
        if len({v for _, v in values}) == 1:  # every plan gives the same value
            return _cmp(spec, op, values[0][1])
        acting = plan_fact(self.event)
        assert acting is not None
        if not neg:
            return any_of([all_of([Cmp(acting, "eq", p or ""), _cmp(spec, op, v)]) for p, v in values])
        return all_of([any_of([Cmp(acting, "ne", p or ""), _cmp(spec, op, v)]) for p, v in values])


def _cmp(spec: catalog.FactSpec, op: str, value: Scalar) -> Cmp:
    """A leaf; ``!=`` on a true/false fact is written as ``==`` the other value."""
    if spec.type == "bool" and op == "ne":
        return Cmp(spec.name, "eq", not value)
    return Cmp(spec.name, op, value)


def _type_help(spec: catalog.FactSpec, v: Any, ref: str | None) -> str:
    if ref is not None:
        return f"refer to a setting that holds {_TYPE_WORDS[spec.type]}"
    if spec.type == "bool":
        return "write `true` or `false` without quotes"
    if spec.type == "int":
        return "write a whole number without quotes" if isinstance(v, str) else "write a whole number"
    return "write one of the names (quotes keep `true`, `false` and numbers as text)"


def _shown(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def elsewhere(name: str, table: Mapping[str, Any], event: str) -> str | None:
    """``x is a fact of `purchase` events only`` when a name belongs to other event kinds."""
    kinds = [k for k, names in table.items() if k != event and name in names]
    if not kinds:
        return None
    shown = ", ".join(f"`{k}`" for k in kinds)
    return f"`{name}` belongs to {shown} rules, not `{event}` rules"


def _conjoin(parts: list[Cond | None], neg: bool) -> Cond | None:
    """All of ``parts`` (any of them under a negation, by De Morgan); None if one was invalid.

    Every part is read before combining, so each invalid entry reports its own diagnostic.
    """
    good = [p for p in parts if p is not None]
    if len(good) != len(parts):
        return None
    return any_of(good) if neg else all_of(good)
