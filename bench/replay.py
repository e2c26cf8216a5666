"""One replay run: a simulated year through the public ``engine.Engine`` API.

Run by ``bench/run.py`` in a fresh subprocess per size and store, so the peak
RSS it reports belongs to this run alone. Counts caller events (the API
calls) and system events (renewals, expiries, reminders) separately; the
rate is over both, since both are rule decisions applied to the ledger.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.workload import year_of_events  # noqa: E402


def replay(accounts: int, backend: str) -> dict[str, Any]:
    import engine

    calls = list(year_of_events(accounts))
    tmp = tempfile.mkdtemp(prefix="inmail-bench-")
    db = None if backend == "memory" else os.path.join(tmp, "bench.db")
    eng = engine.Engine.open(db=db, policy=ROOT / "policies.yaml", rules=ROOT / "rules")
    refused = 0
    system = 0
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    checkpoints = []
    t0 = time.perf_counter()
    step = max(1, len(calls) // 10)
    for i, call in enumerate(calls):
        try:
            decision = getattr(eng, call.method)(*call.args, **call.kwargs)
        except engine.InvalidCall:
            refused += 1  # e.g. a response to an InMail that was denied: no message exists
            continue
        system += len(decision.system_events)
        if i % step == 0:
            checkpoints.append((time.perf_counter() - t0, i + system))
    # Drain what falls due after the last call (expiries, the last renewals).
    end = calls[-1].kwargs["at"]
    system += len(eng.advance(end))
    elapsed = time.perf_counter() - t0
    eng.close()
    events = len(calls) - refused + system
    return {
        "accounts": accounts,
        "calls": len(calls),
        "refused_calls": refused,
        "system_events": system,
        "events": events,
        "seconds": round(elapsed, 3),
        "events_per_s": round(events / elapsed, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "start_rss_mb": round(rss_start, 1),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(replay(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "memory")))
