"""What Python's garbage collector takes of a replay in memory, the engine's and the floor's, by size.

    python bench/experiments/gc_share.py ACCOUNTS [memory|floor] [off]

Runs ``bench/replay.py``'s replay of the simulated year (``memory``: the
engine in memory; ``floor``: ``bench/floor.py``, the same year by hand) in
this process, with a ``gc.callbacks`` hook timing every collection by
generation. The collector runs when allocations outnumber deallocations by
its threshold, so nearly all collections start inside the calls being timed
(the engine allocates far more per call than the workload does); the share
reported is the collections' time over the replay's time inside calls,
which is an upper bound for that reason. A full collection visits every
object the collector tracks, so its cost grows with the store. With
``off`` the collector is disabled for the run instead (``gc.disable()``), to
compare the cost per event with and without it, alternated with a run
without ``off``: that difference also holds what the collections cost in
caches, which their own time does not. Prints one JSON line.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))  # the installed engine first, the source tree as the fallback

from bench.replay import replay, replay_floor  # noqa: E402


def run(accounts: int, backend: str, collector: bool) -> dict[str, Any]:
    spent = [0.0, 0.0, 0.0]
    count = [0, 0, 0]
    longest = [0.0, 0.0, 0.0]
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        gen, took = info["generation"], time.perf_counter() - started[0]
        spent[gen] += took
        count[gen] += 1
        longest[gen] = max(longest[gen], took)

    if collector:
        gc.callbacks.append(timed)
    else:
        gc.disable()
    try:
        row = replay(accounts, "memory") if backend == "memory" else replay_floor(accounts)[0]
    finally:
        if collector:
            gc.callbacks.remove(timed)
        else:
            gc.enable()
    out: dict[str, Any] = {
        "accounts": accounts,
        "backend": backend,
        "collector": collector,
        "us_per_event": row["us_per_event"],
        "seconds": row["seconds"],
        "peak_rss_mb": row["peak_rss_mb"],
    }
    if collector:
        out["collections"] = count
        out["gc_s"] = [round(s, 3) for s in spent]
        out["longest_ms"] = [round(s * 1e3, 2) for s in longest]
        out["gc_share"] = round(sum(spent) / row["seconds"], 3)
    return out


if __name__ == "__main__":
    n = int(sys.argv[1])
    which = sys.argv[2] if len(sys.argv) > 2 else "memory"
    if which not in ("memory", "floor"):
        sys.exit(f"gc_share.py: the replay is `memory` or `floor`, not `{which}`")
    print(json.dumps(run(n, which, collector=not (len(sys.argv) > 3 and sys.argv[3] == "off"))))
