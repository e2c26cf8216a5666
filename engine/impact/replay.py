"""Replay a store's event log from scratch and check it gives the stored ledger: the audit answer.

Every logged call is made again, in order, on a fresh in-memory engine under
the revision of the policy and rules it was decided under (the store keeps
their texts), and each answer must be what the log recorded; at the end every
account's ledger must equal the stored one, entry by entry. "Can you prove
this balance?": yes, when this finds no difference.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.codes import C
from engine.core.engine import Engine
from engine.errors import InvalidCall
from engine.events import KINDS
from engine.impact.calls import logged_calls
from engine.impact.cluster import PartitionProgress, check_cluster, check_partitions, default_partitions, run
from engine.impact.partition import Owners, Partitioning
from engine.impact.stored import read_accounts, split_log, where
from engine.model import LoggedCall, once_per_advance
from engine.policy.load import policy_from_texts
from engine.store.base import Store, open_store


@dataclass(frozen=True)
class ReplayReport:
    """What a replay found: how much it made again, and the first difference (None: none)."""

    calls: int
    accounts: int
    entries: int
    revisions: int
    difference: str | None
    #: where the difference is: the log ``seq`` of the call that decides otherwise now, or the
    #: account whose ledger differs (a partitioned replay reports the first in log order)
    seq: int | None = None
    account: str | None = None

    @property
    def same(self) -> bool:
        return self.difference is None


def replay_store(
    db: str,
    progress: Callable[..., None] | None = None,
    cluster: str | None = None,
    parts: int = 0,
    partition_progress: PartitionProgress | None = None,
) -> ReplayReport:
    """Replay the event log of the store at ``db`` (which must exist) and compare the ledgers.

    ``cluster`` (``local:N`` or ``tcp://HOST:PORT``, :mod:`engine.impact.cluster`) replays
    ``parts`` partitions of the accounts (default: 4 per local worker, 16 on a scheduler; without
    ``cluster``, ``parts`` > 1 means ``local:parts``) on Dask workers, each opening the store
    itself; accounts that a call names together stay in one partition, so each partition's answer
    is the single run's for its accounts, and the first difference reported is the one the single
    run finds; ``partition_progress`` is told (done, all) as partitions finish.
    """
    if parts and (cluster is not None or parts > 1):  # said before the store is opened, as limits are
        check_partitions(parts, cluster)
    if cluster is None and parts > 1:  # N local workers, with their usual number of partitions
        cluster, parts = f"local:{parts}", 0
    if not isinstance(db, str) or db == "memory":
        raise C.invalid_database("replay reads a database: give a file or a URL")
    store = open_store(db, create=False)
    try:
        if not store.log_complete():
            raise C.log_incomplete(
                "this store was made before the event log: its earlier calls are not in it, "
                "so its ledger cannot be rebuilt from the log",
            )
        if cluster is None:
            return _replay(store, store.calls(), progress)
        return _on_cluster(db, store, cluster, parts, partition_progress)
    finally:
        store.close()


def _on_cluster(
    db: str,
    store: Store,
    cluster: str,
    parts: int,
    progress: PartitionProgress | None,
) -> ReplayReport:
    """The driver reads the log once, a page at a time, to split it (:func:`split_log`), and keeps
    none of its calls; each worker reads its own."""
    check_cluster(cluster)
    if parts == 0:
        parts = default_partitions(cluster)
    split = split_log(store.calls_paged(), parts)
    named = split.accounts if split.by_account else [None] * parts  # None: the worker reads the whole log
    tasks = [(where(db), i, split.partitioning, named[i]) for i in range(parts)]
    reports = run(_replay_part, tasks, cluster, progress)
    found = [r for r in reports if r.difference is not None]
    if found:
        order = {name: i for i, name in enumerate(store.accounts())}
        first = min(found, key=lambda r: (r.seq is None, r.seq or 0, order.get(r.account or "", len(order))))
        return ReplayReport(split.calls, 0, 0, split.revisions, first.difference, first.seq, first.account)
    accounts, entries = sum(r.accounts for r in reports), sum(r.entries for r in reports)
    return ReplayReport(split.calls, accounts, entries, split.revisions, None)


def _replay_part(task: tuple[str, int, Partitioning, tuple[str, ...] | None]) -> ReplayReport:
    """One partition of a replay (on a worker): its accounts' calls, its accounts' ledgers. The
    calls are read by account when the driver could name them (:mod:`engine.impact.stored`), else
    the whole log is read and each call kept by the account it changes."""
    db, index, partitioning, logged = task
    store = open_store(db, create=False)
    try:
        if logged is not None:
            mine = read_accounts(store, logged)
        else:
            owners, mine = Owners(), []
            for c in store.calls():
                if c.method == "advance":  # logged once per account it moved: each goes with its account
                    keep = partitioning.part(c.account) == index
                else:
                    named = owners.accounts(next(iter(logged_calls([c]))))
                    keep = not named or partitioning.part(named[0]) == index
                if keep:
                    mine.append(c)
        accounts = {a for a in store.accounts() if partitioning.part(a) == index}
        return _replay(store, mine, None, accounts)
    finally:
        store.close()


def _replay(
    store: Store,
    calls: list[LoggedCall],
    progress: Callable[..., None] | None,
    only: set[str] | None = None,
) -> ReplayReport:
    """Replay ``calls`` and compare the ledgers of every stored account (``only`` those: a partition)."""
    revisions: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        eng: Engine | None = None
        try:
            for call in once_per_advance(calls):
                if not revisions or call.revision != revisions[-1]:
                    eng = _under(store, call.revision, Path(tmp) / str(len(revisions)), eng)
                    revisions.append(call.revision)
                assert eng is not None
                if call.method == "advance":
                    eng.advance(call.args["to"])
                    continue
                try:  # the log keeps the method, which names the kind, and the arguments by name
                    args = {k: v for k, v in call.args.items() if k != "at"}
                    d = eng.call(KINDS.by_method(call.method), args, at=call.args["at"], key=call.key)
                except InvalidCall as exc:
                    return _differs(
                        calls,
                        revisions,
                        f"call {call.seq} ({call.method}) is refused now: {exc}",
                        seq=call.seq,
                    )
                if (d.outcome, d.reason, d.rule) != (call.outcome, call.reason, call.rule):
                    return _differs(
                        calls,
                        revisions,
                        f"call {call.seq} ({call.method}) decides {d.outcome}"
                        f"/{d.reason} by {d.rule} now; the log says {call.outcome}/{call.reason} "
                        f"by {call.rule}",
                        seq=call.seq,
                    )
                if progress is not None:
                    progress()
            stored = [a for a in store.accounts() if only is None or a in only]
            again = [] if eng is None else eng.accounts()
            if stored != again:
                missing = sorted(set(stored) ^ set(again))
                return _differs(calls, revisions, f"the accounts differ: {', '.join(missing[:5])}")
            entries = 0
            for name in stored:
                mine, theirs = store.history(name) or [], eng.history(name) if eng is not None else []
                for a, b in zip(mine, theirs, strict=False):
                    if a != b:
                        return _differs(
                            calls,
                            revisions,
                            f"account {name}, entry {a.seq}: stored {_shown(a)}, replayed {_shown(b)}",
                            account=name,
                        )
                if len(mine) != len(theirs):
                    return _differs(
                        calls,
                        revisions,
                        f"account {name} has {len(mine)} entries stored and {len(theirs)} replayed",
                        account=name,
                    )
                entries += len(mine)
            return ReplayReport(len(calls), len(stored), entries, len(revisions), None)
        finally:
            if eng is not None:
                eng.close()


def _under(store: Store, revision: str, folder: Path, eng: Engine | None) -> Engine:
    """An engine under ``revision`` (the texts the store kept): a new one, or ``eng`` reloaded."""
    texts = store.revision(revision)
    if texts is None:
        raise C.revision_missing(f"the store keeps no texts for revision {revision}")
    folder.mkdir()
    for name, text in texts["rules"].items():
        (folder / name).write_text(text, encoding="utf-8")
    policy = policy_from_texts(texts["policy"], texts["override"])
    if eng is None:
        eng = Engine.open(policy=policy, rules=folder, log=False)
    else:
        eng.reload(policy=policy, rules=folder)
    if eng.revision != revision:
        raise C.revision_missing(f"the texts kept for revision {revision} read as {eng.revision}")
    return eng


def _differs(
    calls: list[LoggedCall],
    revisions: list[str],
    what: str,
    seq: int | None = None,
    account: str | None = None,
) -> ReplayReport:
    return ReplayReport(len(calls), 0, 0, len(revisions), what, seq, account)


def _shown(e: object) -> str:
    fields = ("at", "kind", "lot", "amount", "balance_after", "rule")
    return "{" + ", ".join(f"{f}={getattr(e, f)}" for f in fields) + "}"
