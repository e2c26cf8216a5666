"""Engine.reload: a changed policy or rules folder is swapped in only when it validates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import Engine, InvalidCall, InvalidPolicy, InvalidRules
from engine.source.paths import packaged_policy_path, packaged_rules_dir


@pytest.fixture
def sources(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "policies.yaml"
    shutil.copy(packaged_policy_path(), policy)
    rules = tmp_path / "rules"
    shutil.copytree(packaged_rules_dir(), rules)
    return policy, rules


def test_reload_applies_new_numbers_from_the_next_renewal(sources: tuple[Path, Path]) -> None:
    policy, rules = sources
    with Engine.open(policy=policy, rules=rules) as eng:
        assert eng.subscribe("alice", "career", at="2026-01-15").balance == 5
        before = eng.revision
        policy.write_text(policy.read_text().replace("monthly_allotment: 5 ", "monthly_allotment: 7 "))
        assert eng.reload(policy=policy, rules=rules) != before
        assert eng.policy.plans["career"].monthly_allotment == 7
        assert eng.balance("alice", at="2026-02-15").credits == 12
        d = eng.send("alice", "carol", at="2026-02-16")
        assert d.outcome == "sent" and d.revision == eng.revision


def test_a_reload_that_fails_validation_changes_nothing(sources: tuple[Path, Path]) -> None:
    policy, rules = sources
    with Engine.open(policy=policy, rules=rules) as eng:
        eng.subscribe("alice", "career", at="2026-01-15")
        revision = eng.revision
        bad_policy = policy.with_name("bad.yaml")
        bad_policy.write_text(policy.read_text().replace("monthly_allotment: 5 ", "monthly_alotment: 5 "))
        with pytest.raises(InvalidPolicy):
            eng.reload(policy=bad_policy, rules=rules)
        (rules / "send.yaml").write_text(
            (rules / "send.yaml").read_text().replace("sender.premium: false", "sender.premum: false")
        )
        with pytest.raises(InvalidRules):
            eng.reload(policy=policy, rules=rules)
        dropped = policy.with_name("no-career.yaml")
        text = policy.read_text()
        start = text.index("  career:")
        dropped.write_text(text[:start] + text[text.index("  business:") :])
        with pytest.raises(InvalidCall) as err:
            eng.reload(policy=dropped, rules=packaged_rules_dir())
        assert err.value.code == "plan_in_use"
        assert eng.revision == revision
        assert eng.send("alice", "carol", at="2026-01-16").outcome == "sent"
