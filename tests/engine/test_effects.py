"""The effect table: every effect the catalog offers has exactly one handler, and needs are checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import engine
from engine.core.effects import TABLE, Act, carry_out
from engine.ledger.state import Cause
from engine.rules import catalog
from engine.source.paths import packaged_policy_path, packaged_rules_dir


def test_the_table_implements_exactly_the_catalog_effects() -> None:
    implemented = {(e.event, name) for name, e in TABLE.items()}
    offered = {(event, name) for event, names in catalog.EFFECTS.items() for name in names}
    assert implemented == offered, (
        f"effects without a handler: {sorted(offered - implemented)}; "
        f"handlers for no catalog effect: {sorted(implemented - offered)}"
    )


def _edited_rules(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the shipped rules with ``old`` replaced by ``new`` in ``file``."""
    rules = tmp_path / "rules"
    shutil.copytree(packaged_rules_dir(), rules)
    text = (rules / file).read_text()
    assert old in text
    (rules / file).write_text(text.replace(old, new))
    return rules


def test_effects_run_in_table_order_whatever_the_rule_says(tmp_path: Path) -> None:
    rules = _edited_rules(
        tmp_path, "renew.yaml", "[grant_allotment, apply_cap]", "[apply_cap, grant_allotment]"
    )
    policy = tmp_path / "policies.yaml"
    base = packaged_policy_path().read_text()
    policy.write_text(base.replace("lifetime_days: 90 ", "lifetime_days: 900", 1))
    with engine.Engine.open(policy=policy, rules=rules) as eng:
        eng.subscribe("alice", "career", at="2026-01-01T00:00:00Z")
        # five grants of 5 that never expire, on a cap of 15: capping after each grant keeps 15
        # (capping before it, as the rule lists them, would leave 20)
        assert eng.balance("alice", at="2026-05-01T00:00:00Z").credits == 15


def test_a_rule_whose_effects_do_not_fit_its_outcome_is_refused_at_load(tmp_path: Path) -> None:
    rules = _edited_rules(
        tmp_path, "send.yaml", "effects: [offer_purchase]", "effects: [offer_purchase, consume_credit]"
    )
    with pytest.raises(engine.InvalidRules) as info:
        engine.Engine.open(rules=rules)
    assert [d.code for d in info.value.diagnostics] == ["effect_not_applicable"]


def test_an_effect_without_what_it_needs_is_refused_before_anything_changes() -> None:
    """The table's own guard, behind the loader's: no handler runs when one lacks its input."""
    with engine.Engine.open() as eng:
        eng.subscribe("alice", "career", at="2026-01-01T00:00:00Z")
        ctx = eng._ctx
        with eng._store.unit() as u:
            acct = ctx.load(u, "alice")
            assert acct is not None
            before = (acct.balance, len(acct.entries))
            act = Act(
                ctx,
                u,
                acct,
                acct.clock,
                Cause("send", "some-rule", ("R01",)),
                ("offer_purchase", "consume_credit"),
            )
            with pytest.raises(engine.RuleEngineFailure, match="consume_credit"):
                carry_out(act)
            assert (acct.balance, len(acct.entries)) == before and not act.purchase_possible
