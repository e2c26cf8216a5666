"""The per-scenario world the Gherkin steps act on, and the rule-coverage collector.

Steps reach the engine through :class:`World`, which
owns the scenario clock (pinned: a scenario sets the date with a Given and
moves it with When steps; the wall clock is never read), remembers the last
decision and the messages sent, and hands every :class:`engine.Decision`
(system events included) to the :class:`Coverage` collector. That collector is
what the rule-coverage gate reads, so a rule counts as covered only when a
real scenario step was decided by it.

Only the public API is used: ``engine.Engine``, ``engine.Decision`` and the
``inmail`` command line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import engine

REPO = Path(__file__).resolve().parents[2]
#: The features the run reads: ``INMAIL_FEATURES`` (with ``-o bdd_features_base_dir=`` the same
#: folder) runs another folder of them, as a QA engineer's draft is tried in tests/bdd/test_qa.py.
FEATURES_DIR = Path(os.environ.get("INMAIL_FEATURES") or REPO / "features")
RULES_DIR_DEFAULT = REPO / "rules"
POLICY_DEFAULT = REPO / "policies.yaml"

#: Environment variables the BDD run honours (documented in README "Features (BDD)").
ENV_POLICY = "INMAIL_POLICY"
ENV_RULES = "INMAIL_RULES"
ENV_COVERAGE_OUT = "INMAIL_BDD_COVERAGE_OUT"

#: For a feature run in a subprocess (tests/bdd/test_mutation.py, test_qa.py): the pytest plugins
#: the features do not use, whose import is most of a second and a half of its start.
NO_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:schemathesis")

_INSTANT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")


def policy_path() -> Path:
    """The policy the features run against: ``$INMAIL_POLICY`` or the repository's policies.yaml."""
    return Path(os.environ.get(ENV_POLICY) or POLICY_DEFAULT)


def rules_path() -> Path:
    """The rules the features run against: ``$INMAIL_RULES`` or the repository's rules/."""
    return Path(os.environ.get(ENV_RULES) or RULES_DIR_DEFAULT)


@dataclass(frozen=True)
class When:
    """An instant written in a step (``2026-01-15`` or ``2026-01-15 09:30``).

    A bare date means midnight in the policy's time zone when used as an
    instant, and "any time that day" when used to match ledger entries.
    """

    text: str
    date: dt.date
    time: dt.time | None

    @classmethod
    def parse(cls, text: str) -> When:
        m = _INSTANT.match(text.strip())
        if m is None:
            raise ValueError(f"not a date or date-time: {text!r} (write 2026-01-15 or 2026-01-15 09:30)")
        y, mo, d, h, mi, s = m.groups()
        time = None if h is None else dt.time(int(h), int(mi), int(s or 0))
        return cls(text.strip(), dt.date(int(y), int(mo), int(d)), time)

    def instant(self, tz: dt.tzinfo) -> dt.datetime:
        return dt.datetime.combine(self.date, self.time or dt.time(0), tzinfo=tz)

    def matches(self, at: dt.datetime, tz: dt.tzinfo) -> bool:
        local = at.astimezone(tz)
        if self.time is None:
            return local.date() == self.date
        return local == self.instant(tz)


def split_dates(text: str) -> list[When]:
    """``2026-01-15, 2026-02-15 and 2026-03-15`` -> three instants."""
    parts = re.split(r",\s*|\s+and\s+", text.strip())
    return [When.parse(p) for p in parts if p]


# --------------------------------------------------------------------------- coverage


@dataclass
class Coverage:
    """Which rules decided which scenarios in this pytest session.

    ``rules`` maps ``"<event>/<rule id>"`` to the node ids of the scenarios
    in which that rule decided a step (directly or as a system event).
    ``started``/``passed`` record the scenario node ids, so the gate can tell
    whether the whole feature set ran here or must be run on its own.
    """

    rules: dict[str, set[str]] = field(default_factory=dict)
    fires: dict[str, int] = field(default_factory=dict)  # how many decisions each rule made
    started: set[str] = field(default_factory=set)
    passed: set[str] = field(default_factory=set)

    def record(self, nodeid: str, decision: engine.Decision) -> None:
        for d in walk(decision):
            key = f"{d.event}/{d.rule}"
            self.rules.setdefault(key, set()).add(nodeid)
            self.fires[key] = self.fires.get(key, 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": {k: sorted(v) for k, v in sorted(self.rules.items())},
            "fires": dict(sorted(self.fires.items())),
            "started": sorted(self.started),
            "passed": sorted(self.passed),
        }

    def dump(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")


#: The rules exercised by the scenarios that ran in this process (filled by the ``world`` fixture).
SESSION_COVERAGE = Coverage()


def walk(decision: engine.Decision) -> Iterator[engine.Decision]:
    """A decision and, first, the system events (renewals, expiries, reminders) applied before it."""
    for sub in decision.system_events:
        yield from walk(sub)
    yield decision


# --------------------------------------------------------------------------- world


def plan_key(label: str) -> str:
    """``Sales Navigator`` -> ``sales_navigator`` (the key in policies.yaml)."""
    return re.sub(r"[\s-]+", "_", label.strip().lower())


def response_key(label: str) -> str:
    """``Not interested`` -> ``not_interested`` (the key under ``responses`` in policies.yaml)."""
    return re.sub(r"[\s-]+", "_", label.strip().lower())


class World:
    """One scenario: an in-memory engine, a pinned clock, and what happened so far."""

    def __init__(self, nodeid: str, coverage: Coverage) -> None:
        self.nodeid = nodeid
        self.coverage = coverage
        self._engine: engine.Engine | None = None
        self.now: dt.datetime | None = None
        self.last: engine.Decision | None = None
        self.batch: list[engine.Decision] = []
        self.sent: list[tuple[str, str, str]] = []  # (sender, recipient, message id), oldest first
        self.plan_rows: list[dict[str, Any]] | None = None
        self.override: dict[str, Any] = {}  # policy settings a Given changed, merged onto the policy
        self.refused: engine.InvalidCall | None = None
        self.refused_checked = True
        self.before_refusal: Any = None
        self.keyed: dict[str, engine.Decision] = {}  # the first decision made under each idempotency key
        self.edits: dict[str, dict[str, int]] = {}  # plan -> key -> new value, for an impact report
        self.impact: Any = None

    # -- engine and clock -------------------------------------------------

    @property
    def eng(self) -> engine.Engine:
        if self._engine is None:
            self._engine = engine.Engine.open(
                db="memory", policy=policy_path(), rules=rules_path(), policy_override=self.override or None
            )
        return self._engine

    def configure(self, section: str, value: Any) -> None:
        """Change a policy setting for this scenario (before anything happens in it)."""
        if self._engine is not None:
            raise AssertionError("change the policy before the first member or date of the scenario")
        current = self.override.get(section)
        if isinstance(current, dict) and isinstance(value, dict):
            current.update(value)
        else:
            self.override[section] = value

    @property
    def tz(self) -> dt.tzinfo:
        return ZoneInfo(self.eng.policy.timezone)

    # -- policy edits and their impact ------------------------------------------------

    def edit_plan(self, plan: str, key: str, old: int, new: int) -> None:
        """Note an edit of the policy, after checking the policy holds ``old`` now."""
        base = engine.load_policy(policy_path())
        assert plan in base.plans, f"the policy has no plan {plan!r}"
        have = getattr(base.plans[plan], key)
        assert have == old, f"the {plan} {key} is {have} in the policy, not {old}"
        self.edits.setdefault(plan, {})[key] = new

    def compute_impact(self) -> None:
        import tempfile

        import yaml

        from engine.impact import compare_policies
        from engine.source.diagnostics import Diagnostics
        from engine.source.marked import parse_text

        diags = Diagnostics()
        node = parse_text(policy_path().read_text(encoding="utf-8"), str(policy_path()), diags)
        assert node is not None and not diags.has_errors()
        doc = node.plain()
        for plan, keys in self.edits.items():
            doc["plans"][plan].update(keys)
        with tempfile.TemporaryDirectory() as tmp:
            edited = Path(tmp) / "edited-policies.yaml"
            edited.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
            examples = sorted((REPO / "examples" / "scenarios").glob("*.yaml"))
            rules = rules_path()
            self.impact = compare_policies(
                base_policy=policy_path(),
                new_policy=edited,
                base_rules=rules,
                new_rules=rules,
                scenarios=examples,
            )

    def impact_report(self) -> Any:
        assert self.impact is not None, "compute the impact first"
        return self.impact

    def close(self) -> None:
        self.check_no_unseen_refusal()
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def clock(self) -> dt.datetime:
        if self.now is None:
            raise AssertionError("no date yet: start the scenario with a Given that sets one")
        return self.now

    def move_to(self, when: When | dt.datetime) -> None:
        """Set the scenario clock and let the engine apply what fell due (renewals, expiries, reminders)."""
        at = when if isinstance(when, dt.datetime) else when.instant(self.tz)
        if self.now is not None and at < self.now:
            raise AssertionError(f"time cannot go back: it is already {self.now:%Y-%m-%d %H:%M}")
        self.now = at
        self.record(self.eng.advance(at))

    def move_by(self, days: int) -> None:
        self.move_to(self.clock() + dt.timedelta(days=days))

    # -- recording ----------------------------------------------------------

    def record(self, decisions: engine.Decision | Iterable[engine.Decision]) -> None:
        if isinstance(decisions, engine.Decision):
            decisions = [decisions]
        for d in decisions:
            self.coverage.record(self.nodeid, d)

    def act(self, decision: engine.Decision) -> engine.Decision:
        self.check_no_unseen_refusal()
        self.record(decision)
        self.last = decision
        return decision

    def attempt(self, call: Callable[[], engine.Decision]) -> engine.Decision | None:
        """Make a call the engine may refuse; a refusal is kept for a Then step to check."""
        self.check_no_unseen_refusal()
        self.before_refusal = self.observable()
        try:
            return self.act(call())
        except engine.InvalidCall as exc:
            self.refused, self.refused_checked = exc, False
            return None

    def check_no_unseen_refusal(self) -> None:
        if not self.refused_checked:
            raise AssertionError(f"a call was refused ({self.refused}) and no Then step checked it")

    def observable(self) -> Any:
        """What a refused call must leave as it was: every account's ledger and the reminders sent."""
        accounts = self.eng.accounts()
        return (
            [(a, self.eng.history(a)) for a in accounts],
            self.eng.reminded(at=self.now) if self.now is not None else None,
        )

    def last_decision(self, event: str) -> engine.Decision:
        if not self.refused_checked:
            raise AssertionError(f"the call was refused: {self.refused}")
        d = self.last
        if d is None or d.event != event:
            got = "nothing" if d is None else f"a {d.event} decision"
            raise AssertionError(f"expected the last step to be a {event}, but it was {got}")
        return d

    # -- actions ----------------------------------------------------------------

    def subscribe(self, name: str, plan: str, when: When | None, anchor: When | None = None) -> None:
        if when is not None:
            self.move_to(when)
        at = self.clock()
        billing_anchor = None if anchor is None else anchor.instant(self.tz)
        self.act(self.eng.subscribe(name, plan_key(plan), at=at, billing_anchor=billing_anchor))

    def send(
        self, sender: str, recipient: str, at: str | None = None, key: str | None = None
    ) -> engine.Decision | None:
        """A send now, or at ``at`` as written (the engine reads it in the policy's time zone)."""
        d = self.attempt(
            lambda: self.eng.send(sender, recipient, at=self.clock() if at is None else at, key=key)
        )
        if d is None:
            return None
        if self.now is None or d.at > self.now:
            self.now = d.at
        if key is not None:
            self.keyed.setdefault(key, d)
        if d.outcome in ("sent", "sent_free") and d.message is not None:
            self.sent.append((sender, recipient, d.message))
        return d

    def message_to(self, recipient: str, sender: str | None = None) -> str:
        for s, r, mid in reversed(self.sent):
            if r == recipient and (sender is None or s == sender):
                return mid
        who = "" if sender is None else f" from {sender!r}"
        raise AssertionError(f"no message to {recipient!r}{who} has been sent in this scenario")

    def respond(self, recipient: str, response: str) -> None:
        mid = self.message_to(recipient)
        self.act(self.eng.respond(mid, response_key(response), at=self.clock()))

    # -- looking things up ----------------------------------------------------

    def balance(self, name: str, when: When | None = None) -> engine.Balance:
        at = self.clock() if when is None else when.instant(self.tz)
        return self.eng.balance(name, at=at)

    def entries(self, name: str, kind: str) -> list[engine.LedgerEntry]:
        return [e for e in self.eng.history(name) if e.kind == kind]

    def explain(self, d: engine.Decision | None = None) -> str:
        d = d or self.last
        if d is None:
            return "no decision yet"
        return (
            f"{d.event} -> {d.outcome}"
            + (f" ({d.reason})" if d.reason else "")
            + f" by rule {d.rule!r}, balance after: {d.balance}"
        )
