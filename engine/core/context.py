"""What every call needs of the policy in force: its calendar, its rules, its facts, its answers.

An :class:`Engine` holds one :class:`Context` and swaps it whole on
``reload``, so a call never sees half of an old policy and half of a new
one. The context builds the account facts of the catalog (``sender.*`` /
``account.*`` and ``plan.*``), asks the rule book, and turns a verdict into
the :class:`~engine.model.Decision` a caller receives: the one place a
Decision is put together, for a caller's event and for a system event alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.codes import C
from engine.ledger.calendar import Calendar
from engine.ledger.state import AccountState
from engine.model import Decision, Verdict, build
from engine.policy import Policy
from engine.rules.book import RuleBook
from engine.store.base import Unit

#: What :meth:`Engine.observe` calls: (a decision just made, the facts its rules saw).
Observer = Callable[[Decision, Mapping[str, Any]], None]

#: The four account facts, by the prefix an event kind uses for its acting account.
_NAMES = {p: (f"{p}.premium", f"{p}.plan", f"{p}.payment", f"{p}.balance") for p in ("sender", "account")}


class Context:
    """The policy, its compiled rules and its calendar, with the helpers built from them once."""

    def __init__(
        self,
        policy: Policy,
        book: RuleBook,
        observer: Observer | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.policy = policy
        self.book = book
        #: told of every decision with the facts behind it (tracing, living docs); None: nobody
        self.observer = observer
        #: the instant of a call made without ``at`` (an edge's wall clock); None: ``at`` is needed
        self.clock = clock
        #: whether this policy's texts are in the store already (kept with the first logged call)
        self.revision_kept = False
        #: False for a throwaway engine that keeps no event log (``Engine.open(log=False)``)
        self.logging = True
        #: the facts of each verdict given and not yet made a decision (a subscribe's start grant is
        #: decided between the subscribe's verdict and its decision)
        self._seen: dict[int, Mapping[str, Any]] = {}
        self.cal = Calendar(policy.timezone)
        #: used-up lots stay loaded only when a credit back may refill one (``credit_back.lot: original``)
        self.keep_spent = policy.credit_back.lot == "original"
        #: the plan.* facts of each plan, computed once
        self._plan_facts: dict[str, dict[str, bool | int | str]] = {
            name: {
                "plan.premium": p.premium,
                "plan.purchasable": p.purchasable,
                "plan.monthly_allotment": p.monthly_allotment,
                "plan.cap": p.cap,
            }
            for name, p in policy.plans.items()
        }

    @property
    def revision(self) -> str:
        return self.book.revision

    def now(self) -> dt.datetime:
        """The instant of a new call made without ``at``: the clock an edge gave the engine."""
        if self.clock is None:
            raise C.invalid_argument("`at` is needed: this engine was opened without a clock")
        return self.cal.instant(self.clock())

    def load(self, u: Unit, name: str) -> AccountState | None:
        """Load (and lock) an account, with the ledger settings this policy needs."""
        acct = u.account(name, self.keep_spent)
        if acct is not None:
            acct.keep_spent = self.keep_spent
        return acct

    def facts(self, acct: AccountState, prefix: str) -> dict[str, Any]:
        """The account facts of the catalog (``sender.*`` or ``account.*`` and ``plan.*``)."""
        facts: dict[str, Any] = dict(self._plan_facts[acct.plan])
        premium, plan, payment, balance = _NAMES[prefix]
        facts[premium] = acct.active and facts["plan.premium"]
        facts[plan] = acct.plan
        facts[payment] = acct.payment
        facts[balance] = acct.balance
        return facts

    def decide(self, event: str, facts: dict[str, Any]) -> Verdict:
        """The rules' verdict on facts the engine built itself from typed state."""
        verdict = self.book.decide(event, facts, checked=False)
        if self.observer is not None:
            self._seen[id(verdict)] = dict(facts)
        return verdict

    def decision(
        self,
        verdict: Verdict,
        acct: AccountState,
        at: dt.datetime,
        start: int,
        *,
        end: int | None = None,
        message: str | None = None,
        status: str | None = None,
        purchase_possible: bool | None = None,
        system: Sequence[Decision] = (),
        seq: int | None = None,
    ) -> Decision:
        """The Decision for ``verdict``: its entries (``start`` to ``end``) and the balance now."""
        decision = build(
            Decision,
            {
                "event": verdict.event,
                "at": at,
                "outcome": verdict.outcome,
                "reason": verdict.reason,
                "rule": verdict.rule,
                "requirements": verdict.requirements,
                "effects": verdict.effects,
                "revision": self.book.revision,
                "account": acct.name,
                "message": message,
                "status": status,
                "balance": acct.balance,
                "purchase_possible": purchase_possible,
                "entries": tuple(acct.entries[start:end]),
                "system_events": tuple(system),
                "id": seq,
                "replayed": False,
            },
        )
        if self.observer is not None:
            self.observer(decision, self._seen.pop(id(verdict), {}))
        return decision
