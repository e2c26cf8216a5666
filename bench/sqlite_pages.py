"""Pages a call writes on SQLite: WAL frames per commit, a transaction per call.

    python bench/sqlite_pages.py [ACCOUNTS] [CALLS]

The commit floor (``bench/sqlite_floor.py``) is priced by pages written; this
says how many pages the engine's calls write, so the two can be put side by
side (``bench/run.py`` does, for each size it replays on SQLite: issue 31,
target 4). It replays the first CALLS calls of the benchmark's simulated year
on a fresh SQLite file with automatic checkpoints off, and reads the WAL's
size before and after each call (a frame is one page). Refused calls write
nothing and are not counted. Prints one JSON line: pages per call overall
and per method.

A count, not a timing: which pages a call writes does not depend on the
machine's speed, nor on when checkpoints run, so turning them off here (to
read the WAL's size) changes nothing counted. It reaches into the engine's
raw SQLite connection (a private part) to turn them off.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # the installed engine first, the source tree as the fallback

import engine  # noqa: E402
from engine.events import KINDS  # noqa: E402
from engine.impact.synthetic import year_of_events  # noqa: E402

PAGE = 4096  # SQLite's default page size, which the store keeps (checked when it opens)


def pages_per_call(accounts: int, limit: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="inmail-pages-") as folder:
        by = _pages(os.path.join(folder, "pages.db"), accounts, limit)
    every = [n for ns in by.values() for n in ns]
    return {
        "accounts": accounts,
        "calls": len(every),
        "page_size": PAGE,
        "pages_per_call": round(statistics.fmean(every), 2),
        "by_method": {
            m: {"calls": len(ns), "mean": round(statistics.fmean(ns), 2), "median": statistics.median(ns)}
            for m, ns in sorted(by.items(), key=lambda kv: -len(kv[1]))
        },
    }


def _pages(db: str, accounts: int, limit: int) -> dict[str, list[int]]:
    """Pages written by each accepted call, by method."""
    eng = engine.Engine.open(db=db, policy=ROOT / "policies.yaml", rules=ROOT / "rules")
    raw = eng._store._raw_connection()  # type: ignore[attr-defined]  # the engine's own connection
    raw.execute("PRAGMA wal_autocheckpoint = 0")
    assert raw.execute("PRAGMA page_size").fetchone()[0] == PAGE
    wal = db + "-wal"

    def frames() -> int:
        return max(0, (os.path.getsize(wal) - 32) // (PAGE + 24)) if os.path.exists(wal) else 0

    by: dict[str, list[int]] = defaultdict(list)
    done = 0
    try:
        for call in year_of_events(accounts):
            kind = KINDS[call.event]  # reported by its Engine method, as before (``set_payment``)
            before = frames()
            try:
                eng.call(kind, call.args, at=call.at, key=call.key)
            except engine.InvalidCall:
                continue
            by[kind.method].append(frames() - before)
            done += 1
            if done % 10_000 == 0:  # keep the WAL small; between calls, so no call's frames are lost
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if done >= limit:
                break
    finally:
        eng.close()
    return by


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(pages_per_call(*(args + [1000, 60_000][len(args) :]))))
