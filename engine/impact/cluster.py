"""Partitions run on a Dask cluster: ``local:N`` on this machine, or a running scheduler's address.

``--jobs N`` and ``--cluster local:N`` are the same thing: a Dask ``LocalCluster`` of N
worker processes (one thread each: a partition is Python that holds the GIL) listening on
loopback only, its HTTP endpoints too. ``tcp://HOST:PORT`` hands the partitions to a running
scheduler (``dask scheduler``, with ``dask worker tcp://HOST:PORT`` on each machine); each
worker needs this package installed and read access to the policy and rules files named.
A partition is tried once more if its worker dies or it raises; one that fails twice fails the
run with its number, and no report is made. (On a scheduler of your own, how many deaths a task
may see is its ``distributed.scheduler.allowed-failures``: set it to 1 for the same rule; Dask's
default is 3.) The caller may be told how many partitions are done as they finish (a progress bar).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from engine.codes import C

T = TypeVar("T")
R = TypeVar("R")

_LOCAL = re.compile(r"local(?::(\d{1,3}))?")
_REMOTE = re.compile(r"tcp://[A-Za-z0-9.\-\[\]:]+:\d{1,5}")


#: The most worker processes a local cluster starts (``local:N``, ``--jobs N`` alone).
MAX_LOCAL = 64
#: The most partitions a run makes on a scheduler: more partitions than cores keeps each small
#: enough for a worker's memory (a partition holds its accounts' stores for both sides).
MAX_PARTITIONS = 1024


def check_cluster(spec: object) -> str:
    """``local``, ``local:N`` (1 to 64 workers) or ``tcp://HOST:PORT``; ``invalid_argument`` else."""
    if not isinstance(spec, str):
        raise C.invalid_argument(f"--cluster must be text such as `local:2`, got {type(spec).__name__}")
    local = _LOCAL.fullmatch(spec)
    if local is not None and (local[1] is None or 1 <= int(local[1]) <= MAX_LOCAL):
        return spec
    if _REMOTE.fullmatch(spec):
        return spec
    raise C.invalid_argument(
        f"--cluster must be `local`, `local:N` (N from 1 to 64) or `tcp://HOST:PORT`, got `{spec}`"
    )


def check_partitions(parts: int, cluster: str | None) -> None:
    """``invalid_argument`` unless ``parts`` partitions can run: up to :data:`MAX_PARTITIONS` on a
    cluster; ``jobs`` alone (no cluster) is a number of local worker processes, up to :data:`MAX_LOCAL`."""
    if isinstance(parts, bool) or not isinstance(parts, int) or not 1 <= parts <= MAX_PARTITIONS:
        raise C.invalid_argument(f"jobs is a number of partitions from 1 to {MAX_PARTITIONS:,}")
    if parts > MAX_LOCAL and cluster is None:
        raise C.invalid_argument(
            f"--jobs {parts} alone means {parts} local worker processes, and this machine runs at most "
            f"{MAX_LOCAL}: for {parts} partitions give a cluster too (--cluster local:N or tcp://HOST:PORT)"
        )


#: Partitions per local worker when not told: a worker plays them one after another, so its memory
#: holds one partition's accounts at a time (a quarter of its share), and a worker that finishes
#: early takes another partition instead of waiting for the slowest.
PER_WORKER = 4


def workers(spec: str) -> int:
    """How many worker processes ``local:N`` (N) or ``local`` (one per core) starts."""
    found = _LOCAL.fullmatch(spec)
    assert found is not None, spec
    return int(found[1]) if found[1] else (os.cpu_count() or 1)


def default_partitions(spec: str) -> int:
    """How many partitions a run makes when not told: :data:`PER_WORKER` per worker of a local
    cluster, 16 for a scheduler (whose workers this side does not know)."""
    if _LOCAL.fullmatch(spec) is None:
        return 16
    return min(PER_WORKER * workers(spec), MAX_PARTITIONS)


def _reachable(address: str) -> None:
    """A scheduler that is not listening is said at once, not after the client's connect timeout."""
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise C.worker_failed(f"cannot reach the Dask scheduler at `{address}`: {exc}") from None


#: How often a run looks at its partitions, for the progress bar and to fail at the first failure.
_POLL = 0.25

#: (partitions done, partitions in all), told as the run goes.
PartitionProgress = Callable[[int, int], None]


class Session:
    """A client on one cluster, for one run's passes (a synthetic year asks where it ends, then
    plays): the local cluster is started once for them."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(
        self, fn: Callable[[T], R], tasks: Sequence[T], progress: PartitionProgress | None = None
    ) -> list[R]:
        """``fn`` over ``tasks``, results in task order; ``worker_failed`` at the first partition that
        fails for good (a worker that died twice under it, or an error it raised twice)."""
        run_id = uuid.uuid4().hex[:8]
        keys = [f"inmail-partition-{i}-{run_id}" for i in range(len(tasks))]
        futures = self.client.map(fn, tasks, key=keys, retries=1, pure=False)
        while True:
            done = 0
            for i, future in enumerate(futures):
                if future.status in ("error", "cancelled"):
                    _result(future, i, len(tasks))  # raises
                done += future.status == "finished"
            if progress is not None:
                progress(done, len(tasks))
            if done == len(tasks):
                return [_result(f, i, len(tasks)) for i, f in enumerate(futures)]
            time.sleep(_POLL)


def _result(future: Any, i: int, parts: int) -> Any:
    try:
        return future.result()
    except Exception as exc:
        if getattr(exc, "code", None) is not None:  # an engine refusal: said as it is
            raise
        why = (
            "each worker that ran it died"
            if type(exc).__name__ == "KilledWorker"
            else f"{type(exc).__name__}: {exc}"
        )
        raise C.worker_failed(f"partition {i} of {parts} failed ({why}); no report made") from None


@contextmanager
def session(cluster: str) -> Iterator[Session]:
    """A :class:`Session` on ``cluster``: a ``LocalCluster`` started here (and stopped at the end),
    or a running scheduler's."""
    check_cluster(spec=cluster)
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise C.missing_dependency(
            "running partitions on several processes needs Dask (dask.distributed)",
            help="pip install 'inmail-engine[dask]' (in a checkout: pip install -e '.[dask]')",
        ) from None
    local: Any = None
    if cluster.startswith("local"):
        # a task whose worker dies is tried once more, then fails the run: the scheduler (started
        # in this process) reads how many deaths a task may see when it is made
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
            local = LocalCluster(
                n_workers=workers(cluster),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                # Dask's HTTP endpoints cannot be switched off; they listen on loopback, on ports the
                # system picks (the default :8787 means every interface, and clashes with another run)
                dashboard_address="127.0.0.1:0",
                worker_dashboard_address="127.0.0.1:0",
                silence_logs=logging.CRITICAL,  # a failure is said once, by the run, as a typed error
            )
        address: Any = local
    else:
        _reachable(cluster)
        address = cluster
    try:
        try:
            client = Client(address, timeout=20)
        except OSError as exc:
            raise C.worker_failed(f"cannot reach the Dask scheduler at `{cluster}`: {exc}") from None
        try:
            yield Session(client)
        finally:
            client.close()
    finally:
        if local is not None:
            local.close()


def run(
    fn: Callable[[T], R], tasks: Sequence[T], cluster: str, progress: PartitionProgress | None = None
) -> list[R]:
    """``fn`` over ``tasks`` on ``cluster``, results in task order."""
    with session(cluster) as s:
        return s.map(fn, tasks, progress)
