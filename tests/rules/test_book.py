"""The RuleBook contract: facts checked, memo exact and bounded, no threads, reload, failures typed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidCall, InvalidRules, RuleEngineFailure
from engine.policy import Policy
from engine.rules._durable import DurableRunner, compile_ruleset
from engine.rules.book import RuleBook, RuleBookHolder, memo_default
from engine.rules.reader import Cmp, Rule, RuleFile
from engine.source.diagnostics import Location

from .rules_helpers import send_facts


def test_import_starts_no_threads_and_does_not_load_durable() -> None:
    code = (
        "import sys, threading; import engine, engine.rules.book, engine.cli; "
        "assert threading.active_count() == 1, threading.enumerate(); "
        "assert 'durable' not in sys.modules and 'durable_rules_engine' not in sys.modules, 'durable'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_building_and_using_a_book_starts_no_threads(policy: Policy, rules_dir: Path) -> None:
    before = threading.active_count()
    for memo in (True, False):
        with RuleBook.load(rules_dir, policy, memo=memo) as book:
            for balance in range(5):
                book.decide("send", send_facts(sender__balance=balance))
            assert threading.active_count() == before
    assert threading.active_count() == before


@pytest.mark.parametrize(
    ("facts", "words"),
    [
        ({k: v for k, v in send_facts().items() if k != "sender.balance"}, "`sender.balance` is missing"),
        ({**send_facts(), "sender.premum": True}, "did you mean `sender.premium`"),
        (send_facts(sender__balance=True), "`sender.balance` must be a whole number"),
        (send_facts(sender__balance="5"), "`sender.balance` must be a whole number"),
        (send_facts(sender__balance=5.0), "`sender.balance` must be a whole number"),
        (send_facts(sender__premium=1), "`sender.premium` must be true or false"),
        (send_facts(sender__plan="carrer"), "did you mean `career`"),
        (send_facts(sender__payment="lost"), "`sender.payment` cannot be `lost`"),
        # a fact no rule reads is checked too
        (send_facts(plan__cap="15"), "`plan.cap` must be a whole number"),
    ],
)
def test_bad_facts_are_invalid_calls(book: RuleBook, facts: dict[str, object], words: str) -> None:
    book.decide("send", send_facts())  # the good key is in the memo: a mistyped twin must not hit it
    book.decide("send", send_facts(sender__premium=False))
    with pytest.raises(InvalidCall) as info:
        book.decide("send", facts)  # type: ignore[arg-type]
    assert info.value.code == "invalid_fact"
    assert words in info.value.message


def test_facts_must_be_a_mapping(book: RuleBook) -> None:
    with pytest.raises(InvalidCall, match="mapping"):
        book.decide("send", [("sender.premium", True)])  # type: ignore[arg-type]


def test_unknown_event(book: RuleBook) -> None:
    with pytest.raises(InvalidCall) as info:
        book.decide("sned", send_facts())
    assert info.value.code == "unknown_event" and "did you mean `send`" in str(info.value)


def test_memo_is_keyed_by_the_facts_the_rules_read(policy: Policy, rules_dir: Path) -> None:
    with RuleBook.load(rules_dir, policy, memo=True) as book:
        assert "plan.cap" not in book.facts_read("send")
        for cap in range(20):  # a fact no rule reads does not make new keys
            book.decide("send", send_facts(plan__cap=cap))
        assert book.memo_info()["send"] == 1
        book.decide("send", send_facts(sender__balance=0))
        assert book.memo_info()["send"] == 2


def test_memo_is_bounded(policy: Policy, rules_dir: Path) -> None:
    with RuleBook.load(rules_dir, policy, memo=True, memo_size=8) as book:
        for balance in range(100):
            v = book.decide("send", send_facts(sender__balance=balance - 50))
            assert v.rule == ("send-inmail" if balance >= 51 else "no-credits-can-buy")
        assert book.memo_info()["send"] == 8


def test_memo_switch(monkeypatch: pytest.MonkeyPatch, policy: Policy, rules_dir: Path) -> None:
    monkeypatch.setenv("INMAIL_MEMO", "0")
    assert memo_default() is False
    with RuleBook.load(rules_dir, policy) as book:
        book.decide("send", send_facts())
        assert not book.memo_enabled and book.memo_info()["send"] == 0
    monkeypatch.setenv("INMAIL_MEMO", "1")
    assert memo_default() is True
    monkeypatch.delenv("INMAIL_MEMO")
    assert memo_default() is True


def test_closed_book_refuses(policy: Policy, rules_dir: Path) -> None:
    book = RuleBook.load(rules_dir, policy)
    book.decide("send", send_facts())
    book.close()
    book.close()  # idempotent
    for facts in (send_facts(), send_facts(sender__balance=0)):
        with pytest.raises(InvalidCall) as info:
            book.decide("send", facts)
        assert info.value.code == "closed"


def test_revision_is_a_content_hash(policy: Policy, rules_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "rules"
    shutil.copytree(rules_dir, work)
    with RuleBook.load(rules_dir, policy) as a, RuleBook.load(work, policy) as b:
        assert a.revision == b.revision  # the folder's name does not matter
    send = work / "send.yaml"
    send.write_text(send.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    with RuleBook.load(work, policy) as c:
        assert c.revision != a.revision


def test_holder_swaps_only_valid_rules(policy: Policy, rules_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "rules"
    shutil.copytree(rules_dir, work)
    holder = RuleBookHolder.load(work, policy)
    first = holder.book
    assert holder.decide("send", send_facts(sender__balance=0)).reason == "no_credits"

    send = work / "send.yaml"
    good = send.read_text(encoding="utf-8")
    send.write_text(good.replace("{below: 1}", "{below: one}"), encoding="utf-8")
    with pytest.raises(InvalidRules):
        holder.reload(work, policy)
    assert holder.book is first  # the old rules stay in force
    assert holder.decide("send", send_facts(sender__balance=0)).reason == "no_credits"

    send.write_text(good.replace("{below: 1}", "{below: 0}"), encoding="utf-8")
    new = holder.reload(work, policy)
    assert holder.book is new and new.revision != first.revision
    assert holder.decide("send", send_facts(sender__balance=0)).rule == "send-inmail"
    with pytest.raises(InvalidCall):
        first.decide("send", send_facts(sender__balance=3))  # the old book was closed
    holder.close()


def _file(*rules: Rule) -> RuleFile:
    return RuleFile("send", "send.yaml", rules, Location("send.yaml"))


def _rule(pos: int, when: Cmp | None) -> Rule:
    return Rule(f"r{pos}", "send", pos, ("R01",), "test", when, "sent", None, (), Location("send.yaml", pos))


def test_no_matching_rule_is_a_rule_engine_failure() -> None:
    runner = DurableRunner({"send": compile_ruleset(_file(_rule(0, Cmp("sender.premium", "eq", True))))})
    try:
        assert runner.decide("send", {"sender__premium": True}) == 0
        with pytest.raises(RuleEngineFailure, match="no `send` rule matched"):
            runner.decide("send", {"sender__premium": False})
        assert runner.decide("send", {"sender__premium": True}) == 0
    finally:
        runner.close()


def test_a_failing_action_is_a_rule_engine_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.rules import _durable

    calls = []

    def action(self: Any, name: str):  # type: ignore[no-untyped-def]
        def run(c: object) -> None:
            calls.append(name)
            if len(calls) == 1:
                raise ValueError("boom")
            self._fired = 0

        return run

    monkeypatch.setattr(_durable._Ruleset, "_action", action)
    _durable.free_idle()  # compiled afresh, with this action (not reused from an earlier test)
    runner = DurableRunner({"send": compile_ruleset(_file(_rule(0, None)))})
    try:
        with pytest.raises(RuleEngineFailure, match="boom"):
            runner.decide("send", {})
        assert runner.decide("send", {}) == 0  # the stored exception was cleared
    finally:
        runner.close()
        _durable.free_idle()  # no later test gets this action


def test_fact_names_are_distinct_to_durable() -> None:
    """durable_rules matches property names by a 32-bit hash only; no two of ours may collide."""
    from engine.rules import catalog
    from engine.rules._durable import fnv1a32, name_collisions

    assert fnv1a32("$and") == 3746487396 and fnv1a32("$or") == 340911698  # durable's own constants
    assert all(name_collisions(ev) == [] for ev in catalog.EVENT_KINDS)


def test_each_distinct_key_goes_to_durable_once(
    policy: Policy, rules_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted: list[dict[str, object]] = []
    real = DurableRunner.decide

    def counting(self: DurableRunner, event: str, message: dict[str, bool | int | str]) -> int:
        posted.append(dict(message))
        return real(self, event, message)

    monkeypatch.setattr(DurableRunner, "decide", counting)
    with RuleBook.load(rules_dir, policy, memo=True) as book:
        for _ in range(500):
            book.decide("send", send_facts())
            book.decide("send", send_facts(sender__balance=0))
        assert len(posted) == 2
        # the posted event carries only the facts the rules read, flattened, with their own types
        assert set(posted[0]) == {f.replace(".", "__") for f in book.facts_read("send")}
        assert posted[0]["sender__premium"] is True and posted[0]["sender__balance"] == 5
    with RuleBook.load(rules_dir, policy, memo=False) as book:
        for _ in range(10):
            book.decide("send", send_facts())
        assert len(posted) == 12
