"""Fixtures for the Engine tests: engines on either store, with policy overrides, sharing compiled rules.

Compiling the rules into durable_rules is the slow part of ``Engine.open``,
so engines of one policy share one RuleBook for the whole session; each test
still gets a fresh, empty store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.store.base import open_store

from .engine_helpers import _BOOKS, MakeEngine, policy_for


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
