"""Where the in-memory store's memory goes at the end of the simulated year, line by line.

    python bench/experiments/memory_where.py [ACCOUNTS] [LINES]

Plays the benchmark's simulated year (``bench/workload.py``) through an
in-memory engine, as ``bench/replay.py ACCOUNTS memory`` does, with
``tracemalloc`` tracing every allocation from the first call on, then drains
what falls due, collects garbage and reports what is still allocated: in all,
by source file, and the LINES lines that hold the most, each with its source
text, so that a reader sees which rows (messages, ledger entries, lots, the
log, coded texts) the memory is. An object is charged to the line that made
it: the message ids, recipient names and instants a call carries in are made
by the workload (``engine/impact/synthetic.py``) and kept by the store, so
they show under that file; the workload's own generators, made before tracing
starts, do not. Also the number of rows in each of the store's tables, which
reaches into the store's private attributes, so a change of the store can
stop it. Tracing makes the run several times slower; the time is not
reported. Prints JSON.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import linecache
import sys
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))  # the installed engine first, the source tree as the fallback

import engine  # noqa: E402
from bench.workload import year_of_events  # noqa: E402


def measure(accounts: int, lines: int = 15) -> dict[str, Any]:
    eng = engine.Engine.open(policy=ROOT / "policies.yaml", rules=ROOT / "rules")
    stream = year_of_events(accounts)
    first = next(stream, None)  # the workload's generators exist before tracing starts
    tracemalloc.start(1)
    calls, at = _play(eng, itertools.chain([] if first is None else [first], stream))
    if at is not None:
        eng.advance(at)
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    stats = snapshot.statistics("lineno")
    by_file: Counter[str] = Counter()
    for s in stats:
        by_file[_where(s.traceback[0].filename)] += s.size
    total = sum(by_file.values())
    top = []
    for s in stats[:lines]:
        frame = s.traceback[0]
        top.append(
            {
                "where": f"{_where(frame.filename)}:{frame.lineno}",
                "source": linecache.getline(frame.filename, frame.lineno).strip(),
                "mb": round(s.size / 2**20, 2),
                "blocks": s.count,
            }
        )
    store = eng._store  # private: the row counts of each table
    rows = {
        k.lstrip("_"): len(v)
        for k, v in vars(store).items()
        if isinstance(v, dict | list | set) or hasattr(v, "cut")
    }
    eng.close()
    return {
        "accounts": accounts,
        "calls": calls,
        "traced_mb": round(total / 2**20, 1),
        "kb_per_account": round(total / accounts / 1024, 1),
        "by_file_mb": {f: round(n / 2**20, 2) for f, n in by_file.most_common() if n >= 2**16},
        "top_lines": top,
        "rows": rows,
    }


def _play(eng: engine.Engine, calls: Iterator[Any]) -> tuple[int, Any]:
    """Make the year's calls; (how many, the last one's instant). A refused call is counted and
    changes nothing, as in ``bench/replay.py`` (say, a response to an InMail that was denied)."""
    n, at = 0, None
    for call in calls:
        with contextlib.suppress(engine.InvalidCall):
            eng.call(call.event, call.args, at=call.at, key=call.key)
        n, at = n + 1, call.at
    return n, at


def _where(filename: str) -> str:
    """A file as the repository names it (the engine's and the benchmark's), else as Python does."""
    parts = Path(filename).parts
    for anchor in ("engine", "bench"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[i:])
    return filename


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    print(json.dumps(measure(n, k), indent=1))
