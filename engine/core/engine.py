"""The embeddable engine: every call turns into facts, a verdict from the rules, and ledger effects.

An :class:`Engine` holds a policy, a :class:`~engine.rules.book.RuleBook` and a
store. A call (say ``send``) is one store transaction that

1. validates the arguments completely (an :class:`~engine.errors.InvalidCall`
   here writes nothing);
2. brings the acting account up to ``at``: the renewals, expiries and
   reminders due by then are raised as ``renew`` / ``expire`` / ``remind``
   events, in time order and, at one instant, expiries before renewals
   before reminders (:mod:`engine.core.timeline`);
3. computes the facts of the event's catalog entry, asks the rules, and
   carries out the effects the deciding rule named, through the one effect
   table (:mod:`engine.core.effects`).

The engine never chooses an outcome itself: what a call does to a balance is
always what a rule in ``rules/*.yaml`` said, and every ledger entry cites it.

Idempotency: a call with a ``key`` already used returns the Decision stored
under it (whatever the other arguments) and changes nothing; a call that
raised stores nothing, so it may be retried with the same key.

With ``credit_back.lot: original`` a response may come after the consumed
lot expired: the rules still decide ``credited_back``, and the ledger shows
a ``credit_back`` entry of amount 0 on that lot (note "original lot already
expired"): the credit is gone and the balance does not change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from engine.codes import C
from engine.core import arguments as check
from engine.core import calls, timeline
from engine.core._methods import At, Calls
from engine.core.context import Context, Observer
from engine.events import AT, KINDS, EventKind
from engine.ledger import lots as ledger
from engine.model import Balance, Decision, LedgerEntry, LoggedCall, Verdict
from engine.policy import Policy, load_policy
from engine.rules.book import RuleBook
from engine.source.marked import YMap
from engine.source.paths import resolve_policy, resolve_rules
from engine.store.base import Store, open_store
from engine.store.batch import Batch

__all__ = ["At", "Engine"]


class Engine(Calls):
    """InMail credits for an embedding app: decisions explained, balances exact, state in a store."""

    def __init__(self, store: Store, policy: Policy, book: RuleBook) -> None:
        self._store = store
        self._ctx = Context(policy, book)

    @classmethod
    def open(
        cls,
        db: str | Path | None = None,
        policy: str | Path | Policy | None = None,
        rules: str | Path | RuleBook | None = None,
        policy_override: YMap | None = None,
        override_text: str = "",
        create: bool = True,
        log: bool = True,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> Engine:
        """Build an engine from files (default: ``./policies.yaml`` and ``./rules``, else the packaged ones).

        ``db``: None or ``"memory"`` for the in-process store, a file path or
        ``sqlite:///...`` for SQLite, ``postgresql://...`` for PostgreSQL.
        ``policy_override`` (a scenario's ``policy:`` mapping) is merged onto
        a policy read from a file; a ready :class:`Policy` is used as given.
        ``create=False`` opens only a database that already holds a store
        (``store_not_found`` otherwise), so a reader never leaves one behind.
        The store's accounts must all be on plans the policy has (``plan_in_use``).
        ``log=False`` keeps no event log, for a throwaway in-memory engine (an
        impact report's two sides, a replay); a database always logs.
        ``rules`` may also be a :class:`RuleBook` loaded for ``policy`` (as :meth:`reload` takes it).
        ``clock`` (an edge's wall clock; the engine reads none of its own) lets a call leave out
        ``at``: see :meth:`call`.
        """
        try:
            check.path_or_none(db, "db")
            if not isinstance(rules, RuleBook):
                check.path_or_none(rules, "rules")
            if not (isinstance(override_text, str) and isinstance(create, bool) and isinstance(log, bool)):
                raise C.invalid_argument("override_text must be text, create and log true or false")
            if isinstance(policy, Policy):
                pol = policy
            else:
                check.path_or_none(policy, "policy")
                override, text = check.policy_override(policy_override, override_text)
                pol = load_policy(resolve_policy(policy), override, text)
        except BaseException:
            _close_given(rules)
            raise
        book = _book(rules, pol)
        try:
            store = open_store(db, create, log)
        except BaseException:
            book.close()
            raise
        try:
            _check_plans(store, pol)
        except BaseException:
            store.close()
            book.close()
            raise
        eng = cls(store, pol, book)
        eng._ctx.logging = log
        if clock is not None and not callable(clock):
            eng.close()
            raise C.invalid_argument("clock must be a function that returns the current instant")
        eng._ctx.clock = clock
        return eng

    def reload(
        self,
        policy: str | Path | Policy | None = None,
        rules: str | Path | RuleBook | None = None,
        *,
        publish: Callable[[str], object] | None = None,
    ) -> str:
        """Swap in a changed policy and/or rules; return the new revision.

        Everything is loaded and compiled first: a policy or rules file that
        fails validation raises (:class:`~engine.errors.InvalidPolicy` /
        :class:`~engine.errors.InvalidRules`) and the running policy stays in
        force, untouched. A policy that drops a plan some account is on is
        refused (``plan_in_use``), since those accounts could no longer be
        decided. Accounts and their ledgers carry over; the new numbers apply
        from the next call (allotments and caps at the next renewal). Call it
        between calls, not during one. ``None`` reloads from the default
        places (``./policies.yaml``, ``./rules``, else the packaged ones).

        ``rules`` may be a :class:`RuleBook` already loaded for ``policy`` (texts checked
        elsewhere, say); the engine then owns it, and closes it if it is refused.
        ``publish(revision)`` is called once everything is checked, just before the swap; if
        it raises, nothing changes. A server tells its other workers there, so that they
        never hear of a revision this worker then refused.
        """
        try:
            if not isinstance(rules, RuleBook):
                check.path_or_none(rules, "rules")
            if not isinstance(policy, Policy):
                check.path_or_none(policy, "policy")
            pol = policy if isinstance(policy, Policy) else load_policy(resolve_policy(policy))
        except BaseException:
            _close_given(rules)
            raise
        book = _book(rules, pol)
        try:
            _check_plans(self._store, pol)
            if publish is not None:
                publish(book.revision)
        except BaseException:
            book.close()
            raise
        # one assignment: a call sees one policy or the other
        ctx = Context(pol, book, self._ctx.observer, self._ctx.clock)
        ctx.logging = self._ctx.logging
        old, self._ctx = self._ctx, ctx
        old.book.close()
        return book.revision

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self._ctx.policy

    @property
    def revision(self) -> str:
        """Content hash of the policy and rules in force; every Decision carries it."""
        return self._ctx.revision

    @property
    def rulebook(self) -> RuleBook:
        """The compiled rules in force: list them (``rules(event)``), or ask one what-if (``decide``)."""
        return self._ctx.book

    def check_store(self) -> None:
        """Read from the store, or raise :class:`~engine.errors.StoreUnavailable` (a readiness probe)."""
        with self._store.unit(write=False) as u:
            u.message_exists("")

    # --- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the rule engine's memory and the database connections."""
        self._store.close()
        self._ctx.book.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def batch(self, every: int = 1000) -> AbstractContextManager[Batch]:
        """Group calls for bulk work: up to ``every`` calls per transaction instead of one each.

        ``with engine.batch() as b:`` makes every call of this thread, until the
        block ends, join an open transaction that is committed every ``every``
        calls and at the end. Each call is still all or nothing (a refused call
        changes nothing, and the calls before it stand), but a call that
        returned is only safe once committed: if the block raises, or the
        process dies, the calls since the last commit are lost together, and
        ``b.committed`` says how many are safe, so a bulk job can go on from
        there. A read outside a call (``history``, ``log``, ``advance``'s list
        of accounts ...) runs inside the batch's transaction: it sees every
        call made so far and commits nothing. On SQLite the batch holds its
        accounts in memory while it owns the write lock, and writes what its
        calls changed at commit, one ``executemany`` per table. Meanwhile other
        writers of the store wait (SQLite's write lock; on PostgreSQL the
        locks of the accounts written). The in-memory store applies each call
        at once, so there a batch changes nothing. Inside a batch, a batch
        joins it.
        """
        return self._store.batch(check.size(every, "every", 1_000_000))

    # --- calls ------------------------------------------------------------------------------

    def call(
        self, event: str | EventKind, args: Mapping[str, Any], *, at: At | None = None, key: str | None = None
    ) -> Decision:
        """Make a call of any event kind: ``engine.call("send", {"sender": ..., "recipient": ...}, at=...)``.

        The typed methods (:meth:`send`, :meth:`subscribe` ...) are this call spelled for one kind
        (generated from :mod:`engine.events`); an app, a replay or a report that holds calls as data
        uses this. ``args`` are the kind's arguments by name (an optional one may be left out);
        everything is checked before the store is touched, as :mod:`engine.core.arguments` says.

        Without ``at`` (an engine opened with a ``clock``), a retry under a known ``key`` happens at
        the first call's instant, so that it repeats that call and gets its answer; a new call
        happens at the clock's instant, read once the key is known to be unused.
        """
        kind = KINDS.known_call(event) if type(event) is str else None  # a kind's name is a valid name
        if kind is None:
            kind = event if isinstance(event, EventKind) else KINDS.call(check.name(event, "an event kind"))
        ctx = self._ctx
        values = check.call_args(kind, args, ctx.policy)
        for n in kind.instants:  # an instant argument is read like `at`; "the call's instant" by default
            if values[n] is not None and values[n] != AT:
                values[n] = ctx.cal.instant(values[n])
        if at is None and ctx.clock is None:
            raise C.invalid_argument(f"`{kind.method}` needs `at`: this engine was opened without a clock")
        t = None if at is None else ctx.cal.instant(at)
        idem = check.idempotency(key, kind, values)
        return calls.SHAPES[kind.shape](ctx, self._store, kind, values, t, idem)

    # --- time and queries -------------------------------------------------------------------

    def advance(self, to: At) -> list[Decision]:
        """Apply every account's renewals, expiries and reminders due up to ``to``, in time order.

        Only accounts with something due are touched (each store keeps the
        next due instant per account), each in its own transaction.
        """
        ctx = self._ctx
        t = ctx.cal.instant(to)
        return calls.advance(ctx, self._store, t)

    def balance(self, account: str, at: At | None = None) -> Balance:
        """Usable credits and the lots behind them at ``at`` (R19); default: the account's clock.

        At or before the account's clock the answer is rebuilt from the
        ledger (the past does not change); later, the account is first
        brought up to ``at``, which applies what fell due meanwhile.
        """
        ctx = self._ctx
        check.name(account, "an account name")
        t = None if at is None else ctx.cal.instant(at)
        with self._store.unit(write=False) as u:  # a read: what falls due by `t` is computed, not stored
            acct = ctx.load(u, account)
            if acct is None:
                raise C.unknown_account(f"no account `{account}`")
            if t is None or t == acct.clock:
                return ledger.current_balance(acct, acct.clock)
            if t > acct.clock:
                timeline.settle(ctx, u, acct, t)
                return ledger.current_balance(acct, t)
        lots, entries = self._store.lots_and_entries(account, t)
        return ledger.balance_at(account, t, lots, entries)

    def history(self, account: str) -> list[LedgerEntry]:
        """Every ledger entry of ``account``, oldest first (the append-only record of its credits)."""
        check.name(account, "an account name")
        found = self._store.history(account)
        if found is None:
            raise C.unknown_account(f"no account `{account}`")
        return found

    def reminded(self, at: At | None = None) -> list[str]:
        """Ids of messages reminded at or before ``at``, in reminder order (all so far if None).

        Reminders that fall due by ``at`` but were not applied yet are
        included; like :meth:`balance`, this is a read and stores nothing.
        """
        if at is None:
            return [r[3] for r in self._store.reminded(None)]
        ctx = self._ctx
        t = ctx.cal.instant(at)
        found = list(self._store.reminded(t))
        for name in self._store.due_accounts(t):
            with self._store.unit(write=False) as u:
                acct = ctx.load(u, name)
                for d in [] if acct is None else timeline.settle(ctx, u, acct, t):
                    if d.event == "remind" and d.message is not None and "send_reminder" in d.effects:
                        msg = u.message(d.message)
                        found.append((d.at, name, msg.seq if msg is not None else 0, d.message))
        found.sort()
        return [r[3] for r in found]

    def accounts(self) -> list[str]:
        """Every account the store holds, by name."""
        return self._store.accounts()

    def plan_counts(self, examples: int = 3) -> dict[str, tuple[int, tuple[str, ...]]]:
        """Each plan some account is on: how many accounts, and the first ``examples`` by name (what
        a policy editor is told before removing a plan in use, which :meth:`reload` would refuse)."""
        return self._store.plan_counts(check.size(examples, "examples", 1000))

    def log(self, account: str | None = None, since: At | None = None) -> list[LoggedCall]:
        """The event log: every decided call, denials included, oldest first (refused calls are not in it).

        Each entry can be made again: ``engine.call(c.method, args, at=c.args["at"], key=c.key)``
        with ``args`` the other entries of ``c.args``; an
        :meth:`advance` is logged once for each account it moved (``method`` "advance", ``args``
        ``{"to"}``), as ``inmail replay`` expects.
        ``account``: only that account's calls; ``since``: only calls at or after it.
        A SQL store made before the log existed logs only the calls since it was
        upgraded (:attr:`log_complete` says whether the log is whole).
        """
        if account is not None:
            check.name(account, "an account name")
        t = None if since is None else self._ctx.cal.instant(since)
        return self._store.calls(account, t)

    @property
    def log_complete(self) -> bool:
        """Whether the event log holds every call the store applied (False for a store made before it)."""
        return self._store.log_complete()

    def recorded(self, key: str) -> Decision | None:
        """The Decision first made under idempotency ``key``, or None: a read, for an app that wants
        to know whether a request was made before making it (:meth:`call` itself replays it)."""
        k = check.key(key)
        if k is None:
            raise C.invalid_key("an idempotency key is needed")
        with self._store.unit(write=False) as u:
            found = u.recorded(k)
        return None if found is None else found[1]

    def observe(self, observer: Observer | None) -> None:
        """Call ``observer(decision, facts)`` for every decision made from now on, system events included.

        ``facts`` are the ones the rules saw, so a trace can show why a rule
        decided and what it wrote (``inmail docs`` does); ``None`` stops. A
        decision reported here may still be undone if its call fails later.
        Keep it quick, and do not call the engine from it.
        """
        self._ctx.observer = observer

    def decide(self, event: str, facts: Mapping[str, bool | int | str]) -> Verdict:
        """Ask the rules directly, with facts given by the caller (``inmail decide``); changes nothing."""
        return self._ctx.book.decide(event, facts)


def _book(rules: str | Path | RuleBook | None, policy: Policy) -> RuleBook:
    """The rules for ``policy``: loaded from a folder (default: the usual places), or a loaded book."""
    if not isinstance(rules, RuleBook):
        return RuleBook.load(resolve_rules(rules), policy)
    if rules.policy is not policy:
        rules.close()
        raise C.invalid_argument("the rule book was loaded for another policy")
    return rules


def _close_given(rules: object) -> None:
    """Close a RuleBook handed over with a call that is refused (the engine owned it)."""
    if isinstance(rules, RuleBook):
        rules.close()


def _check_plans(store: Store, policy: Policy) -> None:
    """Refuse a policy without a plan some stored account is on: that account could not be decided."""
    for plan, account in sorted(store.plans_in_use().items()):
        if plan not in policy.plans:
            raise C.plan_in_use(
                f"account `{account}` is on plan `{plan}`, which this policy does not have",
                help=f"keep plan `{plan}` in the policy, or open another store",
            )
