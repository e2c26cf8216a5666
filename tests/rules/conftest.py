"""Shared fixtures for the rules tests: the shipped policy and rules, and a default fact set per event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.policy import Policy, load_policy
from engine.rules.book import RuleBook
from engine.source.paths import packaged_policy_path, packaged_rules_dir

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases" / "rules"


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(packaged_policy_path())


@pytest.fixture(scope="session")
def rules_dir() -> Path:
    return packaged_rules_dir()


@pytest.fixture(scope="session")
def book(policy: Policy, rules_dir: Path) -> Iterator[RuleBook]:
    with RuleBook.load(rules_dir, policy) as b:
        yield b
