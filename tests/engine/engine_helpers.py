"""Helpers for the Engine tests: pinned instants and shared compiled rules per policy override.

Compiling the rules into durable_rules is the slow part of ``Engine.open``,
so engines of one policy share one RuleBook for the whole session. Kept out
of conftest.py so test modules can import them by a name no other test
folder uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from engine import Engine
from engine.policy import Policy, load_policy
from engine.rules.book import RuleBook
from engine.source.diagnostics import Diagnostics
from engine.source.marked import YMap, parse_text
from engine.source.paths import packaged_policy_path, packaged_rules_dir

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
