"""The contract other pieces rely on: load the shipped rules, decide a send."""

from __future__ import annotations

from engine.rules.book import RuleBook

from .rules_helpers import send_facts


def test_shipped_rules_load_and_decide(book: RuleBook) -> None:
    assert len(book.events) == 11
    assert book.warnings == []
    v = book.decide("send", send_facts(sender__premium=False))
    assert (v.outcome, v.reason, v.rule, v.requirements) == (
        "denied",
        "upgrade_required",
        "basic-must-upgrade",
        ("R02",),
    )
    assert book.decide("send", send_facts()).rule == "send-inmail"
    assert len(book.revision) == 12
