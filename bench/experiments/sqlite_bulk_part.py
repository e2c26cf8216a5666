"""The start of a bulk SQLite replay, and how much of it goes to commits: for profiling levers quickly.

A full bulk year at 10,000 accounts is a long run; its first CALLS calls
cost per event what the year's first quarter costs, in a fraction of the
time: short enough to alternate a change with the code before it, or to run
under ``py-spy record --native`` and see what SQLite does inside the
statements. Calls go through ``Engine.batch`` (``bench.replay.BATCH`` per
commit) exactly as in ``bench/replay.py ACCOUNTS sqlite-bulk``.

    python bench/experiments/sqlite_bulk_part.py ACCOUNTS CALLS

Prints one JSON line: microseconds per event inside engine calls, and the
share of that time spent committing (the batch's ``COMMIT``, with any WAL
checkpoint it sets off). It wraps the private ``SqliteBatch.commit`` to time
it: a measurement script, not the public API.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))  # the installed engine first; ``bench`` from the source tree

from bench.replay import BATCH  # noqa: E402
from bench.workload import year_of_events  # noqa: E402


def run(accounts: int, limit: int) -> dict[str, Any]:
    import engine
    from engine.store import _sql_batch

    committing = 0.0
    commit = _sql_batch.SqliteBatch.commit

    def timed(self: _sql_batch.SqliteBatch) -> None:
        nonlocal committing
        t0 = time.perf_counter()
        commit(self)
        committing += time.perf_counter() - t0

    _sql_batch.SqliteBatch.commit = timed  # type: ignore[method-assign]
    busy, events, calls = 0.0, 0, 0
    with tempfile.TemporaryDirectory(prefix="inmail-bench-") as tmp:
        db = os.path.join(tmp, "bench.db")
        eng = engine.Engine.open(db=db, policy=ROOT / "policies.yaml", rules=ROOT / "rules")
        try:
            with eng.batch(BATCH):
                for call in year_of_events(accounts):
                    if calls >= limit:
                        break
                    calls += 1
                    t0 = time.perf_counter()
                    try:
                        decision = eng.call(call.event, call.args, at=call.at, key=call.key)
                        events += 1 + len(decision.system_events)
                    except engine.InvalidCall:
                        pass  # a response to a denied send: no message, nothing applied
                    busy += time.perf_counter() - t0
            # the WAL is part of it until a checkpoint copies it into the file
            db_mb = round(sum(os.path.getsize(f) for f in (db, db + "-wal") if os.path.exists(f)) / 2**20, 1)
        finally:
            eng.close()
    return {
        "accounts": accounts,
        "calls": calls,
        "events": events,
        "us_per_event": round(busy / events * 1e6, 1) if events else None,
        "commit_share": round(committing / busy, 3) if busy else None,
        "db_and_wal_mb": db_mb,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]), int(sys.argv[2]))))
