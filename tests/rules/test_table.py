"""The decision table of a rules file, and ``explain``: which row decides, and why the rows above do not.

The table is read from the file's text, so these tests check it against the text itself: every
edit path is looked up in ``yaml.safe_load`` of the file and must hold the value the cell says.
``explain`` must agree with the engine: on random situations over every shipped rules file its
last row is the rule :meth:`RuleBook.decide` names, and on random rules files (the grammar's every
form) each row matches exactly when the loader's condition holds.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidCall
from engine.policy import Policy
from engine.rules import catalog
from engine.rules.book import RuleBook, load_rule_files
from engine.rules.defaults import complete_facts, given_facts, what_if
from engine.rules.reader import RuleFile, holds, read_rule_file, resolve_choices
from engine.rules.table import HIT_POLICY, decision_table, explain, table_rows
from engine.source.diagnostics import Diagnostics

from .rules_oracle import Oracle, RuleGen, int_constants, random_facts

SHIPPED = Path(__file__).resolve().parents[2] / "rules"
EVENTS = sorted(p.stem for p in SHIPPED.glob("*.yaml"))


def _read(text: str, policy: Policy, tmp_path: Path, event: str = "send") -> RuleFile:
    """A rules file read from ``text`` alone (no other files, no durable_rules), keeping its text."""
    path = tmp_path / f"{event}.yaml"
    diags = Diagnostics()
    rf = read_rule_file(path, str(path), text, policy, diags, requirements=("R01", "R02"))
    assert rf is not None and not diags.errors, [d.render() for d in diags.items]
    return RuleFile(rf.event, rf.path, rf.rules, rf.loc, text)


def _at(doc: Any, path: list[str | int]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _edits_read_back(table: dict[str, Any], text: str) -> int:
    """Every edit path leads, in the file as YAML reads it, to the cell's value; how many there are."""
    doc = yaml.safe_load(text)
    n = 0
    for row in table["rows"]:
        for fact, cell in row["cells"].items():
            edit = cell.get("edit")
            if edit is None:
                continue
            got = _at(doc, edit["path"])
            assert (got, type(got)) == (edit["value"], type(edit["value"])), (row["rule"], fact, edit)
            assert edit["path"][:3] == [
                "rules",
                next(i for i, r in enumerate(doc["rules"]) if r["id"] == row["rule"]),
                "when",
            ]
            n += 1
    return n


# --- the shipped send.yaml ----------------------------------------------------------------


@pytest.fixture(scope="module")
def send_table(book: RuleBook, policy: Policy) -> dict[str, Any]:
    return decision_table(book.rule_file("send"), policy, file="rules/send.yaml")


def test_send_table_heading(send_table: dict[str, Any]) -> None:
    assert (send_table["event"], send_table["file"], send_table["hit_policy"]) == (
        "send",
        "rules/send.yaml",
        HIT_POLICY,
    )
    assert HIT_POLICY == "first match decides"
    assert [c["fact"] for c in send_table["columns"]] == [
        "recipient.connected",
        "sender.premium",
        "sender.payment",
        "pair.awaiting_response",
        "sender.balance",
        "plan.purchasable",
    ]
    by_fact = {c["fact"]: c for c in send_table["columns"]}
    assert by_fact["sender.balance"]["type"] == "int"
    assert by_fact["plan.purchasable"]["type"] == "bool"
    assert by_fact["sender.payment"] == {
        "fact": "sender.payment",
        "type": "choice",
        "doc": catalog.CATALOG["send"]["sender.payment"].doc,
        "choices": ["valid", "expired"],
    }


def test_send_table_no_credits_can_buy_row(send_table: dict[str, Any]) -> None:
    row = next(r for r in send_table["rows"] if r["rule"] == "no-credits-can-buy")
    assert row == {
        "rule": "no-credits-can-buy",
        "line": 33,
        "requirements": ["R01", "R17"],
        "description": "Out of credits, on a plan that may buy more; the member is told so.",
        "cells": {
            "sender.balance": {
                "text": "below 1",
                "edit": {
                    "path": ["rules", 4, "when", "sender.balance", "below"],
                    "type": "int",
                    "op": "below",
                    "value": 1,
                },
            },
            "plan.purchasable": {
                "text": "is true",
                "edit": {
                    "path": ["rules", 4, "when", "plan.purchasable"],
                    "type": "bool",
                    "op": "is",
                    "value": True,
                },
            },
        },
        "other": None,
        "catch_all": False,
        "outcome": "denied",
        "reason": "no_credits",
        "effects": ["offer_purchase"],
        "findings": [],
    }
    expired = next(r for r in send_table["rows"] if r["rule"] == "expired-card")
    assert expired["cells"]["sender.payment"]["text"] == "is expired"
    assert expired["cells"]["sender.payment"]["edit"]["choices"] == ["valid", "expired"]


def test_send_table_catch_all_row(send_table: dict[str, Any]) -> None:
    last = send_table["rows"][-1]
    assert [r["rule"] for r in send_table["rows"]][-2:] == ["no-credits", "send-inmail"]
    assert last["catch_all"] is True
    assert (last["cells"], last["other"], last["findings"]) == ({}, None, [])
    assert (last["outcome"], last["reason"]) == ("sent", None)
    assert last["effects"] == ["consume_credit", "await_response", "schedule_reminder"]
    assert not any(r["catch_all"] for r in send_table["rows"][:-1])


@pytest.mark.parametrize("event", EVENTS)
def test_every_shipped_file_builds_a_table_whose_edits_read_back(
    event: str, book: RuleBook, policy: Policy
) -> None:
    rf = book.rule_file(event)
    table = decision_table(rf, policy, file=f"rules/{event}.yaml")
    assert [r["rule"] for r in table["rows"]] == [r.id for r in rf.rules]
    assert {c["fact"] for c in table["columns"]} == set(rf.facts_read())
    assert all(r["findings"] == [] for r in table["rows"])
    edits = _edits_read_back(table, (SHIPPED / f"{event}.yaml").read_text(encoding="utf-8"))
    assert edits == sum(len(r["cells"]) for r in table["rows"])  # the shipped files write plain literals


# --- every form of a condition --------------------------------------------------------------

FORMS = """\
event: send
rules:
  - id: operators
    requirement: R01
    description: several tests on one fact, lists, a policy setting, `not` on a true/false fact
    when:
      sender.balance: {at_least: 1, at_most: 5}
      sender.plan: {in: [career, business]}
      recipient.connected: {not: true}
      plan.cap: {above: policy.plans.career.cap}
      sender.payment: {is: valid}
    then: {outcome: sent_free}

  - id: groups
    requirement: R01
    description: an all group opened up, an any across facts, a not over one fact, a one-item any
    when:
      all:
        - {sender.balance: {below: 3}}
        - any: [{sender.premium: false}, {sender.payment: expired}]
      not: {pair.awaiting_response: true}
      any: [{sender.plan: career}]
    then: {outcome: denied, reason: no_credits}

  - id: one-fact-groups
    requirement: R02
    description: groups that read one fact are that fact's cell; the same fact twice is one cell
    when:
      any: [{sender.balance: {below: 1}}, {sender.balance: {above: 50}}]
      not: {plan.monthly_allotment: {at_least: 1, at_most: 5}}
      all: [{plan.cap: {at_most: 60}}, {plan.cap: {not: 15}}]
    then: {outcome: denied, reason: no_credits}

  - id: references-and-negations
    requirement: R02
    description: plan values, none-of lists, not over two facts, a double not
    when:
      sender.balance: {at_least: plan.cap}
      sender.plan: {not_in: [career]}
      not: {sender.premium: true, sender.payment: valid}
    then: {outcome: denied, reason: upgrade_required}

  - id: double-not
    requirement: R02
    description: not of not
    when:
      not: {not: {recipient.connected: true}}
      pair.awaiting_response: {not: false}
    then: {outcome: denied, reason: awaiting_response}

  - id: other-words
    requirement: R02
    description: several tests of one fact inside a group across facts
    when:
      any:
        - {sender.balance: {at_least: 1, at_most: 5}}
        - {sender.plan: {in: [career, business]}, recipient.connected: true}
        - {sender.payment: {in: [expired]}}
    then: {outcome: denied, reason: no_credits}

  - id: otherwise
    requirement: R01
    description: the catch-all
    then: {outcome: sent, effects: [consume_credit]}
"""


def test_each_form_of_a_condition_as_cells(policy: Policy, tmp_path: Path) -> None:
    text = FORMS
    rf = _read(text, policy, tmp_path)
    table = decision_table(rf, policy, file="rules/send.yaml")
    rows = {r["rule"]: r for r in table["rows"]}

    def texts(rule: str) -> dict[str, str]:
        return {fact: cell["text"] for fact, cell in rows[rule]["cells"].items()}

    def editable(rule: str) -> dict[str, list[str | int]]:
        return {f: c["edit"]["path"] for f, c in rows[rule]["cells"].items() if "edit" in c}

    assert texts("operators") == {
        "sender.balance": "at least 1 and at most 5",
        "sender.plan": "one of career, business",
        "recipient.connected": "not true",
        "plan.cap": "above policy.plans.career.cap",
        "sender.payment": "is valid",
    }
    assert editable("operators") == {
        "recipient.connected": ["rules", 0, "when", "recipient.connected", "not"],
        "sender.payment": ["rules", 0, "when", "sender.payment", "is"],
    }
    assert rows["operators"]["other"] is None
    assert rows["operators"]["cells"]["recipient.connected"]["edit"]["op"] == "not"

    assert texts("groups") == {
        "sender.balance": "below 3",
        "pair.awaiting_response": "is false",
        "sender.plan": "is career",
    }
    assert rows["groups"]["other"] == "sender.premium is false or sender.payment is expired"
    assert editable("groups") == {
        "sender.balance": ["rules", 1, "when", "all", 0, "sender.balance", "below"],
        "sender.plan": ["rules", 1, "when", "any", 0, "sender.plan"],
    }

    assert texts("one-fact-groups") == {
        "sender.balance": "below 1 or above 50",
        "plan.monthly_allotment": "below 1 or above 5",
        "plan.cap": "at most 60 and not 15",
    }
    assert editable("one-fact-groups") == {}

    assert texts("references-and-negations") == {
        "sender.balance": "at least plan.cap",
        "sender.plan": "none of career",
    }
    assert editable("references-and-negations") == {}
    assert (
        rows["references-and-negations"]["other"]
        == "not (sender.premium is true and sender.payment is valid)"
    )

    assert texts("double-not") == {"recipient.connected": "is true", "pair.awaiting_response": "not false"}
    assert list(editable("double-not")) == ["pair.awaiting_response"]

    assert [c["fact"] for c in table["columns"]] == [
        "sender.balance",
        "sender.plan",
        "recipient.connected",
        "plan.cap",
        "sender.payment",
        "sender.premium",
        "pair.awaiting_response",
        "plan.monthly_allotment",
    ]
    assert rows["other-words"]["cells"] == {}
    assert rows["other-words"]["other"] == (
        "(sender.balance at least 1 and sender.balance at most 5)"
        " or ((sender.plan one of career, business) and recipient.connected is true)"
        " or sender.payment one of expired"
    )
    assert rows["otherwise"]["catch_all"] and rows["otherwise"]["cells"] == {}
    assert _edits_read_back(table, text) == 5


ALIASED = """\
event: send
rules:
  - id: anchored
    requirement: R01
    description: a number written once and used again below
    when: {sender.balance: {below: &low 2}}
    then: {outcome: denied, reason: no_credits}

  - id: aliased
    requirement: R01
    description: the same number
    when: {plan.cap: {at_most: *low}, sender.payment: expired}
    then: {outcome: denied, reason: no_credits}

  - id: otherwise
    requirement: R01
    description: the catch-all
    then: {outcome: sent, effects: [consume_credit]}
"""


def test_a_value_written_once_for_two_tests_is_not_edited_in_place(policy: Policy, tmp_path: Path) -> None:
    table = decision_table(_read(ALIASED, policy, tmp_path), policy, file="rules/send.yaml")
    cells = {r["rule"]: r["cells"] for r in table["rows"]}
    assert cells["anchored"] == {"sender.balance": {"text": "below 2"}}
    assert cells["aliased"]["plan.cap"] == {"text": "at most 2"}
    assert cells["aliased"]["sender.payment"]["edit"]["path"] == ["rules", 1, "when", "sender.payment"]
    assert _edits_read_back(table, ALIASED) == 1


def test_a_rules_file_read_without_its_text_is_refused(book: RuleBook, policy: Policy) -> None:
    rf = book.rule_file("send")
    with pytest.raises(ValueError, match="without keeping its text"):
        table_rows(RuleFile(rf.event, rf.path, rf.rules, rf.loc), policy)


def test_a_shadowed_rule_shows_its_finding(policy: Policy, rules_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "rules"
    shutil.copytree(rules_dir, work)
    send = work / "send.yaml"
    text = send.read_text(encoding="utf-8").replace(
        "  - id: send-inmail\n",
        "  - id: no-credits-at-all\n"
        "    requirement: R01\n"
        "    description: already decided by no-credits above\n"
        "    when: {sender.balance: {below: 0}}\n"
        "    then: {outcome: denied, reason: no_credits}\n\n"
        "  - id: send-inmail\n",
    )
    send.write_text(text, encoding="utf-8")
    files, warnings, _ = load_rule_files(work, policy)
    assert [w.code for w in warnings] == ["shadowed_rule"]
    table = decision_table(files["send"], policy, file="rules/send.yaml")
    found = {r["rule"]: r["findings"] for r in table["rows"] if r["findings"]}
    assert list(found) == ["no-credits-at-all"]
    [finding] = found["no-credits-at-all"]
    assert (finding["severity"], finding["code"]) == ("warning", "shadowed_rule")
    assert "`no-credits`" in finding["message"]
    assert finding["help"]
    assert _edits_read_back(table, text) == 8


# --- explain --------------------------------------------------------------------------------


def test_explain_walks_down_to_the_deciding_row(book: RuleBook, policy: Policy) -> None:
    facts = complete_facts("send", {"sender.balance": 0, "sender.plan": "sales_navigator"}, policy)
    steps = explain(book.rule_file("send"), policy, facts)
    assert steps == [
        {
            "rule": "free-to-connections",
            "matched": False,
            "failed": ["recipient.connected"],
            "other_failed": False,
        },
        {"rule": "basic-must-upgrade", "matched": False, "failed": ["sender.premium"], "other_failed": False},
        {"rule": "expired-card", "matched": False, "failed": ["sender.payment"], "other_failed": False},
        {
            "rule": "one-unanswered-inmail-per-recipient",
            "matched": False,
            "failed": ["pair.awaiting_response"],
            "other_failed": False,
        },
        {
            "rule": "no-credits-can-buy",
            "matched": False,
            "failed": ["plan.purchasable"],
            "other_failed": False,
        },
        {"rule": "no-credits", "matched": True, "failed": [], "other_failed": False},
    ]
    answer, rule = what_if(book, policy, "send", {"sender.balance": 0, "sender.plan": "sales_navigator"})
    assert answer["rule"] == rule.id == steps[-1]["rule"]


def test_explain_needs_the_facts_the_rules_read(book: RuleBook, policy: Policy) -> None:
    facts = complete_facts("send", {}, policy)
    del facts["sender.balance"]
    with pytest.raises(InvalidCall, match=r"`sender\.balance` is missing"):
        explain(book.rule_file("send"), policy, facts)


def _value(spec: catalog.FactSpec, policy: Policy, near: list[int]) -> st.SearchStrategy[Any]:
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "int":
        return st.sampled_from(near) | st.integers(-3, 120)
    choices = resolve_choices(spec, policy)
    assert choices
    return st.sampled_from(choices)


@st.composite
def _situation(draw: st.DrawFn, event: str, policy: Policy) -> dict[str, Any]:
    """Some facts of ``event`` given (numbers near the rules' constants), the rest left to defaults."""
    consts = int_constants(yaml.safe_load((SHIPPED / f"{event}.yaml").read_text(encoding="utf-8")), policy)
    near = sorted({c + d for c in consts for d in (-1, 0, 1)}) or [0, 1]
    specs = catalog.CATALOG[event]
    return draw(st.fixed_dictionaries({}, optional={n: _value(s, policy, near) for n, s in specs.items()}))


@pytest.mark.parametrize("event", EVENTS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_explain_agrees_with_the_rule_book(
    event: str, book: RuleBook, policy: Policy, data: st.DataObject
) -> None:
    known = given_facts(event, data.draw(_situation(event, policy)), policy)
    facts = complete_facts(event, known, policy)
    steps = explain(book.rule_file(event), policy, facts)
    assert steps[-1]["matched"]
    assert steps[-1]["rule"] == book.decide(event, facts).rule
    assert [s["rule"] for s in steps] == [r.id for r in book.rules(event)][: len(steps)]
    for step in steps[:-1]:
        assert not step["matched"] and (step["failed"] or step["other_failed"]), step


@pytest.mark.parametrize("seed", range(40))
def test_explain_agrees_on_random_rules_files(seed: int, policy: Policy, tmp_path: Path) -> None:
    """Every form of the grammar, nested: a row matches exactly when the loader's condition holds."""
    rng = random.Random(f"table-{seed}")
    event = catalog.EVENT_KINDS[seed % len(catalog.EVENT_KINDS)]
    doc = RuleGen(event, policy, rng).document()
    text = yaml.safe_dump(doc, sort_keys=False)
    rf = _read(text, policy, tmp_path, event)
    table = decision_table(rf, policy, file=f"rules/{event}.yaml")
    _edits_read_back(table, text)
    rows = table_rows(rf, policy)
    oracle = Oracle(doc, policy)
    consts = int_constants(doc, policy)
    for _ in range(200):
        facts = random_facts(event, policy, rng, consts)
        steps = explain(rf, policy, facts)
        assert steps[-1]["matched"] and steps[-1]["rule"] == oracle.decide(facts), (text, facts)
        for step, row in zip(steps, rows, strict=False):
            assert step["matched"] == holds(row.rule.when, facts), (text, facts, step)
            assert step["matched"] or step["failed"] or step["other_failed"]
