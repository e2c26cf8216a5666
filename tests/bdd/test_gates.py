"""Coverage gates: every requirement is tagged on a scenario, every rule decides a scenario step.

The rule gate reads the rule ids carried by the decisions (system events
included) that the scenarios produced. When the whole feature set already ran
earlier in this pytest session (``pytest`` or ``pytest tests/bdd``), it uses
those; otherwise (a selection such as ``-k``, a single file, xdist workers)
it runs the features itself in a subprocess, so the answer never depends on
what happened to be selected. ``pytest tests/bdd -m R09`` deselects the gates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gen_bdd_docs
from bdd_world import ENV_COVERAGE_OUT, REPO, SESSION_COVERAGE

from engine.source.requirements import ID_FORM

FEATURES_TEST = Path(__file__).with_name("test_features.py")


def _expected_runs() -> int:
    return sum(max(1, s.examples) for s in gen_bdd_docs.scenarios())


def _feature_runs(nodeids: set[str]) -> set[str]:
    return {n for n in nodeids if "test_features.py::" in n}


def _rules_exercised(tmp_path: Path) -> tuple[dict[str, list[str]], str]:
    """Rule key -> scenarios, and where the figures come from."""
    if len(_feature_runs(SESSION_COVERAGE.started)) >= _expected_runs():
        return {k: sorted(v) for k, v in SESSION_COVERAGE.rules.items()}, "this session"
    out = tmp_path / "coverage.json"
    env = {**os.environ, ENV_COVERAGE_OUT: str(out)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(FEATURES_TEST), "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert out.exists(), f"the features run wrote no coverage:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = json.loads(out.read_text(encoding="utf-8"))
    return data["rules"], f"a separate run of the features (exit {proc.returncode})"


def test_every_requirement_tags_a_scenario() -> None:
    tagged = {t for s in gen_bdd_docs.scenarios() for t in s.tags}
    missing = [r for r in gen_bdd_docs.REQ_IDS if r not in tagged]
    assert not missing, f"requirements no scenario is tagged with: {missing}"


def test_requirement_tags_are_known_ids() -> None:
    for s in gen_bdd_docs.scenarios():
        odd = [t for t in s.tags if ID_FORM.match(t) and t not in gen_bdd_docs.REQ_IDS]
        assert not odd, f"{s.feature}:{s.line}: unknown requirement tags {odd}"


def test_every_scenario_cites_a_requirement() -> None:
    for s in gen_bdd_docs.scenarios():
        assert s.tags & set(gen_bdd_docs.REQ_IDS), f"{s.feature}:{s.line}: {s.name!r} has no @Rxx tag"


def test_every_rule_decides_a_scenario_step(tmp_path: Path) -> None:
    exercised, source = _rules_exercised(tmp_path)
    declared = {f"{r.event}/{r.id}": r for r in gen_bdd_docs.rules()}
    missing = sorted(k for k in declared if not exercised.get(k))
    assert not missing, (
        f"rules that decided no scenario step (measured from {source}): {missing}. "
        "Add a scenario whose steps make each of them fire."
    )
    unknown = sorted(k for k in exercised if k not in declared)
    assert not unknown, f"decisions named rules that rules/*.yaml does not declare: {unknown}"
