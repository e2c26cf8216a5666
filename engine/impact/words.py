"""An impact report in plain words: the headline and each account's first different step.

A policy editor reads the headline before anything else, so it is built
from the numbers the report already holds (never typed by hand) and says
the good news as calmly as the bad: "No account changes." when nothing does,
a loss only when some account really sends fewer InMails or ends with fewer
credits. The sentences work on the JSON form of the report, so the CLI, the
pull-request comment and the workbench page all say the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

#: The kind of replay an impact report runs, and what that means for its numbers.
REPLAY = "stateful"
REPLAY_NOTE = (
    "stateful: each account's history is played forward under the new policy, "
    "so a changed decision changes what follows"
)

#: What each movement of credits does, as a verb phrase around its signed amount.
_VERBS = {
    "granted": "grants {}",
    "consumed": "uses {} for sends",
    "credited_back": "credits back {}",
    "forfeited_cap": "forfeits {} at the cap",
    "forfeited_cancel": "forfeits {} on cancel",
    "expired": "lets {} expire",
    "purchased": "sells {}",
}

#: A call or a system event of each kind, as a noun; a kind not named here reads as "a <kind> call".
_NOUNS = {
    "send": "a send",
    "respond": "a response",
    "purchase": "a purchase",
    "subscribe": "a subscription",
    "cancel": "a cancel",
    "change_plan": "a plan change",
    "connect": "a connection",
    "payment": "a payment update",
    "renew": "a renewal",
    "expire": "an expiry",
    "remind": "a reminder",
}

#: Ledger entry kinds, as nouns.
_ENTRIES = {
    "grant": "grant",
    "consume": "use",
    "credit_back": "credit back",
    "expire": "expiry",
    "forfeit_cap": "forfeit at the cap",
    "forfeit_cancel": "forfeit on cancel",
    "purchase": "purchase",
}


def plan_title(plan: str) -> str:
    """``sales_navigator`` -> ``Sales Navigator``; ``?`` (a call no account could be found for)."""
    return "unattributed" if plan == "?" else plan.replace("_", " ").title()


def day(at: dt.datetime) -> str:
    """``14 Feb 2026``: the way a person writes a date, the same on every platform."""
    return f"{at.day} {at:%b %Y}"


def _n(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if abs(count) == 1 else plural or noun + 's'}"


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def event_noun(event: str) -> str:
    """``send`` -> ``a send``; a kind added later reads as ``a <kind> call``."""
    return _NOUNS.get(event) or _article(event.replace("_", " ") + " call")


def credits(amount: int, signed: bool = False) -> str:
    """``+6 credits``, ``1 credit``."""
    number = f"{amount:+d}" if signed else str(amount)
    return f"{number} credit{'' if abs(amount) == 1 else 's'}"


# ------------------------------------------------------------------ first different step


def _answer(side: Mapping[str, Any]) -> str:
    """``denied (no credits)``; ``not applicable (unknown message)`` for a call this side refused."""
    outcome, reason = str(side.get("outcome")), side.get("reason")
    text = outcome.replace("_", " ")
    return f"{text} ({str(reason).replace('_', ' ')})" if reason else text


def decision_words(event: str, at: dt.datetime, base: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """``14 Feb 2026: a send that was denied (no credits) is now sent (rule no-credits -> send-inmail)``."""
    noun, was, now = event_noun(event), _answer(base), _answer(new)
    if base.get("outcome") == "not_applicable":
        text = f"{noun} that did not apply ({was.partition('(')[2].rstrip(')')}) is now {now}"
    elif new.get("outcome") == "not_applicable":
        text = f"{noun} that was {was} no longer applies ({now.partition('(')[2].rstrip(')')})"
    elif was == now:
        return (
            f"{day(at)}: {noun} is still {now}, but by rule {new.get('rule')} instead of {base.get('rule')}"
        )
    else:
        text = f"{noun} that was {was} is now {now}"
    rules = (base.get("rule"), new.get("rule"))
    if all(rules) and rules[0] != rules[1]:
        text += f" (rule {rules[0]} -> {rules[1]})"
    return f"{day(at)}: {text}"


def _entry(e: Mapping[str, Any]) -> str:
    """``a grant of 8 credits from a renewal``."""
    kind = _ENTRIES.get(str(e["kind"]), str(e["kind"]).replace("_", " "))
    return f"{_article(kind)} of {credits(abs(int(e['amount'])))} from {event_noun(str(e['event']))}"


def ledger_words(at: dt.datetime, base: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str:
    """The first ledger entry that differs: ``15 Feb 2026: a renewal's grant is 8 credits, was 5``."""
    if base is None and new is not None:
        return f"{day(at)}: the ledger now also has {_entry(new)}"
    if new is None and base is not None:
        return f"{day(at)}: the ledger no longer has {_entry(base)}"
    assert base is not None and new is not None
    if (base["kind"], base["event"]) != (new["kind"], new["event"]):
        return f"{day(at)}: the ledger has {_entry(new)} where it had {_entry(base)}"
    whose = event_noun(str(new["event"])) + "'s " + _ENTRIES.get(str(new["kind"]), str(new["kind"]))
    was, now = abs(int(base["amount"])), abs(int(new["amount"]))
    if was != now:
        return f"{day(at)}: {whose} is {credits(now)}, was {was}"
    if base["lot"] != new["lot"]:
        return f"{day(at)}: {whose} of {credits(now)} goes to lot {new['lot']}, was lot {base['lot']}"
    return f"{day(at)}: {whose} of {credits(now)} is written at {new['at']}, was {base['at']}"


# ------------------------------------------------------------------------------ headline


def _delta(row: Mapping[str, Any], key: str) -> int:
    pair = row[key]
    return int(pair["new"] or 0) - int(pair["base"] or 0)


def balance_delta(row: Mapping[str, Any]) -> int:
    """An account's final balance, new minus base (an account one side never opened holds 0)."""
    return int(row["new"] or 0) - int(row["base"] or 0)


def losses(accounts: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """How many accounts send fewer InMails or end with fewer credits, and how many of each."""
    fewer_sends = {a: -_delta(r, "sends") for a, r in accounts.items() if _delta(r, "sends") < 0}
    fewer_credits = {a: -balance_delta(r) for a, r in accounts.items() if balance_delta(r) < 0}
    return {
        "accounts": len(set(fewer_sends) | set(fewer_credits)),
        "sends": sum(fewer_sends.values()),
        "credits": sum(fewer_credits.values()),
    }


def _by_plan(accounts: Mapping[str, Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for row in accounts.values():
        out.setdefault(str(row["plan"]), []).append(row)
    return dict(sorted(out.items()))


def _sends(plan: str, rows: list[Mapping[str, Any]]) -> list[str]:
    deltas = [_delta(r, "sends") for r in rows]
    out = []
    for word, moved in (("more", [d for d in deltas if d > 0]), ("fewer", [-d for d in deltas if d < 0])):
        if moved:
            who, total = _n(len(moved), f"{plan_title(plan)} account"), sum(moved)
            out.append(f"{who} can send {total} {word} InMail{'' if total == 1 else 's'} over the replay.")
    return out


def _balances(plans: Mapping[str, list[Mapping[str, Any]]], lost: dict[str, int]) -> list[str]:
    def said(plan: str, deltas: list[int], word: str) -> str:
        who = _n(len(deltas), f"{plan_title(plan)} account")
        return f"{who} {'ends' if len(deltas) == 1 else 'end'} with {word} credits ({sum(deltas):+d} in all)."

    deltas = {plan: [balance_delta(r) for r in rows] for plan, rows in plans.items()}
    lower = [said(p, [d for d in ds if d < 0], "fewer") for p, ds in deltas.items() if min(ds) < 0]
    higher = [said(p, [d for d in ds if d > 0], "more") for p, ds in deltas.items() if max(ds) > 0]
    if not lower:
        lower = ["No account ends with fewer credits." if lost["sends"] else "No account loses credits."]
    return lower + higher


def _totals(totals: Mapping[str, Mapping[str, Mapping[str, int]]]) -> list[str]:
    out = []
    for plan, moved in totals.items():
        phrases = [
            _VERBS.get(m, m.replace("_", " ") + " {}").format(credits(v["new"] - v["base"], signed=True))
            for m, v in moved.items()
            if v["new"] != v["base"]
        ]
        if phrases:
            listed = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
            out.append(f"{plan_title(plan)} {listed}.")
    return out


def _ledger_only(plans: Mapping[str, list[Mapping[str, Any]]]) -> list[str]:
    """Accounts only the ledger tells apart, which an editor would otherwise think untouched."""
    counts = {p: sum(1 for r in rows if list(r["changed"]) == ["ledger"]) for p, rows in plans.items()}
    counts = {p: n for p, n in counts.items() if n}
    total = sum(counts.values())
    if not total:
        return []
    if len(counts) == 1:
        who = _n(total, f"{plan_title(next(iter(counts)))} account")
    else:
        who = f"{total} accounts ({', '.join(f'{n} {plan_title(p)}' for p, n in counts.items())})"
    if total == 1:
        return [f"{who} decides and ends the same, but its ledger differs."]
    return [f"{who} decide and end the same, but their ledgers differ."]


def headline(doc: Mapping[str, Any]) -> list[str]:
    """The report's numbers as sentences, the ones a member would feel first.

    In order: who can send more or fewer InMails (per plan); whether any account ends
    with fewer credits (said plainly when none does) or more; what each plan's credits do
    differently; accounts whose ledger alone differs; how many decisions changed.
    """
    accounts: Mapping[str, Mapping[str, Any]] = doc["accounts"]
    totals = doc["totals"]
    moved = any(v["base"] != v["new"] for plan in totals.values() for v in plan.values())
    decisions, changed, na = doc["decisions"], doc["changed"], doc["not_applicable"]
    if not (accounts or moved or changed or na):
        return ["No account changes.", f"{_n(decisions, 'decision')} compared, all the same."]
    plans = _by_plan(accounts)
    out = [s for plan, rows in plans.items() for s in _sends(plan, rows)]
    out += _balances(plans, losses(accounts))
    out += _totals(totals)
    out += _ledger_only(plans)
    if changed or na:
        text = f"{changed} of {_n(decisions, 'decision')} {'changes' if changed == 1 else 'change'}"
        if na:
            text += f"; {_n(na, 'call')} {'is' if na == 1 else 'are'} not applicable on one side"
        out.append(text + ".")
    else:
        out.append(
            "The one decision is the same." if decisions == 1 else f"All {decisions} decisions are the same."
        )
    return out
