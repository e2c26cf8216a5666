"""``inmail impact`` / ``compare_policies``: a policy against itself changes nothing; hand-computed edits.

The expected numbers of each edit are worked out by hand in the comments,
from docs/semantics.md, over examples/scenarios/career-first-quarter.yaml
(lots written L<n> (amount, expiry), as in that file) or a small scenario.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.impact import ImpactReport, compare_policies

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "policies.yaml"
CAREER = REPO / "examples" / "scenarios" / "career-first-quarter.yaml"
EXAMPLES = sorted((REPO / "examples" / "scenarios").glob("*.yaml"))


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = POLICY.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "new-policies.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _moved(r: ImpactReport, plan: str) -> dict[str, tuple[int, int]]:
    totals = r.to_dict()["totals"][plan]
    return {m: (v["base"], v["new"]) for m, v in totals.items() if v["base"] or v["new"]}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_a_policy_against_itself_changes_nothing(path: Path) -> None:
    r = compare_policies(base_policy=POLICY, new_policy=POLICY, scenarios=[path])
    assert (r.changed, r.not_applicable, r.changed_accounts) == (0, 0, [])
    assert r.decisions > 0 and r.base.rules == r.new.rules and r.base.totals == r.new.totals


def test_a_policy_against_itself_over_a_synthetic_year() -> None:
    """100 accounts (some 10,000 decisions) already meet every plan and every kind of call; the
    benchmark (bench/) replays the large years."""
    r = compare_policies(base_policy=POLICY, new_policy=POLICY, synthetic=100)
    assert r.decisions > 9_000
    assert (r.changed, r.not_applicable, r.changed_accounts) == (0, 0, [])


#: A policy of another product: other plan names and response types, the shipped rules (which name
#: no plan) unchanged.
OTHER_PRODUCT = """\
timezone: UTC
credits: {lifetime_days: 60}
renewal: {grant_on_start: true}
cap: {on_overflow: trim_new, applies_to: [monthly]}
credit_back: {window_days: 30, lot: new}
reminder: {after_days: 2}
purchase: {credit_lifetime_days: 180}
responses: {answered: replied, keen: accepted, no_thanks: declined}
plans:
  free: {premium: false, monthly_allotment: 0, cap: 0, purchasable: false}
  pro: {premium: true, monthly_allotment: 10, cap: 30, purchasable: true}
  team: {premium: true, monthly_allotment: 25, cap: 75, purchasable: false}
"""


def test_a_synthetic_year_takes_the_plans_and_response_types_of_its_policy(tmp_path: Path) -> None:
    from engine.impact.synthetic import year_of_events
    from engine.policy import load_policy

    path = tmp_path / "other.yaml"
    path.write_text(OTHER_PRODUCT, encoding="utf-8")
    calls = list(year_of_events(80, policy=load_policy(path)))
    plans = {c.args["plan"] for c in calls if c.event == "subscribe"}
    assert plans == {"free", "pro", "team"}
    assert {c.args["response_type"] for c in calls if c.event == "respond"} == {
        "answered",
        "keen",
        "no_thanks",
    }
    plan_of = {c.args["account"]: c.args["plan"] for c in calls if c.event == "subscribe"}
    assert {plan_of[c.args["account"]] for c in calls if c.event == "purchase"} == {
        "pro"
    }  # the one that may buy

    r = compare_policies(base_policy=path, new_policy=path, synthetic=80)
    assert r.decisions > 5_000 and (r.changed, r.not_applicable) == (0, 0)
    totals = r.to_dict()["totals"]
    assert set(totals) == {"pro", "team"}  # the Premium plans, whose credits moved
    assert totals["pro"]["granted"]["base"] > 0 and totals["team"]["consumed"]["base"] > 0

    shipped = compare_policies(base_policy=path, new_policy=POLICY, synthetic=20)
    assert shipped.not_applicable > 0  # the shipped policy has none of these plans: its side refuses


def test_splitting_the_accounts_over_workers_gives_the_same_report(tmp_path: Path) -> None:
    """60 accounts: a year whose last calls include refused ones, which the whole report once left
    out of its end instant while each share counted them (an expiry more or less when merged)."""
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    one = compare_policies(base_policy=POLICY, new_policy=new, synthetic=60)
    two = compare_policies(base_policy=POLICY, new_policy=new, synthetic=60, jobs=2)
    assert one.changed > 0 and one.to_dict() == two.to_dict()
    assert one.base.daily() == two.base.daily() and one.new.daily() == two.new.daily()


def test_career_5_to_8(tmp_path: Path) -> None:
    # With 8 a month: L1 (8, 04-15). Sends m1, m4, m5 take 3 from L1 (5 left); m4 and m1 are
    # credited back as L2, L3 (1 each): 7. 02-15: L4 +8 -> 15, at the cap. 03-15: L5 +8 -> 23,
    # over by 8: forfeit L1 5, L2 1, L3 1, L4 1 -> 15. 04-15: L1 is empty, nothing expires;
    # L6 +8 -> 23, forfeit L4 7, L5 1 -> 15. Every decision is the same (the sends never lacked a
    # credit), and alice ends at the cap either way: 15. Her ledger differs from the first grant on
    # (8, not 5), so she is changed, for that reason alone.
    # Base (the file's comments): granted 4 x 5 = 20, forfeited 2, expired 2 (L1 at 04-15).
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    r = compare_policies(base_policy=POLICY, new_policy=new, scenarios=[CAREER])
    assert (r.decisions, r.changed, r.not_applicable, r.transitions) == (10, 0, 0, {})
    assert r.base.balances == r.new.balances == {"alice": 15}
    assert r.changed_accounts == ["alice"] and r.reasons("alice") == ["ledger"]
    first = r.ledgers["alice"]
    assert (first.base, first.new) == (
        ("grant", 5, 1, first.at, "renew"),
        ("grant", 8, 1, first.at, "renew"),
    )
    assert _moved(r, "career") == {
        "granted": (20, 32),
        "consumed": (3, 3),
        "credited_back": (2, 2),
        "forfeited_cap": (2, 16),
        "expired": (2, 0),
    }
    assert (r.base.rules["expire/credits-expire"], r.new.rules["expire/credits-expire"]) == (1, 0)


def test_cap_forfeit_oldest_to_trim_new(tmp_path: Path) -> None:
    # trim_new: up to 04-15 nothing reaches the cap (14 at most). 04-15: L1's 2 expire -> 12
    # (L2 1, L3 1, L4 5, L5 5); the renewal adds only what fits: L6 3 -> 15, nothing forfeited.
    # Then L2 expires 04-17 12:00 -> 14 and L3 at 04-20 00:00 -> 13: alice ends at 13, not 15.
    new = edited(tmp_path, "on_overflow: forfeit_oldest", "on_overflow: trim_new")
    r = compare_policies(base_policy=POLICY, new_policy=new, scenarios=[CAREER])
    assert r.changed == 0 and r.changed_accounts == ["alice"]
    assert r.reasons("alice") == ["ledger", "balance"]
    assert (r.base.balances["alice"], r.new.balances["alice"]) == (15, 13)
    assert r.divergences == {}  # no call was answered differently: only the renewal's grant
    assert _moved(r, "career") == {
        "granted": (20, 18),
        "consumed": (3, 3),
        "credited_back": (2, 2),
        "forfeited_cap": (2, 0),
        "expired": (2, 4),
    }


WINDOW = """\
title: responses 10, 45, 80 and 95 days after their sends
accounts:
  alice: {plan: career, since: 2026-01-01}
timeline:
  - {at: 2026-01-02, send: {from: alice, to: b1, id: m1}}
  - {at: 2026-01-02, send: {from: alice, to: b2, id: m2}}
  - {at: 2026-01-02, send: {from: alice, to: b3, id: m3}}
  - {at: 2026-01-02, send: {from: alice, to: b4, id: m4}}
  - {at: 2026-01-12, respond: {message: m1, with: reply}}
  - {at: 2026-02-16, respond: {message: m2, with: interested}}
  - {at: 2026-03-23, respond: {message: m3, with: reply}}
  - {at: 2026-04-07, respond: {message: m4, with: reply}}
"""


def test_credit_back_window_90_to_30(tmp_path: Path) -> None:
    # Day 10: in time under both. Days 45 and 80: in time under 90, late under 30. Day 95: late
    # under both. So two responses go credited_back -> not_credited/late_response, and alice's
    # history parts at the day-45 response (line 10). Base: 5 - 4 sends + 1 = 2; 02-01 +5 = 7,
    # +1 = 8; 03-01 +5 = 13, +1 = 14; 04-01: the January lot's last credit expires (13), +5 = 18,
    # over the cap by 3 -> 15. New: 2 credits fewer before 04-01 (12 -> 11 -> 16), over by 1 -> 15.
    # The cap absorbs the difference: both end at 15, with 3 and 1 credits forfeited.
    (tmp_path / "window.yaml").write_text(WINDOW, encoding="utf-8")
    new = edited(tmp_path, "window_days: 90", "window_days: 30")
    r = compare_policies(base_policy=POLICY, new_policy=new, scenarios=[tmp_path / "window.yaml"])
    assert r.transitions == {("credited_back", "not_credited/late_response"): 2}
    assert r.changed_accounts == ["alice"] and r.base.balances == r.new.balances == {"alice": 15}
    assert _moved(r, "career")["forfeited_cap"] == (3, 1)
    first = r.divergences["alice"]
    assert first.where == "window.yaml:10"
    assert first.base["outcome"] == "credited_back" and first.new["reason"] == "late_response"


PURCHASE = """\
title: a Sales Navigator member who wants more than the allotment
accounts:
  sam: {plan: sales_navigator, since: 2026-01-01}
timeline:
  - {at: 2026-01-02, purchase: {account: sam, credits: 10}}
  - {at: 2026-01-03, send: {from: sam, to: x, id: extra}}
  - {at: 2026-01-05, respond: {message: extra, with: reply}}
"""


def test_sales_navigator_made_purchasable(tmp_path: Path) -> None:
    # The 20 monthly credits are used up first by 20 sends; then the purchase (not_purchasable ->
    # purchased), the 21st send (no credits -> sent, from the bought lot), and its answer: under
    # the base policy that send was denied, so no message `extra` exists and the response is
    # not_applicable; under the new one it is credited_back.
    sends = "".join(
        f"  - {{at: 2026-01-01T10:{i:02d}:00Z, send: {{from: sam, to: r{i}}}}}\n" for i in range(20)
    )
    text = PURCHASE.replace("timeline:\n", "timeline:\n" + sends)
    (tmp_path / "buy.yaml").write_text(text, encoding="utf-8")
    new = edited(tmp_path, "purchasable: false          # R18", "purchasable: true           # R18")
    r = compare_policies(base_policy=POLICY, new_policy=new, scenarios=[tmp_path / "buy.yaml"])
    assert r.transitions == {
        ("denied/not_purchasable", "purchased"): 1,
        ("denied/no_credits", "sent"): 1,
        ("not_applicable", "credited_back"): 1,
    }
    assert (r.changed, r.not_applicable) == (2, 1)
    assert (r.base.balances["sam"], r.new.balances["sam"]) == (0, 10)  # 10 bought, 1 used, 1 back


def test_the_command_reports_in_json_and_gates_on_change(tmp_path: Path) -> None:
    run = CliRunner()
    new = edited(tmp_path, "window_days: 90", "window_days: 30")
    (tmp_path / "window.yaml").write_text(WINDOW, encoding="utf-8")
    args = ["impact", "--base", str(POLICY), "--policy", str(new), str(tmp_path / "window.yaml")]
    done = run.invoke(main, [*args, "--format", "json"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert list(doc) == [  # the contract's keys in its order, then the additions
        "base",
        "new",
        "headline",
        "decisions",
        "changed",
        "not_applicable",
        "transitions",
        "rules",
        "totals",
        "accounts",
        "replay",
        "usable",
        "losses",
    ]
    # usable credits over time: both sides, on each day either side moved some, in order
    days = [d["day"] for d in doc["usable"]]
    assert days == sorted(set(days)) and len(days) > 1
    assert list(doc["accounts"]["alice"]) == [
        "plan",
        "base",
        "new",
        "changed",
        "sends",
        "granted",
        "first_divergence",
    ]
    first = doc["transitions"][0]
    assert (first["from"], first["to"], first["count"]) == ("credited_back", "not_credited/late_response", 2)
    assert doc["accounts"]["alice"]["first_divergence"]["where"] == "window.yaml:10"
    assert run.invoke(main, [*args, "--fail-on-change"]).exit_code == 1
    same = ["impact", "--base", str(POLICY), "--policy", str(POLICY), str(tmp_path / "window.yaml")]
    assert run.invoke(main, [*same, "--fail-on-change"]).exit_code == 0
    table = run.invoke(main, args)
    assert "How decisions changed" in table.stdout and "Most affected accounts" in table.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([], "usage_error"),
        (["--db", "{tmp}/missing.db"], "store_not_found"),
        (["--synthetic", "5", "x.yaml"], "usage_error"),
        (["--synthetic", "0"], "invalid_argument"),
        (["--base", "nothere.yaml", "--synthetic", "5"], "file_not_found"),
        (["--synthetic", "5", "--plot", "chart.jpg"], "invalid_argument"),
        (["--jobs", "2", "x.yaml"], "usage_error"),
        (["--synthetic", "5", "--jobs", "0"], "invalid_argument"),
    ],
)
def test_bad_input_is_refused(args: list[str], code: str, tmp_path: Path) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    full = ["impact", *args] if "--base" in args else ["impact", "--base", str(POLICY), *args]
    result = CliRunner().invoke(main, full)
    assert result.exit_code == 2, result.output
    assert list(tmp_path.iterdir()) == []  # nothing written, not even an empty database
    assert f"{code}: " in result.stderr and "Traceback" not in result.stderr


def test_a_stores_event_log_is_a_source_and_gives_what_its_scenario_gives(tmp_path: Path) -> None:
    """A store filled by a scenario, compared through its log, reports what the scenario file does."""
    scenario = REPO / "examples" / "scenarios" / "buying-credits.yaml"
    db = str(tmp_path / "run.db")
    made = CliRunner().invoke(main, ["simulate", str(scenario), "--db", db])
    assert made.exit_code == 0, made.output
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    by_file = compare_policies(base_policy=POLICY, new_policy=new, scenarios=[scenario]).to_dict()
    by_log = compare_policies(base_policy=POLICY, new_policy=new, db=db).to_dict()
    for key in ("decisions", "changed", "not_applicable", "rules", "totals"):
        assert by_log[key] == by_file[key], key
    assert [(t["from"], t["to"], t["count"]) for t in by_log["transitions"]] == [
        (t["from"], t["to"], t["count"]) for t in by_file["transitions"]
    ]
    assert {a: (v["base"], v["new"]) for a, v in by_log["accounts"].items()} == {
        a: (v["base"], v["new"]) for a, v in by_file["accounts"].items()
    }
    same = compare_policies(base_policy=POLICY, new_policy=POLICY, db=db)
    assert (same.changed, same.not_applicable, same.changed_accounts) == (0, 0, [])


def test_not_applicable_is_what_the_catalog_calls_a_refused_call() -> None:
    """A call one side refuses whole is not applicable there; any other engine error stops the report."""
    import datetime as dt
    from typing import Any

    from engine.codes import C
    from engine.events import KINDS
    from engine.impact.compare import _answer
    from engine.impact.synthetic import Call

    class Refusing:
        def __init__(self, code: C) -> None:
            self.code = code

        def call(self, *args: Any, **kwargs: Any) -> Any:
            raise self.code("refused")

    call = Call("send", {"sender": "alice", "recipient": "carol"}, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    kind = KINDS["send"]
    for code in (C.unknown_message, C.invalid_argument, C.time_went_back):
        assert code.refused_call
        assert _answer(Refusing(code), kind, call).code == code
    for code in (C.store_unavailable, C.rule_engine_failure, C.store_not_found):
        assert not code.refused_call
        with pytest.raises(type(code("x"))):
            _answer(Refusing(code), kind, call)


def test_usable_credits_over_time_end_at_the_sum_of_the_final_balances() -> None:
    """The series is built from every ledger entry as it is written; its last point must be what
    every account holds at the end, on each side (a missed or doubled entry would show)."""
    from engine.impact import compare_policies

    report = compare_policies(
        base_policy=POLICY,
        new_policy=POLICY,
        scenarios=sorted((REPO / "examples" / "scenarios").glob("*.yaml"))[:3],
    )
    doc = report.to_dict()
    last = doc["usable"][-1]
    assert last["base"] == sum(report.base.balances.values()) > 0
    assert last["new"] == sum(report.new.balances.values())
