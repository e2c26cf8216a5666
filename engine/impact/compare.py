"""Play the same calls under two policies and say what the edit changes, account by account.

Both sides start from an empty in-memory store and receive the same calls in
the same order. Each call's two answers are compared as they come (nothing
is kept per call, so a year of 10,000 accounts fits in memory): the
decisions compared and changed, the transitions between outcomes, the rules
fired, the credits per plan by kind of movement, and, per account, the first
step where the two sides part, the sends that went out, the credits granted
and the final balances. At the end each account's two ledgers are compared
entry by entry: an edit that grants more and forfeits it all again on a
cancel changes no decision and no final balance, yet it is a change. A call
one side refuses (a response to a send the new policy denies: that message
never existed) is ``not_applicable`` there, never an error.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.codes import C
from engine.core.engine import Engine
from engine.errors import EngineError
from engine.events import CALLS, EventKind
from engine.impact.ledgers import LedgerDifference, usable
from engine.impact.partition import Partitioning, of_partition
from engine.impact.synthetic import Call
from engine.impact.words import REPLAY, REPLAY_NOTE, decision_words, headline, losses
from engine.model import Decision

#: Ledger entry kinds -> the movement the report totals (amounts summed as positive credits).
MOVEMENTS = {
    "grant": "granted",
    "consume": "consumed",
    "credit_back": "credited_back",
    "forfeit_cap": "forfeited_cap",
    "forfeit_cancel": "forfeited_cancel",
    "expire": "expired",
    "purchase": "purchased",
}

#: The outcomes of a send that went out (with a credit, or free to a connection).
SENT = frozenset({"sent", "sent_free"})

#: Why an account counts as changed, in the order the JSON lists them.
REASONS = ("ledger", "decisions", "balance")

Progress = Callable[[int], None]

#: Where a call stands in the whole history, comparable across partitions made apart: ``(n,)`` for
#: the n-th call of a list every partition walks, ``(seq,)`` for a store's log read by account
#: (:mod:`engine.impact.stored`), a synthetic year's :data:`~engine.impact.synthetic.Order`.
#: Only its order reaches the report (which call is a transition's example, ties between transitions).
Order = tuple[int, ...]


def _key(d: Decision | EngineError) -> str:
    """``outcome`` or ``outcome/reason``; ``not_applicable`` for a call this side refused."""
    if isinstance(d, EngineError):
        return "not_applicable"
    return d.outcome if d.reason is None else f"{d.outcome}/{d.reason}"


def _walk(d: Decision) -> Iterator[Decision]:
    for sub in d.system_events:
        yield from _walk(sub)
    yield d


@dataclass
class Side:
    """What one policy did over the calls."""

    revision: str
    rules: Counter[str] = field(default_factory=Counter)
    totals: dict[str, Counter[str]] = field(default_factory=dict)  # plan -> movement -> credits
    balances: dict[str, int] = field(default_factory=dict)
    sends: Counter[str] = field(default_factory=Counter)  # account -> sends that went out
    granted: Counter[str] = field(default_factory=Counter)  # account -> credits granted
    #: the change in all accounts' credits on each day something moved (an account's renewals may be
    #: settled at its next call, after other accounts' later events, so days add up, they do not overwrite)
    moved: Counter[dt.date] = field(default_factory=Counter)
    _held: dict[str, int] = field(default_factory=dict)

    def daily(self) -> list[tuple[dt.date, int]]:
        """All accounts' usable credits at the end of each day something moved, in date order."""
        total, out = 0, []
        for day in sorted(self.moved):
            total += self.moved[day]
            out.append((day, total))
        return out

    def count(self, decisions: Iterable[Decision], plans: dict[str, str]) -> None:
        for top in decisions:
            for d in _walk(top):
                self.rules[f"{d.event}/{d.rule}"] += 1
                for e in d.entries:
                    plan = plans.get(e.account, "?")
                    if e.kind == "grant":
                        self.granted[e.account] += e.amount
                    self.totals.setdefault(plan, Counter())[MOVEMENTS[e.kind]] += abs(e.amount)
                    self.moved[e.at.date()] += e.balance_after - self._held.get(e.account, 0)
                    self._held[e.account] = e.balance_after


@dataclass(frozen=True)
class Divergence:
    """The first call of an account the two sides answered differently."""

    where: str
    at: dt.datetime
    call: str
    base: dict[str, Any]
    new: dict[str, Any]
    event: str = ""  # the call's kind, for the words


@dataclass
class ImpactReport:
    """What a policy edit changes over a set of calls (``to_dict`` is the JSON contract)."""

    base: Side
    new: Side
    decisions: int = 0
    changed: int = 0
    not_applicable: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: the first call (its place in the source, and where it came from) of each transition
    examples: dict[tuple[str, str], tuple[Order, str]] = field(default_factory=dict)
    divergences: dict[str, Divergence] = field(default_factory=dict)
    #: per account whose ledgers differ, the first entry that does
    ledgers: dict[str, LedgerDifference] = field(default_factory=dict)
    accounts: list[str] = field(default_factory=list)
    plans: dict[str, str] = field(default_factory=dict)  # account -> its plan at the end (base side)

    def reasons(self, account: str) -> list[str]:
        """Why ``account`` counts as changed (``ledger``, ``decisions``, ``balance``); [] if it does not."""
        found = {
            "ledger": account in self.ledgers,
            "decisions": account in self.divergences,
            "balance": self.base.balances.get(account) != self.new.balances.get(account),
        }
        return [r for r in REASONS if found[r]]

    @property
    def changed_accounts(self) -> list[str]:
        """Accounts whose ledger, decisions or final balance differ, the largest change first."""
        names = [a for a in self.accounts if self.reasons(a)]
        return sorted(names, key=lambda a: (-self.size(a), a))

    def delta(self, account: str) -> int:
        return (self.new.balances.get(account) or 0) - (self.base.balances.get(account) or 0)

    def size(self, account: str) -> int:
        """How much an account's replay changed: sends, credits granted and final credits that differ,
        added up (a send is a credit, so the three share a unit)."""
        sends = self.new.sends[account] - self.base.sends[account]
        granted = self.new.granted[account] - self.base.granted[account]
        return abs(sends) + abs(granted) + abs(self.delta(account))

    @property
    def totals_differ(self) -> bool:
        """Whether any plan's credits moved differently (by any kind of movement)."""
        none: Counter[str] = Counter()
        plans = set(self.base.totals) | set(self.new.totals)
        return any(
            self.base.totals.get(p, none)[m] != self.new.totals.get(p, none)[m]
            for p in plans
            for m in MOVEMENTS.values()
        )

    def ranked_transitions(self) -> list[tuple[tuple[str, str], int]]:
        """The transitions, most frequent first (ties: in the order they first happened)."""
        return sorted(self.transitions.items(), key=lambda kv: (-kv[1], self.examples[kv[0]][0]))

    @property
    def anything_changed(self) -> bool:
        """What ``--fail-on-change`` gates on: a decision, a call, an account or a plan's total."""
        return bool(self.changed or self.not_applicable or self.changed_accounts or self.totals_differ)

    def first_divergence(self, account: str) -> dict[str, Any] | None:
        """The first call answered differently, else the first ledger entry that differs."""
        d = self.divergences.get(account)
        if d is not None:
            return _divergence(d)
        diff = self.ledgers.get(account)
        return None if diff is None else diff.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract; ``headline`` is worked out from the rest, so a merged report's is its own."""
        plans = sorted(set(self.base.totals) | set(self.new.totals))
        rules = sorted(set(self.base.rules) | set(self.new.rules))
        doc: dict[str, Any] = {
            "base": {"revision": self.base.revision},
            "new": {"revision": self.new.revision},
            "headline": [],
            "decisions": self.decisions,
            "changed": self.changed,
            "not_applicable": self.not_applicable,
            "transitions": [
                {"from": a, "to": b, "count": n, "example": self.examples[(a, b)][1]}
                for (a, b), n in self.ranked_transitions()
            ],
            "rules": {r: {"base": self.base.rules[r], "new": self.new.rules[r]} for r in rules},
            "totals": {
                p: {
                    m: _pair(self.base.totals.get(p, Counter())[m], self.new.totals.get(p, Counter())[m])
                    for m in MOVEMENTS.values()
                }
                for p in plans
            },
            "accounts": {
                a: {
                    "plan": self.plans.get(a, "?"),
                    "base": self.base.balances.get(a),
                    "new": self.new.balances.get(a),
                    "changed": self.reasons(a),
                    "sends": {"base": self.base.sends[a], "new": self.new.sends[a]},
                    "granted": {"base": self.base.granted[a], "new": self.new.granted[a]},
                    "first_divergence": self.first_divergence(a),
                }
                for a in self.changed_accounts
            },
            "replay": {"kind": REPLAY, "text": REPLAY_NOTE},
            "usable": usable(self.base.daily(), self.new.daily()),
        }
        doc["losses"] = losses(doc["accounts"])
        doc["headline"] = headline(doc)
        return doc


def _pair(base: int, new: int) -> dict[str, int]:
    return {"base": base, "new": new, "change": new - base}


def merge(reports: Sequence[tuple[str | None, ImpactReport]]) -> ImpactReport:
    """One report of several: per scenario file (accounts named ``file/account``, files in order),
    or per share of the accounts (label None: the same calls, numbered alike, disjoint accounts)."""
    if len(reports) == 1 and reports[0][0] is not None:
        return reports[0][1]
    first = reports[0][1]
    out = ImpactReport(Side(first.base.revision), Side(first.new.revision))
    for position, (label, r) in enumerate(reports):

        def name(a: str, label: str | None = label) -> str:
            return a if label is None else f"{label}/{a}"

        out.decisions += r.decisions
        out.changed += r.changed
        out.not_applicable += r.not_applicable
        out.transitions.update(r.transitions)
        for pair, (index, where) in r.examples.items():
            if label is not None:  # a later file's calls come after
                index = (position, *index)
            if pair not in out.examples or index < out.examples[pair][0]:
                out.examples[pair] = (index, where)
        for mine, theirs in ((out.base, r.base), (out.new, r.new)):
            mine.rules.update(theirs.rules)
            mine.moved.update(theirs.moved)
            for plan, moved in theirs.totals.items():
                mine.totals.setdefault(plan, Counter()).update(moved)
            mine.balances.update({name(a): v for a, v in theirs.balances.items()})
            mine.sends.update({name(a): v for a, v in theirs.sends.items()})
            mine.granted.update({name(a): v for a, v in theirs.granted.items()})
        out.divergences.update({name(a): d for a, d in r.divergences.items()})
        out.ledgers.update({name(a): d for a, d in r.ledgers.items()})
        out.plans.update({name(a): p for a, p in r.plans.items()})
        out.accounts.extend(name(a) for a in r.accounts)
    return out


def _divergence(d: Divergence) -> dict[str, Any]:
    return {
        "step": "decision",
        "where": d.where,
        "at": d.at.isoformat(),
        "call": d.call,
        "base": d.base,
        "new": d.new,
        "text": decision_words(d.event, d.at, d.base, d.new),
    }


def _answer(eng: Engine, kind: EventKind, call: Call) -> Decision | EngineError:
    """The call's decision, or the refusal of a call that is not applicable on this side.

    The catalog says which codes are a call refused whole (:attr:`~engine.codes.C.refused_call`),
    whatever class raised them; any other error (a store failing, a bug) stops the report.
    """
    try:
        return eng.call(kind, call.args, at=call.at, key=call.key)
    except EngineError as exc:
        code = C.lookup(exc.code)
        if code is None or not code.refused_call:
            raise
        return exc


def _shown(answer: Decision | EngineError) -> dict[str, Any]:
    if isinstance(answer, EngineError):
        return {"outcome": "not_applicable", "reason": answer.code, "rule": None}
    return {"outcome": answer.outcome, "reason": answer.reason, "rule": answer.rule}


def _describe(kind: EventKind, call: Call) -> str:
    """The call as the typed method it stands for, with its required arguments: ``send(alice, bob)``."""
    args = ", ".join(str(call.args.get(a.name)) for a in kind.positional)
    return f"{kind.method}({args})"


@dataclass(frozen=True)
class _Reads:
    """Which arguments of a kind's calls the report reads, as the kind declares them.

    ``acting`` names the account (for a ``message``-typed one, ``via_message``: the
    account is the message's sender); ``plan`` is the plan a call that starts or
    moves a subscription puts the account on; ``new_message`` the id of the
    message a call creates. So a new kind is attributed and totalled without a
    line here.
    """

    acting: str
    via_message: bool
    plan: str | None
    new_message: str | None

    @classmethod
    def of(cls, kind: EventKind) -> _Reads:
        moves = kind.subscription in ("start", "move")
        return cls(
            kind.acting.name,
            kind.via_message,
            kind.arg_of("plan") if moves else None,
            kind.arg_of("new_message"),
        )


#: What the report reads of each call kind, by name (worked out once, not per call).
_READS = {k.name: _Reads.of(k) for k in CALLS}


class _Plans:
    """Which plan each account is on, as the calls move it (the totals are per plan)."""

    def __init__(self) -> None:
        self.of: dict[str, str] = {}
        self.senders: dict[str, str] = {}  # message id -> its sender, to attribute a response

    def account(self, kind: EventKind, call: Call) -> str:
        reads = _READS[kind.name]
        acting = str(call.args.get(reads.acting))
        return self.senders.get(acting, "?") if reads.via_message else acting

    def note(self, kind: EventKind, call: Call, answer: Decision | EngineError) -> None:
        if isinstance(answer, EngineError):
            return
        reads = _READS[kind.name]
        if reads.plan is not None:
            self.of[str(call.args[reads.acting])] = str(call.args[reads.plan])
        if reads.new_message is not None and answer.message is not None:
            self.senders.setdefault(answer.message, str(call.args[reads.acting]))


def impact(
    calls: Iterable[Call],
    base: Engine,
    new: Engine,
    progress: Progress | None = None,
    part: tuple[int, Partitioning] | None = None,
) -> ImpactReport:
    """Play ``calls`` on both engines (each on an empty store) and compare every answer.

    ``part`` = (index, partitioning) plays only the accounts of that partition
    (:mod:`engine.impact.partition`: accounts whose state a call ties are in one), so the
    partitions' reports, merged, are the whole one.
    """
    numbered = (
        (((n,), c, True) for n, c in enumerate(calls, 1))
        if part is None
        else (((n,), c, mine) for n, c, mine in of_partition(calls, part[1], part[0]))
    )
    return play(numbered, base, new, progress)


def play(
    ordered: Iterable[tuple[Order, Call, bool]],
    base: Engine,
    new: Engine,
    progress: Progress | None = None,
    end: dt.datetime | None = None,
) -> ImpactReport:
    """:func:`impact` over calls already placed: each with its :data:`Order` in the whole history
    and whether this report plays it. A partition made apart from the others (a synthetic year's
    members by hash) gives ``end``, where the whole history ends, since its own calls end sooner."""
    report = ImpactReport(Side(base.revision), Side(new.revision))
    plans_b, plans_n = _Plans(), _Plans()
    seen: dict[str, None] = {}
    played = 0
    for n, call, mine in ordered:
        # every call's instant counts for the common end, another share's or refused on both
        # sides: so each share of a split report ends at the same instant as the whole report
        end = call.at if end is None else max(end, call.at)
        if not mine:
            continue
        kind = call.kind
        if kind is None:  # a checkpoint: time moves on for everyone, nothing to compare
            report.base.count(base.advance(call.at), plans_b.of)
            report.new.count(new.advance(call.at), plans_n.of)
            continue
        a, b = _answer(base, kind, call), _answer(new, kind, call)
        plans_b.note(kind, call, a)
        plans_n.note(kind, call, b)
        account = plans_b.account(kind, call)
        if account == "?":  # a response to a message only the new side sent is that sender's
            account = plans_n.account(kind, call)
        seen.setdefault(account, None)
        for side, answer, plans in ((report.base, a, plans_b), (report.new, b, plans_n)):
            if isinstance(answer, Decision):
                side.count([answer], plans.of)
                if answer.event == "send" and answer.outcome in SENT:
                    side.sends[account] += 1
        _compare(report, n, kind, call, account, a, b)
        played += 1
        if progress is not None:
            progress(played)
    if end is not None:
        report.base.count(base.advance(end), plans_b.of)
        report.new.count(new.advance(end), plans_n.of)
        for side, eng in ((report.base, base), (report.new, new)):
            for name in eng.accounts():
                side.balances[name] = eng.balance(name, at=end).credits
        _compare_ledgers(report, base, new)
    report.accounts = [a for a in seen if a != "?"]
    report.plans = {a: plans_b.of.get(a) or plans_n.of.get(a, "?") for a in report.accounts}
    return report


def _compare_ledgers(report: ImpactReport, base: Engine, new: Engine) -> None:
    """Each account's two ledgers, entry by entry (an account one side never opened has none)."""
    held = set(base.accounts()), set(new.accounts())
    for name in sorted(held[0] | held[1]):
        diff = LedgerDifference.first(
            base.history(name) if name in held[0] else [],
            new.history(name) if name in held[1] else [],
        )
        if diff is not None:
            report.ledgers[name] = diff


def _compare(
    report: ImpactReport,
    index: Order,
    kind: EventKind,
    call: Call,
    account: str,
    a: Decision | EngineError,
    b: Decision | EngineError,
) -> None:
    if isinstance(a, EngineError) and isinstance(b, EngineError):
        return  # refused by both: the same non-event
    both = isinstance(a, Decision) and isinstance(b, Decision)
    if both:
        report.decisions += 1
    else:
        report.not_applicable += 1
    pair = (_key(a), _key(b))
    if pair[0] != pair[1]:  # always so when one side refused: that side is `not_applicable`
        if both:
            report.changed += 1
        report.transitions[pair] += 1
        report.examples.setdefault(pair, (index, call.where or _describe(kind, call)))
    same = isinstance(a, Decision) and isinstance(b, Decision) and pair[0] == pair[1] and a.rule == b.rule
    if not same and account not in report.divergences:
        decided = a if isinstance(a, Decision) else b  # one side at least decided (see the top)
        assert isinstance(decided, Decision)
        report.divergences[account] = Divergence(
            call.where or _describe(kind, call),
            decided.at,
            _describe(kind, call),
            _shown(a),
            _shown(b),
            kind.name,
        )
