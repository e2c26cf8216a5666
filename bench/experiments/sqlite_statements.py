"""Where a SQLite call's statements spend their time, with a transaction per call.

    python bench/experiments/sqlite_statements.py [ACCOUNTS] [CALLS]

Replays the first CALLS calls of the benchmark's simulated year on a fresh
SQLite file, one transaction per call (as ``bench/replay.py ACCOUNTS
sqlite``), and times every statement the store's driver cursor runs, by its
text: microseconds per call, statements per call, microseconds each. What a
call costs beyond its commit (``bench/sqlite_floor.py``) is these statements
plus the engine's own work; this says which statements. ``BEGIN`` and
``COMMIT`` are not among them (the store sends those on the cursor itself).
Reaches into the store's private executor (``DriverExec``), so a change of
the store can stop it. Prints JSON.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))  # the installed engine first, the source tree as the fallback

import engine  # noqa: E402
from bench.workload import year_of_events  # noqa: E402
from engine.store import _sql_exec  # noqa: E402

spent: defaultdict[str, float] = defaultdict(float)
count: Counter[str] = Counter()


def _timed(method: Callable[..., Any]) -> Callable[..., Any]:
    clock = time.perf_counter

    def run(self: Any, sql: str, params: Any) -> Any:
        t0 = clock()
        out = method(self, sql, params)
        spent[sql] += clock() - t0
        count[sql] += 1
        return out

    return run


def main(accounts: int = 1000, calls: int = 40_000) -> dict[str, Any]:
    for name in ("one", "all", "run", "many"):
        setattr(_sql_exec.DriverExec, name, _timed(getattr(_sql_exec.DriverExec, name)))
    with tempfile.TemporaryDirectory(prefix="inmail-statements-") as tmp:
        eng = engine.Engine.open(db=Path(tmp) / "s.db", policy=ROOT / "policies.yaml", rules=ROOT / "rules")
        busy, made = 0.0, 0
        for call in year_of_events(accounts):
            if made == calls:
                break
            t0 = time.perf_counter()
            with contextlib.suppress(engine.InvalidCall):  # a refused call counts too: it reads
                eng.call(call.event, call.args, at=call.at, key=call.key)
            busy += time.perf_counter() - t0
            made += 1
        eng.close()
    per_call = {
        " ".join(sql.split())[:70]: {
            "us_per_call": round(spent[sql] / made * 1e6, 1),
            "per_call": round(count[sql] / made, 2),
            "us_each": round(spent[sql] / count[sql] * 1e6, 1),
        }
        for sql in sorted(spent, key=spent.__getitem__, reverse=True)
    }
    return {
        "accounts": accounts,
        "calls": made,
        "us_per_call": round(busy / made * 1e6, 1),
        "statements_us_per_call": round(sum(spent.values()) / made * 1e6, 1),
        "by_statement": per_call,
    }


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:3])), indent=2))
