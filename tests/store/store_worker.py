"""A separate process for the store tests: a long keyed replay, or one send after a barrier.

    python store_worker.py replay DB           # every call of workload(), printing each index done
    python store_worker.py batch DB            # the same in Engine.batch(every=BATCH)
    python store_worker.py send DB I BARRIER   # wait for BARRIER to exist, then alice -> rI, print outcome

The workload is deterministic, and every call carries an idempotency key
(``k<index>``), so a replay killed part-way can be resumed from the start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
Call = tuple[str, tuple[Any, ...], dict[str, Any]]
#: calls per commit in ``batch`` mode
BATCH = 50


def race_sends(db: str, barrier: Path, processes: int = 8) -> list[dict[str, Any]]:
    """Start ``processes`` workers that each send one InMail from `alice` at once; their results.

    Each worker opens the store, says ``ready``, waits for ``barrier`` to
    exist, sends, and prints its Decision as JSON.
    """
    import subprocess

    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "send", db, str(i), str(barrier)],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        barrier.touch()
        return [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def workload(n: int = 1200, accounts: int = 6, seed: int = 5) -> list[Call]:
    """Keyed calls in time order: subscriptions, sends, responses, purchases, cancels, payments."""
    rng = random.Random(seed)
    names = [f"u{i}" for i in range(accounts)]
    plans = ["career", "business", "sales_navigator", "career", "basic", "business"]
    calls: list[Call] = [
        ("subscribe", (name, plans[i % len(plans)]), {"at": T0}) for i, name in enumerate(names)
    ]
    t = T0
    sent: list[str] = []
    while len(calls) < n:
        t += dt.timedelta(seconds=rng.randrange(0, 4 * 3600))
        who = rng.choice(names)
        r = rng.random()
        if r < 0.55:
            mid = f"m{len(calls)}"
            sent.append(mid)
            calls.append(("send", (who, f"p{rng.randrange(40)}"), {"at": t, "message_id": mid}))
        elif r < 0.85 and sent:
            calls.append(("respond", (rng.choice(sent), rng.choice(["reply", "interested"])), {"at": t}))
        elif r < 0.9:
            calls.append(("purchase", (who, rng.randrange(1, 6)), {"at": t}))
        elif r < 0.93:
            calls.append(("set_payment", (who, rng.choice(["valid", "expired"])), {"at": t}))
        elif r < 0.95:
            calls.append(("cancel", (who,), {"at": t}))
        elif r < 0.97:
            calls.append(("subscribe", (who, rng.choice(plans)), {"at": t}))
        else:
            calls.append(("connect", (who, f"p{rng.randrange(40)}"), {"at": t}))
    return [(m, a, {**kw, "key": f"k{i}"}) for i, (m, a, kw) in enumerate(calls)]


def run(eng: Any, calls: list[Call], progress: bool = False) -> None:
    from engine import InvalidCall

    for i, (method, args, kwargs) in enumerate(calls):
        with contextlib.suppress(InvalidCall):
            getattr(eng, method)(*args, **kwargs)
        if progress:
            print(i, flush=True)


def main(argv: list[str]) -> None:
    from engine import Engine, InvalidCall

    mode, db = argv[0], argv[1]
    with Engine.open(db=db) as eng:
        if mode == "replay":
            run(eng, workload(), progress=True)
        elif mode == "batch":  # the same, 50 calls per commit; prints "index committed-so-far"
            with eng.batch(every=BATCH) as b:
                for i, (method, args, kwargs) in enumerate(workload()):
                    with contextlib.suppress(InvalidCall):
                        getattr(eng, method)(*args, **kwargs)
                    print(i, b.committed, flush=True)
        elif mode == "send":
            barrier = Path(argv[3])
            print("ready", flush=True)
            while not barrier.exists():
                time.sleep(0.005)
            d = eng.send("alice", f"r{argv[2]}", at=T0 + dt.timedelta(hours=1))
            print(json.dumps({"outcome": d.outcome, "reason": d.reason, "balance": d.balance}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
