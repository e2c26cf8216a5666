"""Table-driven decisions of the shipped rules (``tests/cases/rules/decisions/<event>.yaml``).

Each case names an event, the facts that differ from the ``inmail decide``
defaults, and the rule, outcome and reason expected; every rule of every
shipped file must be the expected answer of at least one case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.policy import Policy
from engine.rules import catalog
from engine.rules.book import RuleBook
from engine.rules.defaults import complete_facts

CASES = Path(__file__).resolve().parents[1] / "cases" / "rules" / "decisions"


def _cases() -> list[Any]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            out.append(pytest.param(doc["event"], case, id=f"{doc['event']}: {case['note']}"))
    return out


ALL_CASES = _cases()


@pytest.mark.parametrize(("event", "case"), ALL_CASES)
def test_decision(event: str, case: dict[str, Any], book: RuleBook, policy: Policy) -> None:
    facts = complete_facts(event, dict(case.get("facts") or {}), policy)
    verdict = book.decide(event, facts)
    want = case["expect"]
    assert verdict.rule == want["rule"]
    assert verdict.outcome == want["outcome"]
    assert verdict.reason == want.get("reason")
    if "effects" in want:
        assert list(verdict.effects) == want["effects"]
    rule = next(r for r in book.rules(event) if r.id == verdict.rule)
    assert verdict.requirements == rule.requirements and verdict.requirements


def test_every_rule_has_a_case(book: RuleBook) -> None:
    covered = {(p.values[0], p.values[1]["expect"]["rule"]) for p in ALL_CASES}
    missing = [(ev, r.id) for ev in catalog.EVENT_KINDS for r in book.rules(ev) if (ev, r.id) not in covered]
    assert not missing


def test_memo_off_gives_the_same_decisions(policy: Policy, rules_dir: Path) -> None:
    with RuleBook.load(rules_dir, policy, memo=False) as plain:
        for p in ALL_CASES:
            event, case = p.values
            facts = complete_facts(event, dict(case.get("facts") or {}), policy)
            assert plain.decide(event, facts).rule == case["expect"]["rule"]
        assert all(n == 0 for n in plain.memo_info().values())
