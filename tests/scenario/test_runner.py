"""The runner's ordering: set-ups interleaved with steps by time, system events between steps."""

from __future__ import annotations

from pathlib import Path

from engine.scenario.load import load_scenario
from engine.scenario.run import ScenarioResult, run_scenario

SCENARIO = """\
title: ordering
accounts:
  early: {plan: career, since: 2026-01-01}
  late: {plan: business, since: 2026-01-10}
  last: {plan: career, since: 2026-03-01}
timeline:
  - at: 2026-01-05
    send: {from: early, to: x, id: m1}
  - at: 2026-01-10
    expect: {balance: {late: 15, early: 4}}
  - at: 2026-02-01
    subscribe: {account: newbie, plan: sales_navigator}
    expect: {outcome: subscribed, balance: {newbie: 20}}
"""


def run(tmp_path: Path, text: str = SCENARIO) -> ScenarioResult:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return run_scenario(load_scenario(path))


def test_accounts_start_in_time_order_with_the_timeline(tmp_path: Path) -> None:
    result = run(tmp_path)
    first, second, third = result.steps
    assert list(first.balances) == ["early"]  # `late` has not started yet
    assert [e.event for e in first.system_events] == ["subscribe", "renew"]
    assert first.system_events[0].line == 3
    # `late` starts at the same instant as the checkpoint: set-up first
    assert [(e.event, e.account) for e in second.system_events] == [
        ("remind", "early"),
        ("subscribe", "late"),
        ("renew", "late"),
    ]
    assert second.failures == ()
    # renewals of every account between steps, in time order
    renewals = [(e.account, e.at.day) for e in third.system_events if e.event == "renew"]
    assert renewals == [("early", 1)]
    assert third.own_events and third.own_events[0].event == "renew"  # the start grant of the subscribe
    assert third.balances["newbie"] == 20
    # an account set up after the last step still runs, its events trail the table
    trailing = [(e.event, e.account) for e in result.trailing if e.event == "subscribe"]
    assert trailing == [("subscribe", "last")]
    assert result.ok and result.passed == 4


def test_history_and_starts_feed_the_chart(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert set(result.history) == {"early", "late", "last", "newbie"}
    assert result.starts["late"].day == 10
    assert result.history["early"][0].kind == "grant"


def test_json_of_a_result_has_only_the_contract_keys(tmp_path: Path) -> None:
    doc = run(tmp_path).to_dict()
    assert list(doc) == ["title", "steps", "balances", "expectations"]
    assert doc["steps"][2]["system_events"][-1]["event"] == "renew"  # own events come last
