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

import os
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
