"""pytest-bdd wiring: the step vocabulary, the per-scenario world, the coverage collector.

The helper modules sit next to this file (``bdd_world``, ``bdd_steps``) and
are imported by file name, so this directory is put on ``sys.path`` here
whatever pytest's import mode is.

Environment variables:
``INMAIL_POLICY`` / ``INMAIL_RULES`` run the features against another policy
file or rules folder (the mutation test uses this to prove scenarios fail);
``INMAIL_BDD_COVERAGE_OUT`` makes the session write the rules each scenario
exercised to that JSON file (the rule-coverage gate uses this when the
features did not all run in its own session).
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bdd_steps
from bdd_world import ENV_COVERAGE_OUT, SESSION_COVERAGE, World, policy_path, rules_path

globals().update(bdd_steps.fixtures())


def _check_policy_and_rules() -> None:
    """One clear error for a mistyped INMAIL_POLICY / INMAIL_RULES, not a traceback per scenario."""
    from engine import EngineError, load_policy
    from engine.rules.book import RuleBook

    try:
        policy = load_policy(policy_path())
        RuleBook.load(rules_path(), policy).close()
    except EngineError as exc:
        pytest.exit(f"the features cannot run against this policy and rules:\n{exc}", returncode=2)


def pytest_configure(config: pytest.Config) -> None:
    """Every tag the feature files use is a marker, so a new one (``@wip``, ``@slow``) needs no
    registration and ``-m wip`` selects it; a requirement's tag is described by its entry in
    REQUIREMENTS.md (``pytest --markers``), whatever requirements that file declares."""
    from bdd_world import FEATURES_DIR, REPO

    from engine.docs.sources import read_requirements

    known = {line.split(":")[0].strip() for line in config.getini("markers")}
    catalog = FEATURES_DIR / "REQUIREMENTS.md"
    for req in read_requirements(
        catalog if catalog.is_file() else REPO / "features" / "REQUIREMENTS.md"
    ).values():
        if req.id not in known:
            known.add(req.id)
            config.addinivalue_line("markers", f"{req.id}: {req.title} (features/REQUIREMENTS.md)")
    for path in sorted(FEATURES_DIR.glob("**/*.feature")):
        for tag in re.findall(r"(?:^|\s)@([^\s@]+)", path.read_text(encoding="utf-8")):
            if tag not in known:
                known.add(tag)
                config.addinivalue_line("markers", f"{tag}: a tag of the feature files")


def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, exception: Exception
) -> None:
    """A step no definition matches: say where, and the phrases it is closest to (STEPS.md lists all)."""
    kind = str(step.type).lower()  # given / when / then, also for an And or But
    written = f"{kind.capitalize()} {step.name}"
    phrases = [f"{kind.capitalize()} {s.phrase}" for s in bdd_steps.STEPS if kind in s.kinds]
    close = difflib.get_close_matches(written, phrases, n=3, cutoff=0.5)
    hint = "".join(f"\n  help: did you mean `{c}`?" for c in close) or "\n  help: see features/STEPS.md"
    where = Path(feature.filename).name
    pytest.fail(f"{where}:{step.line_number}: unknown_step: no step reads `{written}`{hint}", pytrace=False)


def pytest_collection_finish(session: pytest.Session) -> None:
    if any("tests/bdd" in item.nodeid and "test_features" in item.nodeid for item in session.items):
        _check_policy_and_rules()


@pytest.fixture
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """A fresh scenario: its own in-memory engine and its own pinned clock."""
    w = World(request.node.nodeid, SESSION_COVERAGE)
    try:
        yield w
    finally:
        w.close()


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    SESSION_COVERAGE.started.add(request.node.nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and report.nodeid in SESSION_COVERAGE.started:
        SESSION_COVERAGE.passed.add(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get(ENV_COVERAGE_OUT)
    if out:
        SESSION_COVERAGE.dump(out)
