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

    @property
    def same(self) -> bool:
        return self.difference is None


def replay_store(db: str, progress: Callable[..., None] | None = None) -> ReplayReport:
    """Replay the event log of the store at ``db`` (which must exist) and compare the ledgers."""
    if not isinstance(db, str) or db == "memory":
        raise C.invalid_database("replay reads a database: give a file or a URL")
    store = open_store(db, create=False)
    try:
        if not store.log_complete():
            raise C.log_incomplete(
                "this store was made before the event log: its earlier calls are not in it, "
                "so its ledger cannot be rebuilt from the log",
            )
        return _replay(store, store.calls(), progress)
    finally:
        store.close()


def _replay(store: Store, calls: list[LoggedCall], progress: Callable[..., None] | None) -> ReplayReport:
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
                        calls, revisions, f"call {call.seq} ({call.method}) is refused now: {exc}"
                    )
                if (d.outcome, d.reason, d.rule) != (call.outcome, call.reason, call.rule):
                    return _differs(
                        calls,
                        revisions,
                        f"call {call.seq} ({call.method}) decides {d.outcome}"
                        f"/{d.reason} by {d.rule} now; the log says {call.outcome}/{call.reason} "
                        f"by {call.rule}",
                    )
                if progress is not None:
                    progress()
            stored = store.accounts()
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
                        )
                if len(mine) != len(theirs):
                    return _differs(
                        calls,
                        revisions,
                        f"account {name} has {len(mine)} entries stored and {len(theirs)} replayed",
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


def _differs(calls: list[LoggedCall], revisions: list[str], what: str) -> ReplayReport:
    return ReplayReport(len(calls), 0, 0, len(revisions), what)


def _shown(e: object) -> str:
    fields = ("at", "kind", "lot", "amount", "balance_after", "rule")
    return "{" + ", ".join(f"{f}={getattr(e, f)}" for f in fields) + "}"
