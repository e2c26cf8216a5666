"""What ``inmail simulate`` prints and returns when expectations fail, and in JSON."""

from __future__ import annotations

import json
import re
import sys
import textwrap

import pytest

from .conftest import EXAMPLES, Simulate

SCENARIO = textwrap.dedent("""\
    title: Wrong on purpose
    accounts:
      alice: {plan: career, since: 2026-01-15T09:00:00Z, connections: [bob]}
    timeline:
      - at: 2026-01-15T10:00:00Z
        send: {from: alice, to: carol, id: m1}
        expect: {outcome: sent_free, balance: {alice: 5}}
      - at: 2026-01-16
        send: {from: alice, to: bob}
        expect: {outcome: sent_free}
      - at: 2026-01-20
        respond: {message: m1, with: interested}
        expect: {status: replied, reason: null}
      - at: 2026-01-20
        expect: {reminded: []}
    """)

ISO = re.compile(r"^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d([+-]\\d\\d:\\d\\d|Z)$".replace("\\\\", "\\"))


def test_failed_expectations_exit_1_with_expected_got_and_line(simulate: Simulate) -> None:
    simulate.write("wrong.yaml", SCENARIO)
    result = simulate("wrong.yaml")
    assert result.exit_code == 1, result.stdout + result.stderr
    out = result.stdout
    assert "wrong.yaml:7:23: expectation_failed: expected outcome `sent_free`, got `sent`" in out
    assert "wrong.yaml:7:51: expectation_failed: expected balance of alice `5`, got `4`" in out
    assert "wrong.yaml:13:22: expectation_failed: expected status `replied`, got `accepted`" in out
    assert "wrong.yaml:15:24: expectation_failed: expected reminded [], got [m1]" in out
    assert "(step at line 5)" in out
    assert "FAIL wrong.yaml: 2 expectations passed, 4 failed" in out
    assert "✗ expected `sent_free`" in out  # highlighted in the table row itself
    assert "Traceback" not in out + result.stderr


def test_json_shape_is_the_contract(simulate: Simulate) -> None:
    simulate.write("wrong.yaml", SCENARIO)
    result = simulate("wrong.yaml", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert list(doc) == ["title", "steps", "balances", "expectations"]
    assert doc["title"] == "Wrong on purpose"
    assert doc["balances"] == {"alice": 5}  # every account, at the last step
    assert doc["expectations"] == {"passed": 2, "failed": 4}
    assert len(doc["steps"]) == 4
    keys = ["line", "at", "event", "outcome", "reason", "status", "balances", "rules", "system_events"]
    for step in doc["steps"]:
        assert list(step) == keys
        assert ISO.match(step["at"]), step["at"]
        for ev in step["system_events"]:
            assert ISO.match(ev["at"])
            assert {"event", "account", "outcome", "reason", "rules", "balance"} <= set(ev)
    first, second, third, checkpoint = doc["steps"]
    assert first["line"] == 5 and first["at"] == "2026-01-15T10:00:00+00:00"
    assert (first["event"], first["outcome"], first["reason"]) == ("send", "sent", None)
    assert first["balances"] == {"alice": 4} and first["rules"] == ["send-inmail"]
    setup = [ev for ev in first["system_events"] if ev["event"] == "subscribe"]
    assert setup and setup[0]["line"] == 3 and setup[0]["account"] == "alice"
    assert second["outcome"] == "sent_free"
    assert (third["event"], third["outcome"], third["status"]) == ("respond", "credited_back", "accepted")
    assert checkpoint["event"] is None and checkpoint["outcome"] is None and checkpoint["rules"] == []
    reminders = [ev for ev in third["system_events"] if ev["event"] == "remind"]
    assert [(ev["message"], ev["at"]) for ev in reminders] == [("m1", "2026-01-18T10:00:00+00:00")]


def test_json_for_several_files(simulate: Simulate) -> None:
    a = EXAMPLES / "plans-compared.yaml"
    simulate.write("wrong.yaml", SCENARIO)
    result = simulate(str(a), "wrong.yaml", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert list(doc) == ["files", "expectations"]
    assert [f["file"] for f in doc["files"]] == [str(a), "wrong.yaml"]
    assert all(list(f) == ["file", "title", "steps", "balances", "expectations"] for f in doc["files"])
    assert doc["expectations"]["failed"] == 4
    assert doc["expectations"]["passed"] == sum(f["expectations"]["passed"] for f in doc["files"])


def test_json_times_are_in_the_policy_zone(simulate: Simulate) -> None:
    result = simulate(str(EXAMPLES / "policy-knobs.yaml"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["steps"][0]["at"] == "2026-01-02T09:00:00+09:00"


def test_several_files_summary_and_total(simulate: Simulate) -> None:
    simulate.write("wrong.yaml", SCENARIO)
    result = simulate(str(EXAMPLES / "career-first-quarter.yaml"), "wrong.yaml")
    assert result.exit_code == 1
    assert "PASS " in result.stdout and "FAIL wrong.yaml" in result.stdout
    assert "total: 2 scenarios" in result.stdout and "4 failed (1 scenario failing)" in result.stdout


def test_one_bad_file_stops_every_file_before_running(simulate: Simulate) -> None:
    simulate.write("bad.yaml", "title: t\ntimeline:\n  - at: 2026-01-01\n    sned: {}\n")
    result = simulate(str(EXAMPLES / "career-first-quarter.yaml"), "bad.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "bad.yaml:4:5: unknown_key" in result.stderr


def test_missing_file_is_exit_2(simulate: Simulate) -> None:
    result = simulate("nope.yaml")
    assert result.exit_code == 2
    assert "file_not_found" in result.stderr and "Traceback" not in result.stderr


def test_bad_policy_file_is_exit_2(simulate: Simulate) -> None:
    simulate.write("policy.yaml", "timezone: UTC\nplans: {career: {premium: yes}}\n")
    result = simulate(str(EXAMPLES / "career-first-quarter.yaml"), "--policy", "policy.yaml")
    assert result.exit_code == 2
    assert "policy.yaml:2:" in result.stderr and "Traceback" not in result.stderr


def test_bad_rules_folder_is_exit_2_and_nothing_runs(simulate: Simulate) -> None:
    (simulate.folder / "rules").mkdir()
    simulate.write("rules/send.yaml", "event: send\nrules:\n  - id: x\n")
    result = simulate(str(EXAMPLES / "career-first-quarter.yaml"), "--rules", "rules")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert "rules/send.yaml:" in result.stderr and "Traceback" not in result.stderr


def test_progress_bar_never_pollutes_json(simulate: Simulate, monkeypatch: pytest.MonkeyPatch) -> None:
    bar = sys.modules["engine.cli._progress"]
    monkeypatch.setattr(bar, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(bar, "stderr_is_terminal", lambda: True)
    result = simulate(str(EXAMPLES / "plans-compared.yaml"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)


def test_progress_bar_goes_to_stderr(simulate: Simulate, monkeypatch: pytest.MonkeyPatch) -> None:
    bar = sys.modules["engine.cli._progress"]
    shown: list[int] = []
    real = bar.ProgressBar.__call__

    def spy(self: object, done: int, total: int) -> None:
        real(self, done, total)
        shown.append(int(getattr(self, "progress", None) is not None))

    monkeypatch.setattr(bar, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(bar, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(bar.ProgressBar, "__call__", spy)
    result = simulate(str(EXAMPLES / "plans-compared.yaml"))
    assert result.exit_code == 0
    assert shown and all(shown)
    assert "simulating" not in result.stdout


def test_no_progress_bar_when_stderr_is_not_a_terminal(simulate: Simulate) -> None:
    result = simulate(str(EXAMPLES / "plans-compared.yaml"))
    assert result.exit_code == 0
    assert result.stderr == ""


def test_every_json_time_is_in_the_policy_zone(simulate: Simulate) -> None:
    result = simulate(str(EXAMPLES / "policy-knobs.yaml"), "--format", "json")
    doc = json.loads(result.stdout)
    times = [s["at"] for s in doc["steps"]] + [e["at"] for s in doc["steps"] for e in s["system_events"]]
    assert times and all(t.endswith("+09:00") for t in times), times
    remind = next(e for s in doc["steps"] for e in s["system_events"] if e["event"] == "remind")
    assert remind["at"] == "2026-01-04T09:00:00+09:00"  # two days after the 09:00 send (knob)


MANY = """\
title: one send per account
accounts:
{accounts}
timeline:
{steps}
  - at: 2026-03-01
    expect: {{balance: {{a1: 14}}}}
"""


def _many(n: int) -> str:
    accounts = "\n".join(f"  a{i}: {{plan: career, since: 2026-01-01}}" for i in range(n))
    steps = "\n".join(
        f"  - at: 2026-01-02T00:00:{i:02d}\n    send: {{from: a{i}, to: r{i}}}" for i in range(n)
    )
    return MANY.format(accounts=accounts, steps=steps)


def test_a_step_shows_only_the_accounts_it_touched(simulate: Simulate) -> None:
    simulate.write("many.yaml", _many(5))
    result = simulate("many.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    first, *sends, checkpoint = doc["steps"]
    assert set(first["balances"]) == {f"a{i}" for i in range(5)}  # the five set-ups ride on the first step
    assert [s["balances"] for s in sends] == [{f"a{i}": 4} for i in range(1, 5)]
    # the checkpoint names a1, and the renewals due by then changed every account
    assert set(checkpoint["balances"]) == {f"a{i}" for i in range(5)} and checkpoint["balances"]["a1"] == 14
    assert doc["balances"] == {f"a{i}": 14 for i in range(5)}


def test_balances_read_grow_linearly_with_the_accounts(
    simulate: Simulate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: the balances a run reads are proportional to its accounts."""
    import engine.core.engine as core

    reads = []
    real = core.Engine.balance
    monkeypatch.setattr(core.Engine, "balance", lambda self, *a, **k: reads.append(1) or real(self, *a, **k))
    counts = {}
    for n in (10, 40):
        reads.clear()
        simulate.write(f"many{n}.yaml", _many(n).replace("    expect: {balance: {a1: 14}}\n", ""))
        assert simulate(f"many{n}.yaml", "--format", "json").exit_code == 0
        counts[n] = len(reads)
    assert counts[40] <= 4 * counts[10] + 4, counts
