"""Lint for rules files: the mistakes that load fine but decide wrongly.

"First match decides" makes order matter, so three things are checked after a
file is otherwise valid: the last rule is a catch-all (every event gets a
decision), no catch-all hides the rules after it, and no rule is *shadowed*
(every situation it matches is already decided by a rule above it, so it
can never fire). Shadowing is decided exactly, not by sampling: the facts the
rules read have a finite set of situations that matter -- true/false, the
choices of a text fact, and for a number the values at and beside each
constant it is compared with -- and a small search with three-valued
evaluation (true / false / not yet known) looks for a situation where rule k
matches and no earlier rule does. The search stops early on any branch that
is already decided, so it stays fast on realistic files; if it ever runs past
its budget it says nothing rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.codes import C
from engine.policy import Policy
from engine.rules import catalog
from engine.rules.conditions import OPS
from engine.rules.reader import All, AnyOf, Cmp, Cond, Rule, RuleFile, Scalar, leaves, resolve_choices
from engine.source.diagnostics import Diagnostics

#: Search nodes per rule before the shadowing check gives up (silently).
SEARCH_BUDGET = 200_000


def lint_file(rf: RuleFile, policy: Policy, diags: Diagnostics) -> None:
    """Add lint errors and warnings for one (otherwise valid) rules file."""
    for rule in rf.rules:
        if not rule.requirements:
            diags.error(
                C.missing_requirement,
                f"rule `{rule.id}` cites no requirement",
                rule.loc,
                help="add `requirement: Rxx` naming what the rule implements",
            )
    catch_alls = [r for r in rf.rules if r.catch_all]
    last = rf.rules[-1] if rf.rules else None
    for r in catch_alls:
        if r is not last:
            after = ", ".join(f"`{x.id}`" for x in rf.rules[r.position + 1 :])
            diags.error(
                C.catch_all_not_last,
                f"rule `{r.id}` has no `when`, so the rules after it never fire: {after}",
                r.loc,
                help="give it a `when`, or move it to the end of the file",
            )
    if last is not None and not last.catch_all:
        diags.error(
            C.missing_catch_all,
            f"the last `{rf.event}` rule `{last.id}` has a `when`, so some events would get no decision",
            last.loc,
            help="end the file with a rule without `when` that says what happens otherwise",
        )
    if len(catch_alls) > 1 or (catch_alls and catch_alls[-1] is not last):
        return  # shadowing is reported once the order is fixed
    for k, rule in enumerate(rf.rules):
        verdict = witness(rf.rules[:k], rule, rf.event, policy)
        if verdict is None:
            continue
        if verdict is False:
            earlier = [
                r.id for r in rf.rules[:k] if witness([], r, rf.event, policy, extra=rule) is not False
            ]
            if witness([], rule, rf.event, policy) is False:
                diags.warning(
                    C.unsatisfiable_rule,
                    f"rule `{rule.id}` can never match",
                    rule.loc,
                    help="its conditions contradict each other",
                )
            else:
                shown = ", ".join(f"`{e}`" for e in earlier) or "the rules above it"
                diags.warning(
                    C.shadowed_rule,
                    f"rule `{rule.id}` never fires: every event it matches is decided earlier by {shown}",
                    rule.loc,
                    help="move it above those rules, or remove it",
                )


def domains(conds: list[Cond | None], event: str, policy: Policy) -> dict[str, tuple[Scalar, ...]]:
    """The values of each fact read by ``conds`` that together cover every distinct situation."""
    specs = catalog.CATALOG[event]
    consts: dict[str, set[Any]] = {}
    for c in conds:
        for leaf in leaves(c):
            consts.setdefault(leaf.fact, set()).add(leaf.value)
    out: dict[str, tuple[Scalar, ...]] = {}
    for name in specs:
        if name not in consts:
            continue
        spec = specs[name]
        if spec.type == "bool":
            out[name] = (False, True)
        elif spec.type == "int":
            out[name] = tuple(sorted({c + d for c in consts[name] for d in (-1, 0, 1)}))
        else:
            choices = resolve_choices(spec, policy)
            out[name] = tuple(choices) if choices is not None else (*sorted(consts[name]), "\0other")
    return out


def witness(
    earlier: tuple[Rule, ...] | list[Rule], rule: Rule, event: str, policy: Policy, extra: Rule | None = None
) -> dict[str, Scalar] | bool | None:
    """A situation where ``rule`` (and ``extra``) match and no ``earlier`` rule does.

    Returns the facts of such a situation, False if none exists, or None if the
    search ran out of budget.
    """
    must: list[Cond] = [c for c in (rule.when, extra.when if extra else None) if c is not None]
    mustnt = [r.when for r in earlier]
    if any(c is None for c in mustnt):
        return False  # an earlier catch-all decides everything
    conds: list[Cond | None] = [*must, *mustnt]
    dom = domains(conds, event, policy)
    names = list(dom)
    budget = [SEARCH_BUDGET]

    def search(i: int, assign: dict[str, Scalar]) -> dict[str, Scalar] | bool | None:
        budget[0] -= 1
        if budget[0] < 0:
            return None
        status = _status(must, mustnt, assign)
        if status is False:
            return False
        if status is True:
            return dict(assign)
        if i == len(names):
            return False
        unknown = False
        for v in dom[names[i]]:
            assign[names[i]] = v
            got = search(i + 1, assign)
            del assign[names[i]]
            if got is None:
                unknown = True
            elif got is not False:
                return got
        return None if unknown else False

    return search(0, {})


def _status(must: list[Cond], mustnt: list[Cond | None], assign: Mapping[str, Scalar]) -> bool | None:
    """True: every ``must`` holds and no ``mustnt`` does; False: impossible; None: not yet known."""
    known = True
    for c in must:
        t = value3(c, assign)
        if t is False:
            return False
        if t is None:
            known = False
    for other in mustnt:
        assert other is not None
        t = value3(other, assign)
        if t is True:
            return False
        if t is None:
            known = False
    return True if known else None


def value3(cond: Cond, assign: Mapping[str, Scalar]) -> bool | None:
    """Three-valued evaluation: None when the facts assigned so far do not decide it."""
    if isinstance(cond, Cmp):
        if cond.fact not in assign:
            return None
        return bool(OPS[cond.op].test(assign[cond.fact], cond.value))
    if isinstance(cond, All):
        result: bool | None = True
        for item in cond.items:
            t = value3(item, assign)
            if t is False:
                return False
            if t is None:
                result = None
        return result
    assert isinstance(cond, AnyOf)
    result = False
    for item in cond.items:
        t = value3(item, assign)
        if t is True:
            return True
        if t is None:
            result = None
    return result
