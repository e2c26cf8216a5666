"""The fact catalog, outcomes, reasons and effects: the vocabulary of rules files.

A rule may only read facts listed here for its event kind, may only decide
the outcomes and reasons listed here, and may only ask for effects the ledger
implements. Keeping the vocabulary in one table lets the rules loader check
every file against it (with ``did you mean``), lets ``rules/README.md`` be
generated from it, and tells the engine which facts it must compute.
"""

from __future__ import annotations

from engine.events import KINDS
from engine.events.base import MESSAGE_KINDS, PAYMENT_STATUSES, PLAN_NAMES, RESPONSE_TYPES, FactSpec, FactType

__all__ = [
    "CATALOG",
    "EFFECTS",
    "EVENT_KINDS",
    "MAX_FACT_INT",
    "MESSAGE_KINDS",
    "OUTCOMES",
    "OUTCOME_EFFECTS",
    "PAYMENT_STATUSES",
    "PLAN_NAMES",
    "REASONED_OUTCOMES",
    "REASONS",
    "RESPONSE_TYPES",
    "FactSpec",
    "FactType",
    "fact_names",
]

#: The largest whole number a fact or a rule's literal may hold. durable_rules compares numbers as
#: C doubles, exact only to 2**53; this bound keeps every comparison exact with room to spare.
MAX_FACT_INT = 10**15

CATALOG: dict[str, dict[str, FactSpec]] = {
    kind.name: {f.name: f for f in kind.all_facts} for kind in KINDS.values()
}

EVENT_KINDS: tuple[str, ...] = tuple(KINDS)

#: Outcomes each event kind may decide, and the reasons that may go with them.
OUTCOMES: dict[str, tuple[str, ...]] = {kind.name: kind.outcomes for kind in KINDS.values()}

REASONS: dict[str, tuple[str, ...]] = {kind.name: kind.reasons for kind in KINDS.values()}

#: Outcomes that refuse or skip something: they must name a reason, and the others must not.
REASONED_OUTCOMES = frozenset({"denied", "not_credited", "skipped"})

#: Outcomes that allow only some of their event's effects (a denied send creates no message, so
#: nothing that needs one can happen).
OUTCOME_EFFECTS: dict[tuple[str, str], tuple[str, ...]] = {
    (kind.name, outcome): effects
    for kind in KINDS.values()
    for outcome, effects in kind.outcome_effects.items()
}

#: Effects the ledger implements, per event kind, with what each does.
EFFECTS: dict[str, dict[str, str]] = {kind.name: dict(kind.effects) for kind in KINDS.values()}


def fact_names(event: str) -> list[str]:
    """The facts an event kind provides, in catalog order."""
    return list(CATALOG[event])
