"""What Dask costs the impact runs on this machine, apart from the engine: starting a local cluster,
and handing out one partition task (the same ``Session.map`` the runs use, with its retries, keys
and polling).

    python bench/dask_overhead.py [WORKERS] [TASKS]      # default 2 workers, 200 tasks

Prints one JSON line: the cluster's start (seconds, best of three), and the time per task for
``TASKS`` tasks that return at once, on the cluster and on Dask's synchronous scheduler (no
processes), in milliseconds. The figures go to bench/RESULTS.md, not into code.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))

from engine.impact.cluster import session  # noqa: E402


def _nothing(x: int) -> int:
    return x


def main(argv: list[str]) -> int:
    workers = int(argv[0]) if argv else 2
    tasks = int(argv[1]) if len(argv) > 1 else 200
    starts, per_task = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        with session(f"local:{workers}") as s:
            starts.append(time.perf_counter() - t0)
            s.map(_nothing, list(range(workers)))  # warm: the function shipped once
            t1 = time.perf_counter()
            assert s.map(_nothing, list(range(tasks))) == list(range(tasks))
            per_task.append((time.perf_counter() - t1) / tasks)
    import dask

    t2 = time.perf_counter()
    with dask.config.set(scheduler="synchronous"):
        dask.compute(*[dask.delayed(_nothing)(i) for i in range(tasks)])
    sync = (time.perf_counter() - t2) / tasks
    print(
        json.dumps(
            {
                "workers": workers,
                "tasks": tasks,
                "cluster_start_s": round(min(starts), 3),
                "per_task_ms": round(min(per_task) * 1000, 2),
                "synchronous_per_task_ms": round(sync * 1000, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
