"""A rules file as a decision table, and which of its rows decides a given situation.

Product managers read rules the way DMN, Drools and GoRules show them: one row per rule in the
order they are tried, one column per fact, each cell that rule's test on that fact (blank for
"any"), then the decision, under the hit policy "first match decides". The table is built from
the file's *text*, not from the loader's normalised conditions: :mod:`engine.rules.conditions`
pushes ``not`` down, expands ``in`` lists and resolves ``policy.`` / ``plan.`` values, but a
cell must read as it was written and point at the literal a page may change in place. Each
cell still carries the condition the loader builds for that part of the ``when`` (the same
:class:`~engine.rules.conditions.ConditionReader`), so :func:`explain` evaluates exactly what
the engine evaluates.

A ``when`` is a conjunction of entries; ``all:`` groups (and ``any:`` groups of one item) are
conjunctions too and are opened up. Each entry that names one fact, however it is written
(``fact: v``, ``{below: 1}``, ``{in: [...]}``, ``not: {fact: ...}``, an ``any:`` over one fact),
becomes part of that fact's cell; an entry over several facts goes to the row's ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.codes import C
from engine.events.base import fact_type_of
from engine.policy import Policy
from engine.rules import catalog
from engine.rules.conditions import (
    COMBINATORS,
    NEGATED,
    OPERATORS,
    OPS,
    Cond,
    ConditionReader,
    all_of,
    holds,
    resolve_choices,
)
from engine.rules.lint import lint_file
from engine.rules.reader import Rule, RuleFile
from engine.source.diagnostics import Diagnostics, Location
from engine.source.marked import YMap, YNode, YScalar, YSeq, parse_text

__all__ = ["HIT_POLICY", "Cell", "Row", "decision_table", "explain", "table_rows"]

HIT_POLICY = "first match decides"

#: Where a value sits in the document: mapping keys and list indexes from the root.
YamlPath = list[str | int]

# How tightly a piece of condition text binds, so that groups get parentheses only where needed;
# a list of several values ("one of a, b") is bracketed whenever anything is joined to it.
_ATOM, _AND, _OR, _LIST = 3, 2, 1, 0


@dataclass(frozen=True)
class Cell:
    """One cell: its words, the normalised condition it stands for, and how to edit it (or None)."""

    text: str
    cond: Cond
    edit: dict[str, Any] | None = None


@dataclass(frozen=True)
class Row:
    """One rule as a row: a cell per fact it tests (in column order) and what fits no column."""

    rule: Rule
    cells: dict[str, Cell]
    other: Cell | None


@dataclass(frozen=True)
class _Part:
    """One conjunct of a ``when`` as written: the facts it names, its words and its condition."""

    facts: tuple[str, ...]
    phrase: str  # without the fact's name (for a cell)
    text: str  # with the facts' names (for ``other``)
    prec: int
    cond: Cond
    edit: dict[str, Any] | None


# --- the table ----------------------------------------------------------------------------


def decision_table(rf: RuleFile, policy: Policy, *, file: str) -> dict[str, Any]:
    """The rules of ``rf`` as a decision table (JSON-able); ``file`` is how the page names it.

    ``rf`` must keep its text, as a :class:`~engine.rules.book.RuleBook`'s files do (else
    ValueError). The linter's findings are put on the rows they point at.
    """
    columns, rows = _table(rf, policy)
    specs = catalog.CATALOG[rf.event]
    diags = Diagnostics()
    lint_file(rf, policy, diags)
    return {
        "event": rf.event,
        "file": file,
        "hit_policy": HIT_POLICY,
        "columns": [_column(specs[name], policy) for name in columns],
        "rows": [_row_json(row, diags) for row in rows],
    }


def table_rows(rf: RuleFile, policy: Policy) -> list[Row]:
    """The rows of ``rf``'s table, with the condition behind each cell."""
    return _table(rf, policy)[1]


def explain(rf: RuleFile, policy: Policy, facts: Mapping[str, bool | int | str]) -> list[dict[str, Any]]:
    """Each row from the first to the one that decides ``facts``, and which of its cells fail.

    ``facts`` must hold every fact the rules read (complete them with
    :func:`~engine.rules.defaults.complete_facts`). Every row before the last has a failed
    cell or a failed ``other``; the last is the deciding row (``matched``).
    """
    missing = [name for name in rf.facts_read() if name not in facts]
    if missing:
        raise C.invalid_fact(
            "; ".join(f"fact `{name}` is missing" for name in missing),
            help="complete the facts with their defaults first",
        )
    out: list[dict[str, Any]] = []
    for row in table_rows(rf, policy):
        failed = [name for name, cell in row.cells.items() if not holds(cell.cond, facts)]
        other_failed = row.other is not None and not holds(row.other.cond, facts)
        matched = not failed and not other_failed
        out.append({"rule": row.rule.id, "matched": matched, "failed": failed, "other_failed": other_failed})
        if matched:
            break
    return out


def _column(spec: catalog.FactSpec, policy: Policy) -> dict[str, Any]:
    kind = _kind(spec, policy)
    out: dict[str, Any] = {"fact": spec.name, "type": kind, "doc": spec.doc}
    if kind == "choice":
        out["choices"] = list(resolve_choices(spec, policy) or ())
    return out


def _row_json(row: Row, diags: Diagnostics) -> dict[str, Any]:
    rule = row.rule
    cells: dict[str, Any] = {}
    for name, cell in row.cells.items():
        cells[name] = {"text": cell.text} if cell.edit is None else {"text": cell.text, "edit": cell.edit}
    return {
        "rule": rule.id,
        "line": rule.loc.line,
        "requirements": list(rule.requirements),
        "description": rule.description,
        "cells": cells,
        "other": row.other.text if row.other is not None else None,
        "catch_all": rule.catch_all,
        "outcome": rule.outcome,
        "reason": rule.reason,
        "effects": list(rule.effects),
        "findings": [
            {"severity": d.severity, "code": d.code, "message": d.message, "help": d.help}
            for d in diags.items
            if d.loc == rule.loc
        ],
    }


def _table(rf: RuleFile, policy: Policy) -> tuple[list[str], list[Row]]:
    """The columns (facts in the order the rules first name them) and the rows of ``rf``."""
    root, nodes = _rule_nodes(rf)
    walker = _Walker(rf.event, policy, _shared(root, set(), set()))
    columns: list[str] = []
    built: list[tuple[Rule, dict[str, list[_Part]], list[_Part]]] = []
    for rule, node in zip(rf.rules, nodes, strict=True):
        by_fact: dict[str, list[_Part]] = {}
        other: list[_Part] = []
        when = node.get("when")
        if isinstance(when, YMap):
            for part in walker.parts(when, ["rules", rule.position, "when"]):
                columns.extend(f for f in part.facts if f not in columns)
                if len(part.facts) == 1:
                    by_fact.setdefault(part.facts[0], []).append(part)
                else:
                    other.append(part)
        built.append((rule, by_fact, other))
    rows = [
        Row(
            rule,
            {name: _combine(by_fact[name], named=False) for name in columns if name in by_fact},
            _combine(other, named=True) if other else None,
        )
        for rule, by_fact, other in built
    ]
    return columns, rows


def _rule_nodes(rf: RuleFile) -> tuple[YNode, list[YMap]]:
    """The file's YAML read again from its text (marks and all), and each rule's mapping in it."""
    if not rf.text:
        raise ValueError(f"the rules file {rf.path} was read without keeping its text")
    root = parse_text(rf.text, rf.path, Diagnostics())
    seq = root.get("rules") if isinstance(root, YMap) else None
    items = seq.items if isinstance(seq, YSeq) else ()
    nodes: list[YMap] = []
    for rule in rf.rules:
        node = items[rule.position] if rule.position < len(items) else None
        ident = node.get("id") if isinstance(node, YMap) else None
        if not (isinstance(node, YMap) and isinstance(ident, YScalar) and ident.value == rule.id):
            raise ValueError(f"the text of {rf.path} does not hold rule `{rule.id}` where it was read")
        nodes.append(node)
    assert root is not None
    return root, nodes


def _shared(node: YNode | None, seen: set[Location], out: set[Location]) -> set[Location]:
    """Where a scalar stands for more than one value: a YAML anchor and its aliases are one node,
    marked where the anchor is, so a page cannot change one of them in place."""
    if isinstance(node, YScalar):
        (out if node.loc in seen else seen).add(node.loc)
    elif isinstance(node, YSeq | YMap):
        for item in node.items if isinstance(node, YSeq) else node.items.values():
            _shared(item, seen, out)
    return out


def _combine(parts: list[_Part], named: bool) -> Cell:
    """Several conjuncts as one cell: each one's words joined by "and"; editable only alone."""
    if len(parts) == 1:
        part = parts[0]
        return Cell(part.text if named else part.phrase, part.cond, None if named else part.edit)
    words = [(p.text if named else p.phrase, p.prec) for p in parts]
    return Cell(_join(words, " and ", _AND)[0], all_of([p.cond for p in parts]))


# --- the parts of a `when` ----------------------------------------------------------------


class _Walker:
    """Splits the ``when`` of each rule of one file into conjuncts; ``shared``: see :func:`_shared`."""

    def __init__(self, event: str, policy: Policy, shared: set[Location]) -> None:
        self.reader = ConditionReader(event, policy, Diagnostics())
        self.policy = policy
        self.shared = shared

    def parts(self, when: YMap, path: YamlPath) -> list[_Part]:
        """The conjuncts of a condition mapping, with ``all:`` (and one-item ``any:``) opened up."""
        out: list[_Part] = []
        for key, sub in when.items.items():
            here: YamlPath = [*path, key]
            seq = sub.items if isinstance(sub, YSeq) else ()
            items = [i for i in seq if isinstance(i, YMap)]
            if items and len(items) == len(seq) and (key == "all" or (key == "any" and len(items) == 1)):
                for j, item in enumerate(items):
                    out.extend(self.parts(item, [*here, j]))
                continue
            cond = self.reader.cond(YMap({key: sub}, when.loc, {key: when.key_loc(key)}), False)
            if cond is None:
                raise ValueError(f"`{key}` at {when.key_loc(key)} does not read under this policy")
            facts = tuple(_facts_named(key, sub, []))
            text, prec = _say_entry(key, sub, named=True)
            phrase = _say_entry(key, sub, named=False)[0] if len(facts) == 1 else text
            spec = self.reader.facts.get(key)
            edit = self.edit(spec, sub, here) if spec is not None else None
            out.append(_Part(facts, phrase, text, prec, cond, edit))
        return out

    def edit(self, spec: catalog.FactSpec, sub: YNode, path: YamlPath) -> dict[str, Any] | None:
        """How a page may change this test in place: only one comparison with a literal written here."""
        op = "is"
        if isinstance(sub, YMap) and len(sub.items) == 1:
            op = next(iter(sub.items))
            sub, path = sub.items[op], [*path, op]
        kind = _kind(spec, self.policy)
        if not (isinstance(sub, YScalar) and op in OPERATORS and kind in ("bool", "int", "choice")):
            return None
        value = sub.value
        if fact_type_of(value) != spec.type or sub.loc in self.shared:
            return None
        if isinstance(value, str) and value.startswith(("policy.", "plan.")):
            return None
        edit: dict[str, Any] = {"path": path, "type": kind, "op": op, "value": value}
        if kind == "choice":
            edit["choices"] = list(resolve_choices(spec, self.policy) or ())
        return edit


def _facts_named(key: str, sub: YNode, out: list[str]) -> list[str]:
    """The facts an entry names, in the order written (``plan.`` values do not count)."""
    if key not in COMBINATORS:
        if key not in out:
            out.append(key)
        return out
    for item in sub.items if isinstance(sub, YSeq) else (sub,):
        if isinstance(item, YMap):
            for k, v in item.items.items():
                _facts_named(k, v, out)
    return out


def _kind(spec: catalog.FactSpec, policy: Policy) -> str:
    """A column's type as a page shows it: ``bool``, ``int``, ``choice`` (names) or ``text``."""
    if spec.type == "str":
        return "choice" if resolve_choices(spec, policy) is not None else "text"
    return spec.type


# --- words --------------------------------------------------------------------------------


def _say(node: YMap, named: bool) -> tuple[str, int]:
    """A condition mapping in words (all its entries hold), and how tightly the words bind."""
    return _join([_say_entry(k, v, named) for k, v in node.items.items()], " and ", _AND)


def _say_entry(key: str, sub: YNode, named: bool) -> tuple[str, int]:
    """One entry of a condition mapping in words; ``named`` puts the fact's name before its test."""
    if key in ("all", "any"):
        items = [_say(i, named) for i in sub.items if isinstance(i, YMap)] if isinstance(sub, YSeq) else []
        return _join(items, " and " if key == "all" else " or ", _AND if key == "all" else _OR)
    if key == "not":
        if not isinstance(sub, YMap):
            return "not ?", _ATOM
        return _say_not(sub, named)
    return _join(_tests(sub, negate=False, fact=key if named else None), " and ", _AND)


def _say_not(sub: YMap, named: bool) -> tuple[str, int]:
    """``not:`` in words: a single fact's tests turned around ("not below 1" is "at least 1")."""
    if len(sub.items) == 1:
        key, inner = next(iter(sub.items.items()))
        if key == "not" and isinstance(inner, YMap):
            return _say(inner, named)
        if key not in COMBINATORS:
            return _join(_tests(inner, negate=True, fact=key if named else None), " or ", _OR)
    return f"not ({_say(sub, named)[0]})", _ATOM


def _tests(sub: YNode, negate: bool, fact: str | None) -> list[tuple[str, int]]:
    """The tests of one fact in a reader's words (``below 1``, ``one of a, b``), each after the
    fact's name if ``fact`` is given, each turned around if ``negate`` (then they are
    alternatives, by De Morgan)."""
    pairs = list(sub.items.items()) if isinstance(sub, YMap) else [("is", sub)]
    out: list[tuple[str, int]] = []
    for op, arg in pairs:
        if negate:
            op = {"in": "not_in", "not_in": "in"}.get(op) or OPS[NEGATED[OPERATORS[op]]].word
        if op in ("in", "not_in"):
            items = arg.items if isinstance(arg, YSeq) else (arg,)
            words = f"{'one' if op == 'in' else 'none'} of {', '.join(_shown(i) for i in items)}"
            out.append((words, _LIST if len(items) > 1 else _ATOM))
        elif negate and op == "not" and isinstance(arg, YScalar) and isinstance(arg.value, bool):
            out.append((f"is {_shown(YScalar(not arg.value, arg.loc))}", _ATOM))  # `not: {x: true}`
        else:
            out.append((f"{op.replace('_', ' ')} {_shown(arg)}", _ATOM))
    return [(f"{fact} {words}", prec) for words, prec in out] if fact else out


def _shown(node: YNode) -> str:
    if not isinstance(node, YScalar):
        return "?"
    return str(node.value).lower() if isinstance(node.value, bool) else str(node.value)


def _join(parts: list[tuple[str, int]], sep: str, prec: int) -> tuple[str, int]:
    """Words of several conditions joined by ``sep``; a part of another kind gets parentheses."""
    if len(parts) == 1:
        return parts[0]
    shown = [f"({text})" if p < _ATOM and p != prec else text for text, p in parts]
    return sep.join(shown), prec
