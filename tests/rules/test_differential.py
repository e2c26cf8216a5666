"""Differential tests: the durable_rules path agrees with an independent interpreter of the YAML.

* The shipped rules: ``INMAIL_DIFF_N`` random fact sets per event kind (default 2000),
  decided with the memo on and off, against :class:`rules_oracle.Oracle`.
* Random rules files generated from the grammar (``INMAIL_DIFF_FILES`` files, default 60,
  ``INMAIL_DIFF_FILE_N`` fact sets each): this is what finds compiler bugs. For each one
  the linter is checked too: a rule it calls shadowed never fires, and for every other
  rule the situation the linter found makes durable_rules fire exactly that rule.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import InvalidRules
from engine.policy import Policy
from engine.rules import catalog
from engine.rules.book import RuleBook
from engine.rules.lint import witness
from engine.rules.reader import holds

from .rules_oracle import Oracle, RuleGen, int_constants, random_facts

DIFF_N = int(os.environ.get("INMAIL_DIFF_N", "2000"))
DIFF_FILES = int(os.environ.get("INMAIL_DIFF_FILES", "60"))
DIFF_FILE_N = int(os.environ.get("INMAIL_DIFF_FILE_N", "300"))
LIMIT_CODES = {"rule_too_complex", "too_many_comparisons", "too_many_rules"}


@pytest.mark.parametrize("event", catalog.EVENT_KINDS)
def test_shipped_rules_agree_with_oracle(event: str, policy: Policy, rules_dir: Path) -> None:
    path = rules_dir / f"{event}.yaml"
    oracle = Oracle.from_file(path, policy)
    consts = int_constants(yaml.safe_load(path.read_text(encoding="utf-8")), policy)
    rng = random.Random(f"shipped-{event}")
    with (
        RuleBook.load(rules_dir, policy, memo=True) as memo_on,
        RuleBook.load(rules_dir, policy, memo=False) as memo_off,
    ):
        for _ in range(DIFF_N):
            facts = random_facts(event, policy, rng, consts)
            want = oracle.decide(facts)
            got_on = memo_on.decide(event, facts).rule
            got_off = memo_off.decide(event, facts).rule
            assert (got_on, got_off) == (want, want), facts


def _complete(event: str, partial: dict[str, Any], policy: Policy, rng: random.Random) -> dict[str, Any]:
    facts = random_facts(event, policy, rng, set())
    facts.update(partial)
    return facts


@pytest.mark.parametrize("seed", range(DIFF_FILES))
def test_random_rules_files_agree_with_oracle(
    seed: int, policy: Policy, rules_dir: Path, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    event = catalog.EVENT_KINDS[seed % len(catalog.EVENT_KINDS)]
    work = tmp_path / "rules"
    shutil.copytree(rules_dir, work)
    for _ in range(50):  # a generated file may exceed durable_rules' limits: that must be a diagnostic
        doc = RuleGen(event, policy, rng).document()
        text = yaml.safe_dump(doc, sort_keys=False)
        (work / f"{event}.yaml").write_text(text, encoding="utf-8")
        try:
            book = RuleBook.load(work, policy, memo=seed % 2 == 0)
            break
        except InvalidRules as exc:
            assert {d.code for d in exc.diagnostics if d.severity == "error"} <= LIMIT_CODES, exc
    else:
        pytest.fail("no generated rules file within limits")
    oracle = Oracle(doc, policy)
    consts = int_constants(doc, policy)
    with book:
        shadowed = {
            w.message.split("`")[1]
            for w in book.warnings
            if w.code in ("shadowed_rule", "unsatisfiable_rule")
        }
        fired = set()
        for _ in range(DIFF_FILE_N):
            facts = random_facts(event, policy, rng, consts)
            want = oracle.decide(facts)
            got = book.decide(event, facts).rule
            assert got == want, (text, facts)
            # the loader's AST alone must agree too: tells loader bugs from compiler bugs
            assert next(r.id for r in book.rules(event) if holds(r.when, facts)) == want, (text, facts)
            fired.add(got)
        assert not (fired & shadowed), text
        rules = book.rules(event)
        for k, rule in enumerate(rules):
            found = witness(rules[:k], rule, event, policy)
            assert found is not None, "lint search ran out of budget"
            assert (found is False) == (rule.id in shadowed), (text, rule.id)
            if found is not False:
                assert isinstance(found, dict)
                facts = _complete(event, found, policy, rng)
                assert book.decide(event, facts).rule == rule.id, (text, facts)
                assert oracle.decide(facts) == rule.id, (text, facts)
