"""`inmail decide`: typed facts, defaults, both output formats, and exit code 2 for bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.cli import main
from engine.policy import Policy
from engine.rules import catalog
from engine.rules.book import RuleBook
from engine.rules.defaults import complete_facts


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["decide", *args])


def test_the_documented_example(book: RuleBook) -> None:
    result = run("send", "--fact", "sender.premium=false")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "denied / upgrade_required"
    assert "basic-must-upgrade (R02)" in lines[1]
    assert f"revision: {book.revision}" in result.output
    assert "sender.premium = false\n" in result.output
    assert "sender.balance = 5  (default)" in result.output


def test_json_output() -> None:
    result = run(
        "send", "--fact", "sender.balance=0", "--fact", "sender.plan=sales_navigator", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rule"] == "no-credits" and data["reason"] == "no_credits"
    assert data["requirements"] == ["R01", "R18"]
    assert data["facts"]["plan.purchasable"] is False  # follows the plan given
    assert data["given"] == ["sender.balance", "sender.plan"]


@pytest.mark.parametrize("event", catalog.EVENT_KINDS)
def test_every_event_decides_with_defaults(event: str) -> None:
    result = run(event, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["event"] == event


def test_defaults_follow_given_facts(policy: Policy) -> None:
    facts = complete_facts("respond", {"message.age_days": 91, "response.type": "not_interested"}, policy)
    assert facts["response.within_window"] is False and facts["response.status"] == "declined"
    facts = complete_facts("purchase", {"account.plan": "basic"}, policy)
    assert facts["account.premium"] is False and facts["plan.cap"] == 0
    assert complete_facts("send", {}, policy)["sender.premium"] is True


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["send", "--fact", "sender.premum=false"], "did you mean `sender.premium`?"),
        (["send", "--fact", "sender.premium=yes"], '`sender.premium` must be true or false, not "yes"'),
        (["send", "--fact", "sender.balance=five"], '`sender.balance` must be a whole number, not "five"'),
        (["send", "--fact", "sender.plan=carrer"], "did you mean `career`?"),
        (["send", "--fact", "sender.premium"], "NAME=VALUE"),
        (["sned"], "did you mean `send`?"),
        (["send", "--fact", "purchase.credits=3"], "`send` has no fact `purchase.credits`"),
    ],
)
def test_bad_input_exits_2(args: list[str], words: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output


def test_facts_file(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps({"sender.balance": 0, "pair.awaiting_response": False}), encoding="utf-8")
    result = run("send", "--facts", str(path), "--format", "json")
    assert json.loads(result.output)["rule"] == "no-credits-can-buy"
    result = run("send", "--facts", str(path), "--fact", "sender.balance=2", "--format", "json")
    assert json.loads(result.output)["rule"] == "send-inmail"  # --fact wins over the file


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "cannot read facts"),
        ("[1, 2]", "JSON object"),
        ('{"sender.balance": "0"}', "must be a whole number"),
        ('{"sender.premium": 1}', "must be true or false"),
        ('{"sender.premum": true}', "did you mean `sender.premium`?"),
    ],
)
def test_bad_facts_file(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "facts.json"
    path.write_text(content, encoding="utf-8")
    result = run("send", "--facts", str(path))
    assert result.exit_code == 2 and words in result.output, result.output


def test_policy_and_rules_options(tmp_path: Path, rules_dir: Path) -> None:
    policy = tmp_path / "policies.yaml"
    text = Path(rules_dir.parent / "policies.yaml").read_text(encoding="utf-8")
    policy.write_text(
        text.replace("purchasable: true           # R17", "purchasable: false", 1), encoding="utf-8"
    )
    result = run("send", "--fact", "sender.balance=0", "--policy", str(policy), "--format", "json")
    assert json.loads(result.output)["rule"] == "no-credits"  # career is no longer purchasable

    work = tmp_path / "rules"
    shutil.copytree(rules_dir, work)
    send = work / "send.yaml"
    send.write_text(send.read_text(encoding="utf-8").replace("{below: 1}", "{below: 3}"), encoding="utf-8")
    result = run("send", "--fact", "sender.balance=2", "--rules", str(work), "--format", "json")
    assert json.loads(result.output)["rule"] == "no-credits-can-buy"


def test_invalid_policy_exits_2(tmp_path: Path) -> None:
    policy = tmp_path / "policies.yaml"
    policy.write_text("plans: {career: {premium: maybe}}\n", encoding="utf-8")
    result = run("send", "--policy", str(policy))
    assert result.exit_code == 2 and "policies.yaml:1:" in result.output
