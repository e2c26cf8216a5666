"""Impact of a policy edit: the same calls under the base and the new policy, compared.

``compare_policies`` is what ``inmail impact`` and the workbench call; the
calls come from scenario files, a seeded synthetic year, or any iterable of
:class:`Call` an app builds (its own history, say).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from engine.codes import C
from engine.core.engine import Engine
from engine.impact.calls import logged_calls, scenario_calls, synthetic_calls
from engine.impact.cluster import check_cluster, default_partitions, run
from engine.impact.compare import MOVEMENTS, Divergence, ImpactReport, Progress, Side, impact, merge
from engine.impact.ledgers import LedgerDifference
from engine.impact.markdown import to_markdown
from engine.impact.partition import Partitioning, assign
from engine.impact.synthetic import Call
from engine.model import LoggedCall
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
    progress: Progress | None = None,
    jobs: int = 1,
    cluster: str | None = None,
) -> ImpactReport:
    """Compare ``base_policy`` (and ``base_rules``) with ``new_policy`` (and ``new_rules``) over one source.

    The source is exactly one of: ``scenarios`` (scenario files: their set-up
    and timeline, under each side's policy merged with the file's own
    ``policy:``; ``expect`` is ignored), ``synthetic`` (a seeded year of that
    many accounts on the base policy's plans and response types: a call naming
    one the new policy lacks is not applicable there), ``db`` (a store's event
    log: its real history), or ``calls``.
    ``None`` for the new policy or rules means the usual places (``./policies.yaml``,
    ``./rules``, else the packaged ones).
    Both sides run in memory from empty stores. ``jobs`` > 1 splits the accounts of
    a synthetic year, a store's history or ``calls`` over that many worker processes:
    accounts that message or connect to each other stay together
    (:mod:`engine.impact.partition`), so the merged report is the same as with one.
    ``cluster`` runs the partitions on Dask (:mod:`engine.impact.cluster`): ``local:N`` (what
    ``jobs=N`` means), or a running scheduler's ``tcp://HOST:PORT`` (then ``jobs`` partitions,
    16 if not given).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= 64:
        raise C.invalid_argument("jobs is a number of worker processes from 1 to 64")
    if cluster is not None:
        check_cluster(cluster)
        if cluster.startswith("local") or jobs == 1:
            jobs = default_partitions(cluster)
    elif jobs > 1:
        cluster = f"local:{jobs}"
    given = [bool(scenarios), synthetic is not None, db is not None, calls is not None]
    if sum(given) != 1:
        raise C.invalid_argument(
            "give exactly one source: scenario files, a synthetic size, a store, or calls"
        )
    if db is not None:
        calls = logged_calls(_read_log(db))
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
    if cluster is not None and (synthetic is not None or calls is not None):
        source: int | list[Call] = synthetic if synthetic is not None else list(calls or ())
        return _in_parallel(source, jobs, cluster, base_policy, new_path, base_rules, new_rules)
    with (
        Engine.open(policy=base_policy, rules=base_rules, log=False) as b,
        Engine.open(policy=new_path, rules=new_rules, log=False) as n,
    ):
        if synthetic is not None:
            calls = synthetic_calls(synthetic, b.policy)
        assert calls is not None
        return impact(calls, b, n, progress)


Source = int | list[Call]  # a synthetic year's size (each worker makes the year again), or the calls
Task = tuple[Source, int, Partitioning, PathLike, PathLike, PathLike | None, PathLike | None]


def _share(task: Task) -> ImpactReport:
    """One partition's report (run in its own process)."""
    source, index, partitioning, base_policy, new_policy, base_rules, new_rules = task
    with (
        Engine.open(policy=base_policy, rules=base_rules, log=False) as b,
        Engine.open(policy=new_policy, rules=new_rules, log=False) as n,
    ):
        calls = synthetic_calls(source, b.policy) if isinstance(source, int) else source
        return impact(calls, b, n, part=(index, partitioning))


def _in_parallel(
    source: Source,
    jobs: int,
    cluster: str,
    base_policy: PathLike,
    new_policy: PathLike,
    base_rules: PathLike | None,
    new_rules: PathLike | None,
) -> ImpactReport:
    # Check both sides here first, so a bad file is one clear error, not one per worker.
    with (
        Engine.open(policy=base_policy, rules=base_rules) as b,
        Engine.open(policy=new_policy, rules=new_rules),
    ):
        calls = synthetic_calls(source, b.policy) if isinstance(source, int) else source
        partitioning = assign(calls, jobs)
    # a worker runs elsewhere (another folder, another machine): every file by its absolute path
    base_policy, new_policy = Path(base_policy).resolve(), Path(new_policy).resolve()
    base_rules, new_rules = resolve_rules(base_rules).resolve(), resolve_rules(new_rules).resolve()
    tasks: list[Task] = [
        (source, i, partitioning, base_policy, new_policy, base_rules, new_rules) for i in range(jobs)
    ]
    return merge([(None, r) for r in run(_share, tasks, cluster)])


def _read_log(db: str) -> list[LoggedCall]:
    from engine.store.base import open_store

    store = open_store(db, create=False)
    try:
        if not store.log_complete():
            raise C.log_incomplete(
                "this store was made before the event log: its earlier calls are not in it"
            )
        return store.calls()
    finally:
        store.close()
