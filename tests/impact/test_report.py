"""The report an editor reads: which accounts changed and why, the headline, the ranking, the markdown.

The headline's numbers are checked against the report's own totals and
accounts (the sentences are built from them), not against typed prose only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

from engine.impact import ImpactReport, Side, compare_policies, to_markdown
from engine.impact.words import day

from .test_impact import EXAMPLES, POLICY, edited

#: A Career member granted at sign-up and at one renewal, who cancels before using any credit.
LEDGER_ONLY = """\
title: a Career member granted more, who cancels before using the credits
accounts:
  cara: {plan: career, since: 2026-01-01}
timeline:
  - at: 2026-02-01
    expect: {balance: {cara: 10}}
  - at: 2026-02-10
    cancel: {account: cara}
"""

CAREER_8_24 = [
    ("monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10"),
    ("cap: 15                     # R11", "cap: 24                     # R11"),
]
BUSINESS_20_60 = [
    ("monthly_allotment: 15       # R10", "monthly_allotment: 20       # R10"),
    ("cap: 45                     # R11", "cap: 60                     # R11"),
]


def edited_all(tmp_path: Path, edits: list[tuple[str, str]]) -> Path:
    text = POLICY.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "new-policies.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def ledger_only_case(tmp_path: Path) -> tuple[Path, Path]:
    """The scenario and the Career 5/15 -> 8/24 policy of the ledger-only change."""
    scenario = tmp_path / "cancel-early.yaml"
    scenario.write_text(LEDGER_ONLY, encoding="utf-8")
    return scenario, edited_all(tmp_path, CAREER_8_24)


def test_an_account_whose_ledger_alone_differs_is_changed(tmp_path: Path) -> None:
    # Base: 5 at sign-up, 5 at the 02-01 renewal, the cancel forfeits 10. New: 8 + 8, forfeits 16.
    # The same two decisions (subscribe, cancel), the same final 0: only the ledger tells them apart.
    scenario, new = ledger_only_case(tmp_path)
    r = compare_policies(base_policy=POLICY, new_policy=new, scenarios=[scenario])
    doc = r.to_dict()
    assert (r.changed, r.not_applicable, r.divergences) == (0, 0, {})
    assert r.base.balances == r.new.balances == {"cara": 0}
    career = doc["totals"]["career"]
    assert career["granted"] == {"base": 10, "new": 16, "change": 6}
    assert career["forfeited_cancel"] == {"base": 10, "new": 16, "change": 6}
    assert r.changed_accounts == ["cara"] and r.anything_changed and r.totals_differ
    cara = doc["accounts"]["cara"]
    assert cara["changed"] == ["ledger"] and cara["plan"] == "career"
    assert (cara["sends"], cara["granted"]) == ({"base": 0, "new": 0}, {"base": 10, "new": 16})
    first = cara["first_divergence"]
    assert first["step"] == "ledger" and first["at"].startswith("2026-01-01")
    assert (first["base"]["amount"], first["new"]["amount"]) == (5, 8)
    assert first["text"] == "1 Jan 2026: a renewal's grant is 8 credits, was 5"
    assert doc["headline"] == [
        "No account loses credits.",
        "Career grants +6 credits and forfeits +6 credits on cancel.",
        "1 Career account decides and ends the same, but its ledger differs.",
        "All 2 decisions are the same.",
    ]


def test_a_plan_total_that_differs_is_a_change_on_its_own() -> None:
    """`--fail-on-change` gates on the per-plan totals too, whatever the accounts say."""
    r = ImpactReport(Side("a"), Side("b"))
    assert not r.anything_changed
    r.new.totals["career"] = Counter({"granted": 3})
    assert r.totals_differ and r.anything_changed and r.changed_accounts == []


def test_nothing_changed_says_so_calmly() -> None:
    doc = compare_policies(base_policy=POLICY, new_policy=POLICY, scenarios=EXAMPLES).to_dict()
    assert doc["headline"][0] == "No account changes."
    assert doc["headline"][1] == f"{doc['decisions']} decisions compared, all the same."
    assert doc["losses"] == {"accounts": 0, "sends": 0, "credits": 0} and doc["accounts"] == {}
    assert doc["replay"]["kind"] == "stateful" and "played forward" in doc["replay"]["text"]
    assert all(v["change"] == 0 for plan in doc["totals"].values() for v in plan.values())


def _balance_sentence(doc: dict[str, Any], plan: str, title: str, more: bool) -> str:
    deltas = [
        a["new"] - a["base"]
        for a in doc["accounts"].values()
        if a["plan"] == plan and (a["new"] - a["base"] > 0 if more else a["new"] - a["base"] < 0)
    ]
    who = f"{len(deltas)} {title} account{'s' if len(deltas) != 1 else ''}"
    verb = "ends" if len(deltas) == 1 else "end"
    return f"{who} {verb} with {'more' if more else 'fewer'} credits ({sum(deltas):+d} in all)."


def test_the_headline_of_business_20_60_says_what_the_totals_say(tmp_path: Path) -> None:
    new = edited_all(tmp_path, BUSINESS_20_60)
    doc = compare_policies(base_policy=POLICY, new_policy=new, scenarios=EXAMPLES).to_dict()
    business = doc["totals"]["business"]
    assert {p for p, t in doc["totals"].items() if any(v["change"] for v in t.values())} == {"business"}
    moved = {m: v["change"] for m, v in business.items() if v["change"]}
    assert moved["granted"] > 0  # 5 more at every Business grant
    sentence = next(s for s in doc["headline"] if s.startswith("Business grants"))
    assert sentence.startswith(f"Business grants {moved['granted']:+d} credits")
    assert f"forfeits {moved['forfeited_cap']:+d} credits at the cap" in sentence
    assert f"lets {moved['expired']:+d} credits expire" in sentence
    assert doc["accounts"] and all(a["plan"] == "business" for a in doc["accounts"].values())
    assert _balance_sentence(doc, "business", "Business", more=True) in doc["headline"]
    assert doc["headline"][0] == "No account loses credits." and doc["losses"]["accounts"] == 0
    assert doc["headline"][-1] == f"All {doc['decisions']} decisions are the same."


def test_a_cap_cut_is_said_as_a_loss(tmp_path: Path) -> None:
    """Business cap 45 -> 30 (the feature's case): two Business members keep 15 fewer each."""
    new = edited(tmp_path, "cap: 45                     # R11", "cap: 30                     # R11")
    doc = compare_policies(base_policy=POLICY, new_policy=new, scenarios=EXAMPLES).to_dict()
    lower = [a["base"] - a["new"] for a in doc["accounts"].values() if a["new"] < a["base"]]
    assert doc["losses"] == {"accounts": len(lower), "sends": 0, "credits": sum(lower)}
    assert len(lower) == 2 and sum(lower) == 30
    assert doc["headline"][0] == _balance_sentence(doc, "business", "Business", more=False)
    assert "No account loses credits." not in doc["headline"]


PURCHASE = """\
title: a Sales Navigator member who wants more than the allotment
accounts:
  sam: {plan: sales_navigator, since: 2026-01-01}
  sue: {plan: sales_navigator, since: 2026-01-01}
timeline:
"""


def test_more_sends_are_said_per_plan_with_their_count(tmp_path: Path) -> None:
    """Sales Navigator made purchasable: two members who ran out buy 10 and 5 credits and send 3 and 2
    more (sam's change, 3 sends and 7 credits left, is the larger: he comes first)."""
    people = (("sam", 3, 10, 10), ("sue", 2, 5, 11))  # name, extra sends, credits bought, hour
    lines = [PURCHASE]
    for who, _, _, h in people:
        lines += [
            f"  - {{at: 2026-01-01T{h}:{i:02d}:00Z, send: {{from: {who}, to: r{i}}}}}\n" for i in range(20)
        ]
    for who, _, bought, h in people:
        lines.append(f"  - {{at: 2026-01-02T{h}:00:00Z, purchase: {{account: {who}, credits: {bought}}}}}\n")
    for who, extra, _, h in people:
        lines += [
            f"  - {{at: 2026-01-03T{h}:{i:02d}:00Z, send: {{from: {who}, to: x{i}}}}}\n" for i in range(extra)
        ]
    (tmp_path / "buy.yaml").write_text("".join(lines), encoding="utf-8")
    new = edited(tmp_path, "purchasable: false          # R18", "purchasable: true           # R18")
    doc = compare_policies(base_policy=POLICY, new_policy=new, scenarios=[tmp_path / "buy.yaml"]).to_dict()
    more = {n: a["sends"]["new"] - a["sends"]["base"] for n, a in doc["accounts"].items()}
    assert more == {"sam": 3, "sue": 2}
    assert doc["headline"][0] == "2 Sales Navigator accounts can send 5 more InMails over the replay."
    assert doc["headline"][1] == "No account loses credits."
    assert [(a["base"], a["new"]) for a in doc["accounts"].values()] == [(0, 7), (0, 3)]
    assert doc["headline"][2] == "2 Sales Navigator accounts end with more credits (+10 in all)."
    first = doc["accounts"]["sam"]["first_divergence"]
    assert first["step"] == "decision" and first["where"] == "buy.yaml:46"
    assert first["text"].startswith(
        f"{day(dt.datetime.fromisoformat(first['at']))}: a purchase that was denied"
    )


def _size(a: dict[str, Any]) -> int:
    return sum(abs((p["new"] or 0) - (p["base"] or 0)) for p in (a["sends"], a["granted"], a))


def test_accounts_come_largest_change_first_each_with_its_first_step_in_words(tmp_path: Path) -> None:
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    doc = compare_policies(base_policy=POLICY, new_policy=new, scenarios=EXAMPLES).to_dict()
    rows = list(doc["accounts"].items())
    assert len(rows) > 3
    keys = [(-_size(a), name) for name, a in rows]
    assert keys == sorted(keys) and _size(rows[0][1]) > _size(rows[-1][1])
    for _, a in rows:
        assert a["changed"] and set(a["changed"]) <= {"ledger", "decisions", "balance"}
        assert a["first_divergence"]["text"].startswith(
            day(dt.datetime.fromisoformat(a["first_divergence"]["at"]))
        )
    dora = doc["accounts"]["buying-credits/dora"]
    assert dora["changed"] == ["ledger", "decisions", "balance"]
    assert "a send that was denied (no credits) is now sent" in dora["first_divergence"]["text"]
    assert [s for s in doc["headline"] if "decisions change" in s] == [
        f"{doc['changed']} of {doc['decisions']} decisions change."
    ]


def test_the_markdown_is_a_pull_request_comment(tmp_path: Path) -> None:
    new = edited_all(tmp_path, BUSINESS_20_60)
    doc = compare_policies(base_policy=POLICY, new_policy=new, scenarios=EXAMPLES).to_dict()
    text = to_markdown(doc)
    lines = text.splitlines()
    base, new_rev = doc["base"]["revision"], doc["new"]["revision"]
    assert lines[0] == f"## InMail policy impact: `{base}` → `{new_rev}`"
    assert lines[2 : 2 + len(doc["headline"])] == [f"- {s}" for s in doc["headline"]]
    header = lines.index("### Credits per plan") + 2
    assert lines[header].startswith("| plan | granted |") and lines[header + 1].startswith("|:--|")
    business = next(line for line in lines if line.startswith("| Business |"))
    granted = doc["totals"]["business"]["granted"]
    assert f"{granted['base']} → {granted['new']} ({granted['change']:+d})" in business
    assert text.index("<details>") > header and "</details>" in text
    assert "<summary>3 accounts changed, the largest change first</summary>" in text
    assert f"{doc['not_applicable']} calls not applicable" in text
    assert f"Base revision `{base}`, new revision `{new_rev}`." in lines[-1]

    same = to_markdown(compare_policies(base_policy=POLICY, new_policy=POLICY, scenarios=EXAMPLES).to_dict())
    assert same.splitlines()[2] == "- No account changes." and "<details>" not in same


def test_the_markdown_lists_50_accounts_then_says_how_many_more(tmp_path: Path) -> None:
    scenario, new = ledger_only_case(tmp_path)
    doc = compare_policies(base_policy=POLICY, new_policy=new, scenarios=[scenario]).to_dict()
    row = doc["accounts"]["cara"]
    doc["accounts"] = {f"m{i:02d}": row for i in range(57)} | {"a|b <script>": row}
    text = to_markdown(doc)
    assert text.count(" | ledger | ") == 50 and "and 8 more (the JSON report lists every one)." in text
    doc["accounts"] = {"a|b <script>": row}
    assert "| a\\|b &lt;script&gt; |" in to_markdown(doc)


def test_partial_reports_merge_into_the_json_of_one_process(tmp_path: Path) -> None:
    """Two workers' reports merge into the whole one, byte for byte, headline and new keys included."""
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    whole = compare_policies(base_policy=POLICY, new_policy=new, synthetic=40).to_dict()
    split = compare_policies(base_policy=POLICY, new_policy=new, synthetic=40, jobs=2).to_dict()
    assert json.dumps(whole) == json.dumps(split)
    assert any("ledger" in a["changed"] for a in whole["accounts"].values())
    assert whole["headline"] and whole["headline"] != ["No account changes."]
