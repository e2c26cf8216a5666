"""The first calls of the simulated year on SQLite, a transaction per call: time, bytes written, tail.

    python bench/experiments/sqlite_calls.py [ACCOUNTS] [CALLS] [none]

Replays the first CALLS calls of the benchmark's year (as ``bench/replay.py
ACCOUNTS sqlite``, on a fresh file) and prints one JSON line: microseconds
per call inside engine calls, wall and CPU; what the process wrote per call,
in kilobytes and in write system calls (``/proc/self/io``: the WAL frames of
each commit, and the pages each checkpoint copies into the database file);
the 99th and 99.9th percentile and the longest call, in milliseconds (a
call that sets off a checkpoint waits for it); and the WAL file's size at
the end. The bytes and system calls are counts, not timings, so they say
what a change of the store's SQLite settings does on this VM, whose speed
moves by a quarter from one hour to the next. Linux only (``/proc``).

With ``none`` the store's connections never checkpoint (SQLite's
``wal_autocheckpoint`` off, set through the store's private
``WAL_CHECKPOINT_PAGES``, so a change of the store can stop it): the WAL
grows for the whole run. That is no way to run a store; it bounds what
moving the checkpoints off the call path (to a thread of their own) could
take off a call.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))  # the installed engine first, the source tree as the fallback

import engine  # noqa: E402
from bench.workload import year_of_events  # noqa: E402


def _written() -> tuple[int, int]:
    """Bytes and write system calls of this process so far."""
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(io["wchar"]), int(io["syscw"])


def main(accounts: int = 1000, calls: int = 109_714, checkpoints: bool = True) -> dict[str, Any]:
    if not checkpoints:
        from engine.store import _sql_dialect

        _sql_dialect.WAL_CHECKPOINT_PAGES = 0  # read when a connection is made
    spent: list[float] = []
    cpu = 0.0
    with tempfile.TemporaryDirectory(prefix="inmail-calls-") as tmp:
        db = Path(tmp) / "s.db"
        eng = engine.Engine.open(db=db, policy=ROOT / "policies.yaml", rules=ROOT / "rules")
        bytes0, writes0 = _written()
        for call in year_of_events(accounts):
            if len(spent) == calls:
                break
            t0, c0 = time.perf_counter(), time.process_time()
            with contextlib.suppress(engine.InvalidCall):  # a refused call counts too: it reads
                eng.call(call.event, call.args, at=call.at, key=call.key)
            spent.append(time.perf_counter() - t0)
            cpu += time.process_time() - c0
        bytes1, writes1 = _written()
        wal = Path(f"{db}-wal")
        wal_mb = wal.stat().st_size / 2**20 if wal.exists() else 0.0
        eng.close()
    made = len(spent)
    ranked = sorted(spent)
    return {
        "accounts": accounts,
        "calls": made,
        "us_per_call": round(sum(spent) / made * 1e6, 1),
        "cpu_us_per_call": round(cpu / made * 1e6, 1),
        "written_kb_per_call": round((bytes1 - bytes0) / made / 1024, 1),
        "write_calls_per_call": round((writes1 - writes0) / made, 2),
        "p99_ms": round(ranked[int(made * 0.99)] * 1e3, 2),
        "p999_ms": round(ranked[int(made * 0.999)] * 1e3, 2),
        "max_ms": round(ranked[-1] * 1e3, 1),
        "wal_mb": round(wal_mb, 1),
        "checkpoints": checkpoints,
        "compiled": engine.COMPILED,
    }


if __name__ == "__main__":
    if sys.argv[3:] not in ([], ["none"]):
        sys.exit("usage: sqlite_calls.py [ACCOUNTS] [CALLS] [none]")
    sizes = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(main(*sizes, checkpoints=not sys.argv[3:])))
