"""The floor under any SQLite replay on this machine: what one commit costs, by pages written.

With WAL and ``synchronous = NORMAL`` (the store's settings) a commit
appends every page the transaction changed to the WAL file, with no fsync
except at checkpoints. Timing bare ``BEGIN IMMEDIATE; INSERT ...; COMMIT``
transactions that change 1, 4 or 12 pages shows what the disk and the
system-call path of this machine charge per transaction, before any engine
code runs. An engine call changes several pages (account row and its
next-due index, message row and its indexes, ledger entries, lots);
``bench/experiments/sqlite_pages.py`` counts them, and bench/RESULTS.md
records the count beside this floor.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path


def commit_floor(pages: tuple[int, ...] = (1, 4, 12), n: int = 1500) -> dict[str, float]:
    """Mean microseconds of COMMIT for transactions that each write ``p`` fresh pages."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="inmail-floor-") as tmp:
        con = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
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


if __name__ == "__main__":
    import json

    print(json.dumps(commit_floor()))
