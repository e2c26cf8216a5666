"""Running a validated scenario against an :class:`engine.Engine`, into a result model.

The runner owns the *order* of things, which is what makes a scenario's
expectations computable by hand: accounts are subscribed at their ``since``
interleaved with the timeline by time (an account starting at a step's
instant starts first), and before every step the engine is advanced to the
step's ``at`` so renewals, expiries, cap forfeits and reminders of *every*
account are recorded as system events between steps. The result is plain
frozen data that the table, JSON and chart renderers read; nothing here prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.codes import C
from engine.errors import InvalidCall, InvalidScenario
from engine.model import Decision, LedgerEntry
from engine.scenario.load import Account, Check, Event, Scenario, Step
from engine.source.diagnostics import Diagnostics, Location

if TYPE_CHECKING:
    from engine.core.context import Observer
    from engine.core.engine import Engine

Progress = Callable[[int, int], None]


def local_iso(at: dt.datetime, tz: str) -> str:
    """ISO-8601 text of an instant in the policy's time zone, so every time in one JSON reads alike."""
    import pendulum

    return pendulum.instance(at).in_timezone(tz).isoformat()


@dataclass(frozen=True)
class Change:
    """One ledger movement inside a system event (``grant +5``, ``forfeit_cap -2``)."""

    kind: str
    amount: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "amount": self.amount}


@dataclass(frozen=True)
class SystemEvent:
    """Something that happened between steps without the scenario asking for it.

    Renewals, expiries and reminders come from the engine; ``subscribe`` rows
    are the scenario's account set-ups (``line`` points at the account).
    """

    at: dt.datetime
    event: str
    account: str | None
    outcome: str
    reason: str | None
    rules: tuple[str, ...]
    balance: int | None
    message: str | None = None
    changes: tuple[Change, ...] = ()
    line: int | None = None
    label: str = ""  # how the table names a set-up row (not part of the JSON)

    def to_dict(self, tz: str) -> dict[str, Any]:
        return {
            "at": local_iso(self.at, tz),
            "event": self.event,
            "account": self.account,
            "message": self.message,
            "outcome": self.outcome,
            "reason": self.reason,
            "balance": self.balance,
            "changes": [c.to_dict() for c in self.changes],
            "rules": list(self.rules),
            "line": self.line,
        }


@dataclass(frozen=True)
class Failure:
    """An expectation that did not hold, with where it was written."""

    key: str  # as in :class:`~engine.scenario.load.Check`: outcome, reason, status, balance.<acct>, reminded
    expected: Any
    got: Any
    loc: Location
    step_line: int

    @property
    def label(self) -> str:
        return f"balance of {self.key[8:]}" if self.key.startswith("balance.") else self.key

    def describe(self) -> str:
        return f"expected {self.label} {show(self.expected)}, got {show(self.got)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "expected": _plain(self.expected),
            "got": _plain(self.got),
            "line": self.loc.line,
            "column": self.loc.column,
            "step_line": self.step_line,
        }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def show(value: Any) -> str:
    """A value as the scenario author would write it."""
    if value is None:
        return "null"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return f"`{value}`"


@dataclass(frozen=True)
class StepResult:
    step: Step
    outcome: str | None
    reason: str | None
    status: str | None
    message: str | None
    balances: Mapping[str, int]
    involved: tuple[str, ...]
    rules: tuple[str, ...]  # every rule that fired for the step's call (engine order)
    system_events: tuple[SystemEvent, ...]
    checked: int
    failures: tuple[Failure, ...]
    own_events: tuple[SystemEvent, ...] = ()  # what the step's own call settled (a start grant)
    rule: str | None = None  # the rule that decided the step's event

    def to_dict(self, tz: str) -> dict[str, Any]:
        """The JSON shape of a step (docs/semantics.md, "Scenario files"); keys are a contract."""
        return {
            "line": self.step.line,
            "at": local_iso(self.step.at, tz),
            "event": self.step.event.name if self.step.event else None,
            "outcome": self.outcome,
            "reason": self.reason,
            "status": self.status,
            "balances": dict(self.balances),
            "rules": list(self.rules),
            "system_events": [e.to_dict(tz) for e in (*self.system_events, *self.own_events)],
        }


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    steps: tuple[StepResult, ...]
    trailing: tuple[SystemEvent, ...] = ()
    history: Mapping[str, tuple[LedgerEntry, ...]] = field(default_factory=dict)
    starts: Mapping[str, dt.datetime] = field(default_factory=dict)
    balances: Mapping[str, int] = field(default_factory=dict)  # every account, at the end

    @property
    def failures(self) -> list[Failure]:
        return [f for s in self.steps for f in s.failures]

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def passed(self) -> int:
        return sum(s.checked for s in self.steps) - self.failed

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.scenario.title,
            "steps": [s.to_dict(self.scenario.policy.timezone) for s in self.steps],
            "balances": dict(self.balances),
            "expectations": {"passed": self.passed, "failed": self.failed},
        }


# --- running --------------------------------------------------------------------------------


def run_scenario(
    scenario: Scenario,
    *,
    rules: str | Path | None = None,
    db: str | None = None,
    progress: Progress | None = None,
    observe: Observer | None = None,
) -> ScenarioResult:
    """Open an engine for ``scenario`` (its merged policy, ``rules``, store ``db``) and run it.

    ``observe`` is told of every decision and the facts behind it (:meth:`Engine.observe`).
    """
    from engine.core.engine import Engine

    with Engine.open(db=db, policy=scenario.policy, rules=rules) as eng:
        eng.observe(observe)
        return Runner(scenario, eng).run(progress)


class Runner:
    def __init__(self, scenario: Scenario, eng: Engine) -> None:
        self.s = scenario
        self.eng = eng
        self.started: dict[str, dt.datetime] = {}
        self.pending: list[SystemEvent] = []
        self.connected: set[frozenset[str]] = set()

    def preflight(self) -> None:
        """Refuse a store that already holds one of the scenario's accounts (a second run into --db)."""
        existing = set(self.eng.accounts())
        d = Diagnostics()
        for acct in self.s.accounts:
            if acct.name in existing:
                d.error(
                    C.account_exists,
                    f"the store already holds an account `{acct.name}`",
                    acct.loc,
                    help="run against an empty database (or the default in-memory store)",
                )
        if d.has_errors():
            raise InvalidScenario(d.items)

    def run(self, progress: Progress | None = None) -> ScenarioResult:
        self.preflight()
        items = agenda(self.s.accounts, self.s.steps)
        results: list[StepResult] = []
        for done, item in enumerate(items, 1):
            try:
                if isinstance(item, Account):
                    self._advance(item.since)
                    self._setup(item)
                else:
                    self._advance(item.at)
                    results.append(self._step(item))
            except InvalidCall as exc:
                d = Diagnostics()
                d.error(
                    exc.code,
                    f"the engine refused this step: {exc.message}",
                    item.loc,
                    help=_REFUSAL_HELP.get(exc.code),
                )
                raise InvalidScenario(d.items) from None
            if progress is not None:
                progress(done, len(items))
        history = {name: tuple(self.eng.history(name)) for name in self.started}
        end = max((*self.started.values(), *(r.step.at for r in results)), default=None)
        balances = (
            {}
            if end is None
            else {name: self.eng.balance(name, at=end).credits for name in sorted(self.started)}
        )
        return ScenarioResult(
            self.s, tuple(results), tuple(self.pending), history, dict(self.started), balances
        )

    def _advance(self, to: dt.datetime) -> None:
        self.pending.extend(_system_events(self.eng.advance(to)))

    def _setup(self, acct: Account) -> None:
        d = self.eng.subscribe(
            acct.name, acct.plan, at=acct.since, billing_anchor=acct.billing_anchor, payment=acct.payment
        )
        self.started[acct.name] = acct.since
        label = f"subscribe {acct.name} {acct.plan}"
        if acct.connections:
            label += f" (connections: {', '.join(acct.connections)})"
        # the set-up row shows the balance before the start grant, which is its own row after it
        granted = sum(e.amount for s in d.system_events for e in s.entries)
        before = None if d.balance is None else d.balance - granted
        self.pending.append(_system_event(d, line=acct.loc.line, label=label, balance=before))
        self.pending.extend(_system_events(d.system_events))  # the start grant comes after
        for other in acct.connections:
            pair = frozenset((acct.name, other))
            if pair not in self.connected:  # both may list each other; a connection is symmetric
                self.connected.add(pair)
                self.eng.connect(acct.name, other, at=acct.since)

    def _step(self, step: Step) -> StepResult:
        d = self._apply(step.event, step.at) if step.event is not None else None
        own = tuple(_system_events(d.system_events)) if d is not None else ()
        if step.event is not None and step.event.kind.subscription == "start":
            self.started.setdefault(step.event.acting, step.at)
        # Only the accounts this step touched or names: a step costs the same however many accounts exist.
        touched = _touched(step, d, (*self.pending, *own))
        balances: dict[str, int] = {}
        for name in touched:
            if d is not None and name == d.account and d.balance is not None:
                balances[name] = d.balance  # the decision already says: no second walk over the lots
            elif name in self.started:
                balances[name] = self.eng.balance(name, at=step.at).credits
        got: dict[str, Any] = {}
        if d is not None:
            got.update(outcome=d.outcome, reason=d.reason, status=d.status)
        if any(c.key == "reminded" for c in step.checks):
            got["reminded"] = tuple(sorted(set(self.eng.reminded(step.at)) & self.s.messages))
        failures = tuple(_check(c, got, balances, step) for c in step.checks)
        result = StepResult(
            step=step,
            outcome=d.outcome if d else None,
            reason=d.reason if d else None,
            status=d.status if d else None,
            message=d.message if d else None,
            balances=balances,
            involved=_involved(step, d, balances),
            rules=d.rules if d else (),
            system_events=tuple(self.pending),
            checked=len(step.checks),
            failures=tuple(f for f in failures if f is not None),
            own_events=own,
            rule=d.rule if d else None,
        )
        self.pending = []
        return result

    def _apply(self, event: Event, at: dt.datetime) -> Decision:
        """The step's call, as the kind declares it: its arguments go to :meth:`Engine.call` as read."""
        return self.eng.call(event.kind, event.args, at=at)


#: Help for refusals only a run can reveal (everything else is caught when the file is loaded).
_REFUSAL_HELP: dict[str, str] = {
    C.unknown_message: "a send that was denied records no message; respond only to sends that went out",
}


def agenda(accounts: Sequence[Account], steps: Sequence[Step]) -> list[Account | Step]:
    """Account set-ups and steps in time order; a set-up goes before a step at the same instant."""
    keyed: list[tuple[dt.datetime, int, int, Account | Step]] = []
    keyed.extend((a.since, 0, i, a) for i, a in enumerate(accounts))
    keyed.extend((s.at, 1, i, s) for i, s in enumerate(steps))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return [k[3] for k in keyed]


def _check(check: Check, got: Mapping[str, Any], balances: Mapping[str, int], step: Step) -> Failure | None:
    actual = balances.get(check.account) if check.account is not None else got.get(check.key)
    if actual == check.expected:
        return None
    return Failure(check.key, check.expected, actual, check.loc, step.line)


def _touched(step: Step, d: Decision | None, events: Sequence[SystemEvent]) -> list[str]:
    """The accounts a step's balances show: its own, those its system events changed, those it checks."""
    names: list[str] = []
    if d is not None and d.account:
        names.append(d.account)
    if step.event is not None:
        names.extend(step.event.parties)
    names.extend(e.account for e in events if e.account)
    names.extend(c.account for c in step.checks if c.account is not None)
    return list(dict.fromkeys(names))


def _involved(step: Step, d: Decision | None, balances: Mapping[str, int]) -> tuple[str, ...]:
    """The accounts whose balance the table shows for a step."""
    names: list[str] = []
    if d is not None and d.account:
        names.append(d.account)
    if step.event is not None:
        names.extend(p for p in step.event.parties if p in balances)
    if not names:
        names = [c.account for c in step.checks if c.account is not None] or list(balances)
    return tuple(dict.fromkeys(n for n in names if n in balances))


def _system_event(
    d: Decision, line: int | None = None, label: str = "", balance: int | None = None
) -> SystemEvent:
    changes = tuple(Change(e.kind, e.amount) for e in d.entries)
    return SystemEvent(
        at=d.at,
        event=d.event,
        account=d.account,
        outcome=d.outcome,
        reason=d.reason,
        rules=(d.rule,),
        balance=d.balance if balance is None else balance,
        message=d.message,
        changes=changes,
        line=line,
        label=label,
    )


def _system_events(decisions: Iterable[Decision]) -> list[SystemEvent]:
    return [_system_event(d) for d in decisions]
