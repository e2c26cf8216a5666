"""What an insert costs when rows keyed by account land all over a B-tree, against rows appended in order.

A bulk replay at 10,000 accounts commits 1,000 calls at a time, and those
calls belong to about 1,000 different accounts, so each table keyed by
account gets 1,000 inserts on 1,000 different leaf pages: every one a page
to find (often not in SQLite's 2 MB cache) and a page to write to the WAL
and later into the file. Appending in insertion order touches only the last
page. This script measures the two, plus a time-ordered table with an index
by account (where the scatter moves into the smaller index), on a table
shaped like ``entries``, outside the engine; ``clustered/each`` is the
store's layout written one statement per row instead of one ``executemany``.

    python bench/experiments/sqlite_scatter.py [clustered|clustered/each|append+index|append ...]

Prints one JSON line per layout: microseconds per inserted row, 1,000 rows
per commit, after a million rows are in (WAL, ``synchronous = NORMAL``, as
the store runs).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from typing import Any

ACCOUNTS = 10_000
COLS = (
    "account TEXT, seq INTEGER, at TEXT, kind TEXT, lot INTEGER, amount INTEGER, balance_after INTEGER, "
    "event TEXT, rule TEXT, requirements TEXT, message TEXT, note TEXT"
)
LAYOUTS = {
    "clustered": [f"CREATE TABLE entries ({COLS}, PRIMARY KEY (account, seq)) WITHOUT ROWID"],  # the store's
    "append+index": [
        f"CREATE TABLE entries ({COLS})",
        "CREATE INDEX entries_account ON entries (account, seq)",
    ],
    "append": [f"CREATE TABLE entries ({COLS})"],
}
#: the store's layout again, one ``execute`` per row as a call's save does, not one ``executemany``
LAYOUTS["clustered/each"] = LAYOUTS["clustered"]
INSERT = "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def measure(layout: str, fill: int = 1_000_000, timed: int = 40_000) -> dict[str, Any]:
    rng = random.Random(7)
    seqs = [0] * ACCOUNTS

    def rows(n: int) -> list[tuple[Any, ...]]:
        out = []
        for _ in range(n):
            a = rng.randrange(ACCOUNTS)
            seqs[a] += 1
            out.append(
                (
                    f"acct-{a:05d}",
                    seqs[a],
                    "2026-01-01T00:00:00Z",
                    "debit",
                    1,
                    -1,
                    3,
                    "send",
                    "send-inmail",
                    "R01,R02",
                    None,
                    None,
                )
            )
        return out

    with tempfile.TemporaryDirectory(prefix="inmail-bench-") as tmp:
        db = sqlite3.connect(os.path.join(tmp, "scatter.db"), isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        for sql in LAYOUTS[layout]:
            db.execute(sql)
        for _ in range(fill // 5000):
            db.execute("BEGIN IMMEDIATE")
            db.executemany(INSERT, rows(5000))
            db.execute("COMMIT")
        batch = rows(timed)
        t0 = time.perf_counter()
        for i in range(0, timed, 1000):
            db.execute("BEGIN IMMEDIATE")
            if layout.endswith("/each"):
                for row in batch[i : i + 1000]:
                    db.execute(INSERT, row)
            else:
                db.executemany(INSERT, batch[i : i + 1000])
            db.execute("COMMIT")
        spent = time.perf_counter() - t0
        db.close()
    return {"layout": layout, "rows_before": fill, "us_per_row": round(spent / timed * 1e6, 1)}


if __name__ == "__main__":
    for name in sys.argv[1:] or list(LAYOUTS):
        print(json.dumps(measure(name)), flush=True)
