"""Rules files: read ``rules/*.yaml``, check them against the fact catalog, normalise them.

A policy editor writes conditions in a small, forgiving grammar (``fact: value``,
``{below: n}``, ``all``/``any``/``not``, values taken from ``policies.yaml``).
This module turns each file into frozen :class:`Rule` models whose conditions
(read by :mod:`engine.rules.conditions`) are a tiny AST -- :class:`Cmp` leaves
under :class:`All` / :class:`AnyOf` -- with ``not`` already pushed down to the
leaves (De Morgan), ``in`` lists expanded, and ``policy.`` / ``plan.``
references resolved to literals. The compiler (:mod:`engine.rules._durable`) and the
linter (:mod:`engine.rules.lint`) consume only that AST, so neither has to know the
surface grammar, and nothing is ever evaluated with ``eval``. Every problem
becomes a diagnostic pointing at the text; loading raises once, with all of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.codes import C
from engine.policy import Policy
from engine.rules import catalog
from engine.rules.conditions import (
    COMBINATORS,
    LIST_OPERATORS,
    MAX_IN_LIST,
    OPERATORS,
    All,
    AnyOf,
    Cmp,
    Cond,
    ConditionReader,
    Scalar,
    all_of,
    any_of,
    elsewhere,
    holds,
    leaves,
    plan_fact,
    resolve_choices,
)
from engine.source.diagnostics import Diagnostics, Location, closest, hint
from engine.source.marked import YMap, YNode, YScalar, YSeq, parse_text, type_name
from engine.source.paths import requirements_for
from engine.source.reader import Reader
from engine.source.requirements import ID_FORM, declared_requirements, span

__all__ = [
    "COMBINATORS",
    "LIST_OPERATORS",
    "MAX_IN_LIST",
    "OPERATORS",
    "All",
    "AnyOf",
    "Cmp",
    "Cond",
    "Rule",
    "RuleFile",
    "Scalar",
    "all_of",
    "any_of",
    "holds",
    "leaves",
    "plan_fact",
    "read_rule_file",
    "resolve_choices",
]

RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: Where the ids a rule may cite are declared, as a diagnostic names it.
REQUIREMENTS_FILE = "features/REQUIREMENTS.md"
RULE_KEYS = ("id", "requirement", "description", "when", "then")
THEN_KEYS = ("outcome", "reason", "effects")
FILE_KEYS = ("event", "rules")


# --- models -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One rule of a rules file, checked and normalised; ``when`` None means catch-all."""

    id: str
    event: str
    position: int
    requirements: tuple[str, ...]
    description: str
    when: Cond | None
    outcome: str
    reason: str | None
    effects: tuple[str, ...]
    loc: Location

    @property
    def catch_all(self) -> bool:
        return self.when is None


@dataclass(frozen=True)
class RuleFile:
    """The rules of one event kind, in the order they are tried."""

    event: str
    path: str
    rules: tuple[Rule, ...]
    loc: Location
    #: the file's text, as read (a store keeps it so that the log can be replayed under it)
    text: str = field(default="", repr=False, compare=False)

    def facts_read(self) -> tuple[str, ...]:
        """The facts any rule reads, in catalog order (the memo key and the lint domain)."""
        used = {leaf.fact for r in self.rules for leaf in leaves(r.when)}
        return tuple(name for name in catalog.CATALOG[self.event] if name in used)


# --- the loader ---------------------------------------------------------------------------


class _FileReader(ConditionReader):
    """Reads one rules file: its rules' ids, requirements, texts and ``then`` (conditions: the base).

    ``requirements`` are the ids a rule may cite (those the requirements file declares); None when
    that file could not be read, and then any id written like one (``R09``) is taken.
    """

    def __init__(
        self, event: str, policy: Policy, diags: Diagnostics, requirements: Sequence[str] | None
    ) -> None:
        super().__init__(event, policy, diags)
        self.requirements = requirements

    # rules --------------------------------------------------------------------------------
    def rule(self, node: YNode, position: int, seen: dict[str, Location]) -> Rule | None:
        if not isinstance(node, YMap):
            self.mapping(node, "a rule")
            return None
        errors = len(self.d.errors)
        self.unknown_keys(node, RULE_KEYS, "a rule")
        rule_id = self._rule_id(node, seen)
        requirements = self._requirements(node)
        description = self._text(node, "description")
        when: Cond | None = None
        if "when" in node:
            when = self.cond(node.items["when"], False)
        outcome, reason, effects = self._then(node)
        if len(self.d.errors) > errors or rule_id is None or outcome is None:
            return None
        return Rule(
            rule_id,
            self.event,
            position,
            requirements,
            description or "",
            when,
            outcome,
            reason,
            effects,
            node.loc,
        )

    def _rule_id(self, node: YMap, seen: dict[str, Location]) -> str | None:
        idn = node.get("id")
        if idn is None:
            self.d.error(C.missing_key, "a rule has no `id`", node.loc, help="add `id: some-name`")
            return None
        if not (isinstance(idn, YScalar) and isinstance(idn.value, str) and RULE_ID.match(idn.value)):
            shown = idn.value if isinstance(idn, YScalar) else type_name(idn)
            self.d.error(
                C.invalid_rule_id,
                f"rule id `{shown}` must be lowercase words joined by `-`",
                idn.loc,
                help="e.g. `no-credits`",
            )
            return None
        if idn.value in seen:
            self.d.error(
                C.duplicate_rule_id,
                f"two rules are called `{idn.value}`",
                idn.loc,
                help=f"the first is at line {seen[idn.value].line}; rule ids must be unique",
            )
            return None
        seen[idn.value] = idn.loc
        return str(idn.value)

    def _requirements(self, node: YMap) -> tuple[str, ...]:
        req = node.get("requirement")
        if req is None:
            return ()  # lint reports missing_requirement
        items = list(req.items) if isinstance(req, YSeq) else [req]
        out: list[str] = []
        for item in items:
            v = item.value if isinstance(item, YScalar) else None
            known = self.requirements
            if not (isinstance(v, str) and (v in known if known is not None else ID_FORM.match(v))):
                shown = v if isinstance(item, YScalar) else type_name(item)
                self.d.error(
                    C.invalid_requirement,
                    f"`{shown}` is not a requirement id",
                    item.loc,
                    help=f"{REQUIREMENTS_FILE} declares {span(known)}"
                    if known is not None
                    else "a requirement id is written like `R09`",
                )
                continue
            out.append(v)
        return tuple(out)

    def _text(self, node: YMap, key: str) -> str | None:
        sub = node.get(key)
        if sub is None:
            self.d.error(
                C.missing_key,
                f"a rule has no `{key}`",
                node.loc,
                help="say in plain words what the rule is for",
            )
            return None
        if not (isinstance(sub, YScalar) and isinstance(sub.value, str) and sub.value.strip()):
            self.d.error(C.wrong_type, f"`{key}` must be text, found {type_name(sub)}", sub.loc)
            return None
        return " ".join(sub.value.split())

    def _then(self, node: YMap) -> tuple[str | None, str | None, tuple[str, ...]]:
        then = node.get("then")
        if then is None:
            self.d.error(C.missing_key, "a rule has no `then`", node.loc, help="add `then: {outcome: ...}`")
            return None, None, ()
        if not isinstance(then, YMap):
            self.mapping(then, "`then`")
            return None, None, ()
        self.unknown_keys(then, THEN_KEYS, "`then`")
        outcome = self._word(then, "outcome", catalog.OUTCOMES[self.event], C.unknown_outcome, True)
        reason = self._word(then, "reason", catalog.REASONS[self.event], C.unknown_reason, False)
        if outcome is not None:
            self._reason_fits(then, outcome, reason)
        effects: list[str] = []
        eff = then.get("effects")
        if eff is not None:
            if not isinstance(eff, YSeq):
                self.d.error(
                    C.wrong_type,
                    f"`effects` must be a list, found {type_name(eff)}",
                    eff.loc,
                    help="write e.g. `effects: [consume_credit]`",
                )
            else:
                allowed = tuple(catalog.EFFECTS[self.event])
                for item in eff.items:
                    v = item.value if isinstance(item, YScalar) else None
                    if not isinstance(v, str) or v not in allowed:
                        shown = v if isinstance(item, YScalar) else type_name(item)
                        self.d.error(
                            C.unknown_effect,
                            f"`{self.event}` rules have no effect `{shown}`",
                            item.loc,
                            help=elsewhere(str(shown), catalog.EFFECTS, self.event)
                            or (hint(str(shown), allowed) if allowed else None),
                        )
                    elif v in effects:
                        self.d.error(C.duplicate_effect, f"the effect `{v}` is listed twice", item.loc)
                    elif outcome is not None and v not in catalog.OUTCOME_EFFECTS.get(
                        (self.event, outcome), allowed
                    ):
                        fits = catalog.OUTCOME_EFFECTS[(self.event, outcome)]
                        self.d.error(
                            C.effect_not_applicable,
                            f"a `{outcome}` {self.event} cannot `{v}`",
                            item.loc,
                            help=f"`{outcome}` allows only " + ", ".join(f"`{e}`" for e in fits),
                        )
                    else:
                        effects.append(v)
        return outcome, reason, tuple(effects)

    def _reason_fits(self, then: YMap, outcome: str, reason: str | None) -> None:
        """A refusal or a skip says why; any other outcome gives no reason."""
        reasons = catalog.REASONS[self.event]
        if outcome in catalog.REASONED_OUTCOMES and reason is None and "reason" not in then:
            self.d.error(
                C.missing_reason,
                f"`{outcome}` needs a reason",
                then.key_loc("outcome"),
                help="add `reason:`, one of " + ", ".join(f"`{r}`" for r in reasons),
            )
        elif outcome not in catalog.REASONED_OUTCOMES and reason is not None:
            self.d.error(
                C.reason_not_allowed,
                f"`{outcome}` takes no reason",
                then.key_loc("reason"),
                help="remove `reason:`; only a refusal or a skip says why",
            )

    def _word(self, then: YMap, key: str, allowed: tuple[str, ...], code: C, required: bool) -> str | None:
        sub = then.get(key)
        if sub is None:
            if required:
                self.d.error(
                    C.missing_key,
                    f"`then` has no `{key}`",
                    then.loc,
                    help=hint("", allowed) if allowed else None,
                )
            return None
        v = sub.value if isinstance(sub, YScalar) else None
        if isinstance(v, str) and v in allowed:
            return v
        shown = v if isinstance(sub, YScalar) else type_name(sub)
        table = catalog.OUTCOMES if key == "outcome" else catalog.REASONS
        help_ = hint(str(shown), allowed) if allowed else f"`{self.event}` rules give no {key}"
        if allowed and not (isinstance(v, str) and closest(v, allowed)):
            help_ = elsewhere(str(shown), table, self.event) or help_
        self.d.error(code, f"`{self.event}` rules have no {key} `{shown}`", sub.loc, help=help_)
        return None


def read_rule_file(
    path: Path,
    display: str,
    text: str,
    policy: Policy,
    diags: Diagnostics,
    requirements: Sequence[str] | None = None,
) -> RuleFile | None:
    """Check one rules file; None (with diagnostics) if its structure is unusable.

    ``requirements``: the ids its rules may cite (default: those of the requirements file for
    the file's folder, :func:`~engine.source.paths.requirements_for`).
    """
    if requirements is None:
        requirements = declared_requirements(requirements_for(path.parent))
    before = len(diags.errors)
    node = parse_text(text, display, diags)
    if node is None or len(diags.errors) > before:
        return None  # a value the parser dropped would only cause knock-on errors
    shapes = Reader(diags)
    if not isinstance(node, YMap):
        shapes.mapping(node, "a rules file", help="start with `event:` and `rules:`")
        return None
    shapes.unknown_keys(node, FILE_KEYS, "a rules file")
    ev = node.get("event")
    stem = path.stem
    if ev is None:
        diags.error(C.missing_key, "the file has no `event`", node.loc, help=f"add `event: {stem}`")
        return None
    event = ev.value if isinstance(ev, YScalar) else None
    if not (isinstance(event, str) and event in catalog.EVENT_KINDS):
        shown = event if isinstance(ev, YScalar) else type_name(ev)
        diags.error(
            C.unknown_event,
            f"there is no event kind `{shown}`",
            ev.loc,
            help=hint(str(shown), catalog.EVENT_KINDS),
        )
        return None
    if event != stem:
        diags.error(
            C.event_mismatch,
            f"the file `{path.name}` holds `{event}` rules",
            ev.loc,
            help=f"each event kind has its own file: write `event: {stem}` or move the rules "
            f"to `{event}.yaml`",
        )
        return None
    rules_node = node.get("rules")
    if not isinstance(rules_node, YSeq) or not rules_node.items:
        where = rules_node.loc if rules_node is not None else node.loc
        diags.error(
            C.missing_key,
            "the file needs a non-empty `rules:` list",
            where,
            help="every event kind needs at least a catch-all rule",
        )
        return None
    reader = _FileReader(event, policy, diags, requirements)
    seen: dict[str, Location] = {}
    rules = [reader.rule(r, i, seen) for i, r in enumerate(rules_node.items)]
    if len(diags.errors) > before:
        return None
    return RuleFile(event, display, tuple(r for r in rules if r is not None), node.loc)
