"""The floor under any SQLite replay on this machine: what one commit costs, by pages written.

With WAL, ``synchronous = NORMAL`` and a checkpoint every
``WAL_CHECKPOINT_PAGES`` pages (the store's settings) a commit appends every
page the transaction changed to the WAL file, with no fsync except at
checkpoints. Timing bare ``BEGIN IMMEDIATE; INSERT ...; COMMIT``
transactions that change 1, 4 or 12 pages shows what the disk and the
system-call path of this machine charge per transaction, before any engine
code runs. An engine call changes several pages (account row and its
next-due index, message row and its indexes, ledger entries, lots);
``bench/experiments/sqlite_pages.py`` counts them, and bench/RESULTS.md
records the count beside this floor.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.store._sql_dialect import WAL_CHECKPOINT_PAGES


def commit_floor(pages: tuple[int, ...] = (1, 4, 12), n: int = 1500) -> dict[str, float]:
    """Mean microseconds of COMMIT for transactions that each write ``p`` fresh pages."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="inmail-floor-") as tmp:
        con = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
            con.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            con.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
            row = "x" * 3000  # one row per 4 KB page
            for p in pages:
                spent = 0.0
                for _ in range(n):
                    con.execute("BEGIN IMMEDIATE")
                    con.executemany("INSERT INTO t (b) VALUES (?)", [(row,)] * p)
                    t0 = time.perf_counter()
                    con.execute("COMMIT")
                    spent += time.perf_counter() - t0
                out[str(p)] = round(spent / n * 1e6, 1)
        finally:
            con.close()
    return out


#: Issue 31, target 4: a call on SQLite (a transaction per call) within this many times the commit
#: floor of the pages it writes.
CALL_TARGET = 2.0


def floor_at(pages: float, n: int = 1500) -> float:
    """The commit floor at a fractional page count: measured at the whole counts either side of it,
    and read between them in proportion (a call writes 10.9 pages on average, not 10 or 11)."""
    lo = max(1, math.floor(pages))
    hi = max(lo, math.ceil(pages))
    us = commit_floor((lo, hi) if hi > lo else (lo,), n)
    low, high = us[str(lo)], us[str(hi)]
    return round(low + (high - low) * (pages - lo), 1)


def call_ratio(replay: dict[str, Any], pages: float, before_us: float, after_us: float) -> dict[str, Any]:
    """A transaction per call against the commit floor of its pages, both measured in the same minutes.

    ``replay`` is ``bench/replay.py``'s row for the ``sqlite`` store, ``pages`` the pages a call
    writes (``bench/sqlite_pages.py``), ``before_us`` and ``after_us`` the floor at that many pages
    measured right before and right after the replay: this VM's disk and CPU speed drift over an
    hour, so a floor measured at another time of the run would not say what the replay's minutes
    cost. A call's cost is the replay's time inside engine calls over its calls (refused calls
    included, as they are in the time).
    """
    row: dict[str, Any] = {"accounts": replay["accounts"], "target": CALL_TARGET}
    if "error" in replay:
        return {**row, "error": replay["error"]}
    floor_us = (before_us + after_us) / 2
    call_us = replay["seconds"] / replay["calls"] * 1e6
    return {
        **row,
        "pages_per_call": pages,
        "floor_before_us": before_us,
        "floor_after_us": after_us,
        "floor_us": round(floor_us, 1),
        "call_us": round(call_us, 1),
        "ratio": round(call_us / floor_us, 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(commit_floor()))
