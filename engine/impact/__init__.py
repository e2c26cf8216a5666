"""Impact of a policy edit: the same calls under the base and the new policy, compared.

``compare_policies`` is what ``inmail impact`` and the workbench call; the
calls come from scenario files, a seeded synthetic year, or any iterable of
:class:`Call` an app builds (its own history, say).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.codes import C
from engine.core.engine import Engine
from engine.errors import EngineError
from engine.impact.calls import logged_calls, scenario_calls, synthetic_calls
from engine.impact.cluster import (
    PartitionProgress,
    check_cluster,
    check_partitions,
    default_partitions,
    session,
)
from engine.impact.compare import MOVEMENTS, Divergence, ImpactReport, Progress, Side, impact, merge, play
from engine.impact.files import Manifest, file_calls, read_manifest
from engine.impact.ledgers import LedgerDifference
from engine.impact.markdown import to_markdown
from engine.impact.partition import Partitioning, assign, hashed
from engine.impact.stored import Split, log_of, partition_calls, split_log, where
from engine.impact.synthetic import Call, member_name, ordered_year, year_end
from engine.policy import load_policy
from engine.scenario.load import load_scenario
from engine.source.paths import resolve_policy, resolve_rules

__all__ = [
    "MOVEMENTS",
    "Call",
    "Divergence",
    "ImpactReport",
    "LedgerDifference",
    "Side",
    "compare_policies",
    "to_markdown",
]

PathLike = str | Path


def compare_policies(
    *,
    base_policy: PathLike,
    new_policy: PathLike | None = None,
    base_rules: PathLike | None = None,
    new_rules: PathLike | None = None,
    scenarios: Sequence[PathLike] = (),
    synthetic: int | None = None,
    db: str | None = None,
    calls: Iterable[Call] | None = None,
    log_dir: PathLike | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    cluster: str | None = None,
    partition_progress: PartitionProgress | None = None,
) -> ImpactReport:
    """Compare ``base_policy`` (and ``base_rules``) with ``new_policy`` (and ``new_rules``) over one source.

    The source is exactly one of: ``scenarios`` (scenario files: their set-up
    and timeline, under each side's policy merged with the file's own
    ``policy:``; ``expect`` is ignored), ``synthetic`` (a seeded year of that
    many accounts on the base policy's plans and response types: a call naming
    one the new policy lacks is not applicable there), ``db`` (a store's event
    log: its real history), ``log_dir`` (that log as partition files, :mod:`engine.impact.files`:
    the partitions are the files'), or ``calls``.
    ``None`` for the new policy or rules means the usual places (``./policies.yaml``,
    ``./rules``, else the packaged ones).
    Both sides run in memory from empty stores. ``cluster`` splits the accounts of a synthetic
    year, a store's history or ``calls`` into partitions played on Dask
    (:mod:`engine.impact.cluster`): ``local:N`` (N worker processes here) or a running
    scheduler's ``tcp://HOST:PORT``; accounts that message or connect to each other stay
    together (:mod:`engine.impact.partition`), so the merged report is the same as with one.
    ``jobs`` is how many partitions (default: 4 per local worker, 16 on a scheduler); without
    ``cluster``, ``jobs=N`` > 1 means ``local:N``. ``partition_progress`` is told (done, all)
    as partitions finish.
    """
    check_partitions(jobs, cluster)
    given = [bool(scenarios), synthetic is not None, db is not None, calls is not None, log_dir is not None]
    if sum(given) != 1:
        raise C.invalid_argument(
            "give exactly one source: scenario files, a synthetic size, a store, partition files, or calls"
        )
    if log_dir is not None:  # the partitions are the files': the workers only choose where they run
        files = read_manifest(log_dir)
        if cluster is None and jobs > 1:
            cluster = f"local:{jobs}"
        elif jobs not in (1, files.parts):
            raise C.invalid_argument(
                f"the partition files in `{log_dir}` hold {files.parts} partitions, not {jobs}: "
                f"write them again with --partitions {jobs}, or leave --jobs out"
            )
        jobs = files.parts
    elif cluster is None and jobs > 1:  # N local workers, with their usual number of partitions
        cluster, jobs = f"local:{jobs}", 1
    if cluster is not None:
        check_cluster(cluster)
        if log_dir is None and jobs == 1:
            jobs = default_partitions(cluster)
    new_path = resolve_policy(new_policy)
    if scenarios:
        loaded = [
            (Path(p).stem, load_scenario(p, base_policy), load_scenario(p, new_path)) for p in scenarios
        ]
        reports = []  # every file is read and checked (under both policies) before any is played
        for label, s_base, s_new in loaded:
            with (
                Engine.open(policy=s_base.policy, rules=base_rules, log=False) as b,
                Engine.open(policy=s_new.policy, rules=new_rules, log=False) as n,
            ):
                reports.append((label, impact(scenario_calls(s_base), b, n, progress)))
        return merge(reports)
    if synthetic is not None and (
        isinstance(synthetic, bool) or not isinstance(synthetic, int) or not 1 <= synthetic <= 1_000_000
    ):
        raise C.invalid_quantity("synthetic is a number of accounts from 1 to 1,000,000")
    if log_dir is not None and cluster is not None:
        sides = _Sides(base_policy, new_path, base_rules, new_rules)
        return _in_parallel(files, jobs, cluster, sides, partition_progress)
    with ExitStack() as stack:
        split = None
        if db is not None:  # the log is read a page at a time, never held whole
            store = stack.enter_context(log_of(db))
            calls = logged_calls(store.calls_paged())
            if cluster is not None:
                split = split_log(store.calls_paged(), jobs)
                calls = list(calls) if not split.by_account else None
        if cluster is not None:
            sides = _Sides(base_policy, new_path, base_rules, new_rules)
            source: int | str | list[Call]
            if synthetic is not None:
                source = synthetic
            elif split is not None and split.by_account and db is not None:
                source = where(db)  # the workers read their own accounts' calls
            else:
                source, split = list(calls or ()), None
            return _in_parallel(source, jobs, cluster, sides, partition_progress, split)
        b = stack.enter_context(Engine.open(policy=base_policy, rules=base_rules, log=False))
        n = stack.enter_context(Engine.open(policy=new_path, rules=new_rules, log=False))
        if log_dir is not None:
            return play(file_calls(files, range(files.parts)), b, n, progress, end=files.end)
        if synthetic is not None:
            calls = synthetic_calls(synthetic, b.policy)
        assert calls is not None
        return impact(calls, b, n, progress)


@dataclass(frozen=True)
class _Sides:
    """The files of both sides, as a worker opens them."""

    base_policy: PathLike
    new_policy: PathLike
    base_rules: PathLike | None
    new_rules: PathLike | None

    @contextmanager
    def engines(self) -> Iterator[tuple[Engine, Engine]]:
        with (
            Engine.open(policy=self.base_policy, rules=self.base_rules, log=False) as b,
            Engine.open(policy=self.new_policy, rules=self.new_rules, log=False) as n,
        ):
            yield b, n


@dataclass(frozen=True)
class _Share:
    """One partition's task. ``source`` is a synthetic year's size (the worker makes its own members,
    placed by a hash of their names), a store (the worker reads the calls of its ``accounts`` and
    plays them with the whole log's ``advances``: :mod:`engine.impact.stored`), or the calls, which
    ``partitioning`` splits. ``end`` is where the whole year or log ends."""

    source: int | str | list[Call] | Manifest
    index: int
    parts: int
    sides: _Sides
    partitioning: Partitioning | None = None
    end: dt.datetime | None = None
    accounts: tuple[str, ...] = ()
    advances: tuple[tuple[int, dt.datetime], ...] = ()

    def members(self) -> Callable[[int], bool]:
        """Whether the year's member number ``idx`` is this partition's."""
        return lambda idx: hashed(member_name(idx), self.parts) == self.index


def _year_end(task: _Share) -> dt.datetime | None:
    """Where this partition's members' year ends (on a worker): the first pass of a synthetic run."""
    assert isinstance(task.source, int)
    policy = load_policy(task.sides.base_policy)
    return year_end(task.source, policy=policy, only=task.members())


class _Watched:
    """The calls a partition plays, remembering the last one handed out: each is played before the
    next is asked for, so when the partition fails, that is the call it failed on."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items, self.last = items, None

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.last = item
            yield item

    def said(self) -> str:
        """The failing call in words: its kind, arguments and instant."""
        call = self.last[1] if isinstance(self.last, tuple) else self.last
        if not isinstance(call, Call):
            return "before its first call"
        what = call.event or "advance"
        args = ", ".join(f"{k}={v}" for k, v in call.args.items())
        return f"at {what}({args}) at {call.at.isoformat()}"


def _share(task: _Share) -> ImpactReport:
    """One partition's report (on a worker); a failure names the partition and the call it was on."""
    watched = _Watched(())
    try:
        with task.sides.engines() as (b, n):
            if isinstance(task.source, int):
                watched = _Watched(ordered_year(task.source, policy=b.policy, only=task.members()))
                return play(((order, call, True) for order, call in watched), b, n, end=task.end)
            if isinstance(task.source, Manifest):
                watched = _Watched(file_calls(task.source, [task.index]))
                return play(watched, b, n, end=task.end)
            if isinstance(task.source, str):
                watched = _Watched(partition_calls(task.source, task.accounts, task.advances))
                return play(watched, b, n, end=task.end)
            assert task.partitioning is not None
            watched = _Watched(task.source)
            return impact(watched, b, n, part=(task.index, task.partitioning))
    except EngineError:
        raise  # a refusal of the engine's own (a store that cannot be read): said as it is
    except Exception as exc:
        raise C.worker_failed(
            f"partition {task.index} of {task.parts} failed {watched.said()}: {type(exc).__name__}: {exc}"
        ) from None


def _in_parallel(
    source: int | str | list[Call] | Manifest,
    jobs: int,
    cluster: str,
    sides: _Sides,
    progress: PartitionProgress | None,
    split: Split | None = None,
) -> ImpactReport:
    """A synthetic year's members never share anything, so its partitions are made by a hash of
    their names, each on its worker (no pass over the year here); a store's log was split here
    (``split``) and each worker reads its accounts' calls; other calls are split into the
    components of what they tie (:func:`~engine.impact.partition.assign`) and handed out."""
    # Check both sides here first, so a bad file is one clear error, not one per worker.
    with (
        Engine.open(policy=sides.base_policy, rules=sides.base_rules),
        Engine.open(policy=sides.new_policy, rules=sides.new_rules),
    ):
        partitioning = assign(source, jobs) if isinstance(source, list) else None
    # a worker runs elsewhere (another folder, another machine): every file by its absolute path
    sides = _Sides(
        Path(sides.base_policy).resolve(),
        Path(sides.new_policy).resolve(),
        resolve_rules(sides.base_rules).resolve(),
        resolve_rules(sides.new_rules).resolve(),
    )
    tasks = [_Share(source, i, jobs, sides, partitioning) for i in range(jobs)]
    if isinstance(source, Manifest):
        tasks = [replace(t, end=source.end) for t in tasks]
    if split is not None:
        tasks = [
            replace(t, end=split.end, accounts=split.accounts[t.index], advances=split.advances)
            for t in tasks
        ]
    with session(cluster) as s:
        if isinstance(source, int):  # every partition ends where the whole year does
            ends = [e for e in s.map(_year_end, tasks) if e is not None]
            tasks = [replace(t, end=max(ends, default=None)) for t in tasks]
        reports = s.map(_share, tasks, progress)
    return merge([(None, r) for r in reports])
