"""Fixtures for the Engine tests: engines on either store, with policy overrides, sharing compiled rules.

Compiling the rules into durable_rules is the slow part of ``Engine.open``,
so engines of one policy share one RuleBook for the whole session; each test
still gets a fresh, empty store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.diagnostics import Diagnostics
from engine.paths import packaged_policy_path, packaged_rules_dir
from engine.policy import Policy, load_policy
from engine.rulebook import RuleBook
from engine.store import open_store
from engine.yamlsource import YMap, parse_text

_BOOKS: dict[str, tuple[Policy, RuleBook]] = {}


def T(text: str) -> dt.datetime:
    """An instant from ISO text (UTC unless it says otherwise)."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def policy_for(override: str = "") -> tuple[Policy, RuleBook]:
    """The packaged policy with ``override`` (YAML text) merged on, and its compiled rules."""
    if override not in _BOOKS:
        node = None
        if override:
            parsed = parse_text(override, "<test override>", Diagnostics())
            assert isinstance(parsed, YMap)
            node = parsed
        pol = load_policy(packaged_policy_path(), node, override)
        _BOOKS[override] = (pol, RuleBook.load(packaged_rules_dir(), pol))
    return _BOOKS[override]


MakeEngine = Callable[..., Engine]


@pytest.fixture(scope="session", autouse=True)
def _close_books() -> Iterator[None]:
    yield
    for _, book in _BOOKS.values():
        book.close()
    _BOOKS.clear()


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run a test on both stores: they must behave identically."""
    return str(request.param)


@pytest.fixture
def make(tmp_path: Path, backend: str) -> Iterator[MakeEngine]:
    """``make(policy_override_yaml="")`` -> a fresh Engine on the parametrized backend."""
    stores = []
    count = 0

    def _make(override: str = "", db: str | None = None) -> Engine:
        nonlocal count
        count += 1
        pol, book = policy_for(override)
        if db is None:
            db = "memory" if backend == "memory" else str(tmp_path / f"engine{count}.db")
        store = open_store(db)
        stores.append(store)
        return Engine(store, pol, book)

    yield _make
    for s in stores:
        s.close()


@pytest.fixture
def eng(make: MakeEngine) -> Engine:
    """An engine with the packaged policy on the parametrized backend."""
    return make()
