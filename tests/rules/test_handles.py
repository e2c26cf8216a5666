"""durable_rules handles: a process has 131,072, so unchanged rules must not take new ones.

A reload, a workbench click and a scenario run each build a RuleBook; the
compiled rulesets are shared by every book whose rules compile the same, so
building one for rules already compiled in this process takes no handle.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.core.engine import Engine
from engine.policy import Policy, load_policy
from engine.rules import catalog
from engine.rules._durable import IDLE_KEEP, handle_count
from engine.rules.book import RuleBook
from engine.rules.defaults import complete_facts

ROOT = Path(__file__).resolve().parents[2]
N = 25
BELOW_1 = "sender.balance: {below: 1}"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "policies.yaml", tmp_path / "policies.yaml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path


def _decide_all(book: RuleBook, policy: Policy) -> list[str]:
    return [book.decide(ev, complete_facts(ev, {}, policy)).rule for ev in catalog.EVENT_KINDS]


def test_reloads_of_unchanged_rules_take_no_new_handle(folder: Path) -> None:
    with Engine.open(policy=folder / "policies.yaml", rules=folder / "rules", log=False) as eng:
        before = handle_count()
        for _ in range(N):
            eng.reload(folder / "policies.yaml", folder / "rules")
        after = handle_count()
        assert after.created == before.created
        assert after.reused - before.reused == N * len(catalog.EVENT_KINDS)
        assert eng.decide("send", complete_facts("send", {}, eng.policy)).outcome == "sent"


def test_a_changed_rules_file_takes_one_handle_once(folder: Path) -> None:
    policy = load_policy(folder / "policies.yaml")
    with RuleBook.load(folder / "rules", policy) as book:
        expected = _decide_all(book, policy)
        send = folder / "rules" / "send.yaml"
        send.write_text(send.read_text() + "\n# a comment: the same rules\n")
        before = handle_count()
        with RuleBook.load(folder / "rules", policy) as same:
            assert same.revision != book.revision and _decide_all(same, policy) == expected
        assert handle_count().created == before.created  # the text changed, the compiled rules did not
        send.write_text(send.read_text().replace(BELOW_1, "sender.balance: {below: 2}", 1))
        for _ in range(N):
            with RuleBook.load(folder / "rules", policy) as changed:
                assert changed.decide("send", complete_facts("send", {}, policy)).outcome == "sent"
        assert handle_count().created == before.created + 1  # the one changed ruleset, compiled once


def test_handles_stay_bounded_over_many_distinct_rules(folder: Path) -> None:
    """Each new text takes a handle; beyond IDLE_KEEP unused ones are freed and give their handle back."""
    policy = load_policy(folder / "policies.yaml")
    send = folder / "rules" / "send.yaml"
    text = send.read_text()
    before = handle_count()
    assert "sender.balance: {below: 1}" in text
    for n in range(IDLE_KEEP + 10):
        send.write_text(text.replace("sender.balance: {below: 1}", f"sender.balance: {{below: {n + 100}}}"))
        with RuleBook.load(folder / "rules", policy) as book:
            assert book.decide("send", complete_facts("send", {}, policy)).outcome == "denied"
    after = handle_count()
    assert after.created - before.created == IDLE_KEEP + 10
    assert after.live <= before.live + IDLE_KEEP and after.idle <= IDLE_KEEP
    assert after.deleted > before.deleted


def test_a_book_dropped_unclosed_gives_its_rulesets_back(folder: Path) -> None:
    import gc

    policy = load_policy(folder / "policies.yaml")
    before = handle_count()
    for _ in range(5):
        RuleBook.load(folder / "rules", policy)  # never closed
    gc.collect()
    with RuleBook.load(folder / "rules", policy) as book:
        assert _decide_all(book, policy)
    after = handle_count()
    assert after.live <= before.live + len(catalog.EVENT_KINDS)
