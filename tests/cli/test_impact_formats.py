"""`inmail impact` through the command line: the gate on a ledger-only change, and the three formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from tests.impact.test_impact import POLICY
from tests.impact.test_report import ledger_only_case


@pytest.fixture
def case(tmp_path: Path) -> list[str]:
    """Career 5/15 -> 8/24 over a member who cancels before using a credit: only the ledger differs."""
    scenario, new = ledger_only_case(tmp_path)
    return ["impact", "--base", str(POLICY), "--policy", str(new), str(scenario)]


def test_a_ledger_only_change_fails_the_gate(case: list[str]) -> None:
    run = CliRunner()
    done = run.invoke(main, [*case, "--format", "json", "--fail-on-change"])
    assert done.exit_code == 1, done.output
    doc = json.loads(done.stdout)
    assert doc["changed"] == 0 and doc["accounts"]["cara"]["changed"] == ["ledger"]
    same = [*case[:4], str(POLICY), *case[5:]]  # the base policy on both sides
    assert run.invoke(main, [*same, "--fail-on-change"]).exit_code == 0
    assert run.invoke(main, case).exit_code == 0  # without the flag: the report is made


def test_the_table_starts_with_the_headline_and_says_the_replay_is_stateful(case: list[str]) -> None:
    done = CliRunner().invoke(main, case)
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[0] == "No account loses credits."
    assert lines[1] == "Career grants +6 credits and forfeits +6 credits on cancel."
    assert "1 account changed" in done.stdout and "Credits per plan" in done.stdout
    assert "1 Jan 2026: a renewal's grant is 8 credits, was 5" in done.stdout
    assert lines[-1].startswith("Replay: stateful: each account's history is played forward")


def test_the_markdown_format_is_a_comment(case: list[str]) -> None:
    done = CliRunner().invoke(main, [*case, "--format", "markdown"])
    assert done.exit_code == 0, done.output
    doc = json.loads(CliRunner().invoke(main, [*case, "--format", "json"]).stdout)
    text = done.stdout
    lines = text.splitlines()
    title = next(i for i, line in enumerate(lines) if line.startswith("## InMail policy impact"))
    assert doc["base"]["revision"] in lines[title] and doc["new"]["revision"] in lines[title]
    assert lines[title + 2 : title + 2 + len(doc["headline"])] == [f"- {s}" for s in doc["headline"]]
    assert "| Career | 10 → 16 (+6) |" in text and "<details>" in text and "</details>" in text
    assert "| cara | Career | 0 | 10 → 16 | 0 | ledger | 1 Jan 2026: a renewal's grant" in text
    assert "0 calls not applicable on one side" in text
