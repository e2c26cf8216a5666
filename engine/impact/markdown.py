"""An impact report as a pull-request comment (``inmail impact --format markdown``).

Shaped like an Infracost comment, because reviewers of a policy repository
read it the same way: a title, the headline sentences, one table of what
each plan's credits do (base, new, change), the accounts in a collapsed
section (a comment over a year of 10,000 accounts must stay readable), the
calls that no longer apply, and both revisions, so the comment says what
was compared. It is made from the JSON form of the report, so it says what
the JSON says.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from engine.impact.words import plan_title

#: How many accounts the collapsed section lists (the JSON lists them all).
SHOWN_ACCOUNTS = 50

#: Each movement of credits as the table's columns name it.
MEASURES = {
    "granted": "granted",
    "consumed": "consumed",
    "credited_back": "credited back",
    "forfeited_cap": "forfeited (cap)",
    "forfeited_cancel": "forfeited (cancel)",
    "expired": "expired",
    "purchased": "purchased",
}


def _text(value: object) -> str:
    """User text (account names, plan names) as inert Markdown: no HTML, no table break."""
    return html.escape(str(value), quote=False).replace("|", "\\|").replace("`", "'")


def _pair(pair: Mapping[str, Any]) -> str:
    base, new = pair["base"], pair["new"]
    return f"{base} → {new}" if base != new else str(new)


def _cell(v: Mapping[str, int]) -> str:
    """``165`` when both sides agree, else ``165 → 220 (+55)``: the change is what a reviewer looks for."""
    if v["base"] == v["new"]:
        return str(v["new"])
    return f"{v['base']} → {v['new']} ({v['new'] - v['base']:+d})"


def _plans(totals: Mapping[str, Mapping[str, Mapping[str, int]]]) -> list[str]:
    """One row per plan, one column per movement of credits, each cell base → new (change)."""
    if not totals:
        return ["No credits moved under either policy."]
    measures = [m for m in MEASURES if any(moved[m]["base"] or moved[m]["new"] for moved in totals.values())]
    head = ["plan", *(MEASURES[m] for m in measures)]
    lines = ["| " + " | ".join(head) + " |", "|:--|" + "--:|" * len(measures)]
    for plan, moved in totals.items():
        cells = [_text(plan_title(plan)), *(_cell(moved[m]) for m in measures)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _accounts(accounts: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not accounts:
        return []
    count = len(accounts)
    lines = [
        "<details>",
        f"<summary>{count} account{'s' if count != 1 else ''} changed, the largest change first</summary>",
        "",
        "| account | plan | sends | credits granted | final balance | changed | first different step |",
        "|:--|:--|--:|--:|--:|:--|:--|",
    ]
    for name, a in list(accounts.items())[:SHOWN_ACCOUNTS]:
        first = a.get("first_divergence") or {}
        step = str(first.get("text", ""))
        if first.get("where"):
            step += f" ({first['where']})"
        balance = _pair({side: "-" if a[side] is None else a[side] for side in ("base", "new")})
        lines.append(
            f"| {_text(name)} | {_text(plan_title(str(a['plan'])))} | {_pair(a['sends'])} | "
            f"{_pair(a['granted'])} | {balance} | {', '.join(a['changed'])} | {_text(step)} |"
        )
    if count > SHOWN_ACCOUNTS:
        lines += ["", f"and {count - SHOWN_ACCOUNTS} more (the JSON report lists every one)."]
    return [*lines, "", "</details>"]


def _transitions(doc: Mapping[str, Any]) -> list[str]:
    moves = doc["transitions"]
    if not moves:
        return []
    lines = [
        "<details>",
        "<summary>How decisions changed</summary>",
        "",
        "| base | new | count | first example |",
        "|:--|:--|--:|:--|",
    ]
    for t in moves:
        lines.append(f"| {_text(t['from'])} | {_text(t['to'])} | {t['count']} | {_text(t['example'])} |")
    return [*lines, "", "</details>"]


def to_markdown(doc: Mapping[str, Any]) -> str:
    """The report (``ImpactReport.to_dict()``) as a pull-request comment in GitHub Markdown."""
    base, new = doc["base"]["revision"], doc["new"]["revision"]
    na = doc["not_applicable"]
    lines = [
        f"## InMail policy impact: `{base}` → `{new}`",
        "",
        *[f"- {_text(s)}" for s in doc["headline"]],
        "",
        "### Credits per plan",
        "",
        *_plans(doc["totals"]),
        "",
    ]
    for section in (_accounts(doc["accounts"]), _transitions(doc)):
        if section:
            lines += [*section, ""]
    lines += [
        f"{doc['decisions']} decisions compared, {doc['changed']} changed; "
        f"{na} call{'s' if na != 1 else ''} not applicable on one side. "
        f"Replay: {doc['replay']['text']}.",
        "",
        f"Base revision `{base}`, new revision `{new}`.",
    ]
    return "\n".join(lines) + "\n"
