"""One replay run: a simulated year through the public ``engine.Engine`` API.

Run by ``bench/run.py`` in a fresh subprocess per size and store, so the peak
RSS it reports belongs to this run alone. The workload is streamed (see
:func:`bench.workload.year_of_events`), so the RSS is the engine's, not a
list of calls. Counts caller events (the API calls) and system events
(renewals, expiries, reminders) separately; the rate is over both, since both
are rule decisions applied to the ledger, and over the time spent inside
engine calls only (generating the workload is timed apart, as ``wall_s``).

The ``floor`` backend plays the same year through ``bench/floor.py`` (the
contract by hand, no engine), timed the same way: what the engine's cost per
event is measured against (issue 31).

    python bench/replay.py ACCOUNTS [memory|sqlite|sqlite-bulk|floor]
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
# The engine the interpreter has installed comes first (a venv with the compiled build replays
# that build); the source tree is the fallback, and where ``bench`` itself is imported from.
sys.path.append(str(ROOT))

from bench.workload import year_of_events  # noqa: E402

if TYPE_CHECKING:
    from bench.floor import Floor
    from engine.policy import Policy

#: Calls per transaction in the ``sqlite-bulk`` replay.
BATCH = 1000


def _rss_mb() -> float:
    """Peak RSS of this process image, in MB.

    ``VmHWM`` is reset by exec; ``ru_maxrss`` is not on Linux: a child
    started by ``bench/run.py`` would report at least the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    if first is not None:
        yield first
    yield from rest


def replay(accounts: int, backend: str) -> dict[str, Any]:
    import engine

    tmp = tempfile.mkdtemp(prefix="inmail-bench-")
    db = None if backend == "memory" else os.path.join(tmp, "bench.db")
    eng = engine.Engine.open(db=db, policy=ROOT / "policies.yaml", rules=ROOT / "rules")
    # sqlite-bulk: the bulk path (Engine.batch, BATCH calls per transaction); sqlite: one per call
    batch = eng.batch(BATCH) if backend == "sqlite-bulk" else contextlib.nullcontext()
    batch.__enter__()
    calls = refused = system = 0
    rss_start = _rss_mb()
    clock = time.perf_counter
    busy = 0.0
    quarters: list[float] = []  # engine microseconds per event, per quarter of the year
    q_busy, q_events = 0.0, 0
    q_ends = [dt.datetime(2026, m, 1, tzinfo=dt.UTC) for m in (4, 7, 10)]
    q_ends.append(dt.datetime.max.replace(tzinfo=dt.UTC))
    at = None
    wall0 = clock()
    stream = year_of_events(accounts)
    first = next(stream, None)  # builds the per-account generators: their memory is the workload's
    workload_rss = _rss_mb()
    for call in _chain(first, stream):
        at = call.at
        if at >= q_ends[0]:
            quarters.append(round(q_busy / q_events * 1e6, 2) if q_events else 0.0)
            q_busy, q_events = 0.0, 0
            q_ends.pop(0)
        calls += 1
        t0 = clock()
        try:
            decision = eng.call(call.event, call.args, at=at, key=call.key)
        except engine.InvalidCall:
            refused += 1  # e.g. a response to an InMail that was denied: no message exists
            dt_ = clock() - t0
            busy += dt_
            q_busy += dt_
            continue
        dt_ = clock() - t0
        busy += dt_
        q_busy += dt_
        n = 1 + len(decision.system_events)
        system += n - 1
        q_events += n
    # Drain what falls due after the last call (expiries, the last renewals).
    t0 = clock()
    if at is not None:
        system += len(eng.advance(at))
    batch.__exit__(None, None, None)  # the last commit of a batch
    busy += clock() - t0
    wall = clock() - wall0
    if q_events:
        quarters.append(round(q_busy / q_events * 1e6, 2))
    db_mb = round(os.path.getsize(db) / 2**20, 1) if db else None
    eng.close()
    shutil.rmtree(tmp, ignore_errors=True)
    row = _row(accounts, backend, calls, refused, system, busy, wall, quarters, rss_start, workload_rss)
    return {**row, "db_mb": db_mb, "compiled": compiled()}


def _row(
    accounts: int,
    backend: str,
    calls: int,
    refused: int,
    system: int,
    busy: float,
    wall: float,
    quarters: list[float],
    rss_start: float,
    workload_rss: float,
) -> dict[str, Any]:
    """One replay's JSON row, the engine's and the floor's alike (so their figures compare)."""
    events = calls - refused + system
    return {
        "accounts": accounts,
        "backend": backend,
        "calls": calls,
        "refused_calls": refused,
        "system_events": system,
        "events": events,
        "seconds": round(busy, 3),
        "wall_s": round(wall, 3),
        "events_per_s": round(events / busy, 1),
        "us_per_event": round(busy / events * 1e6, 2),
        "us_per_event_by_quarter": quarters,
        "peak_rss_mb": _rss_mb(),
        "start_rss_mb": rss_start,
        "workload_rss_mb": workload_rss,
    }


def replay_floor(accounts: int, seed: int = 11, policy: Policy | None = None) -> tuple[dict[str, Any], Floor]:
    """The same year through the floor (``bench/floor.py``: the contract by hand), timed as :func:`replay`.

    Only the time inside the floor's calls and its final drain counts. Returns the row (the keys
    of :func:`replay`'s but ``compiled``) and the floor, for its balances, ledger, log and tally.
    """
    from bench.floor import REFUSED, SYSTEM, Floor
    from engine.policy import load_policy

    policy = policy if policy is not None else load_policy(ROOT / "policies.yaml")
    floor = Floor(policy)
    call, tally = floor.call, floor.tally
    calls = 0
    rss_start = _rss_mb()
    clock = time.perf_counter
    busy = q_busy = 0.0
    quarters: list[float] = []
    q_events = 0
    q_ends = [dt.datetime(2026, m, 1, tzinfo=dt.UTC) for m in (4, 7, 10)]
    q_ends.append(dt.datetime.max.replace(tzinfo=dt.UTC))
    at = None
    wall0 = clock()
    stream = year_of_events(accounts, seed=seed, policy=policy)
    first = next(stream, None)
    workload_rss = _rss_mb()
    for c in _chain(first, stream):
        at = c.at
        if at >= q_ends[0]:
            quarters.append(round(q_busy / q_events * 1e6, 2) if q_events else 0.0)
            q_busy, q_events = 0.0, 0
            q_ends.pop(0)
        calls += 1
        before = sum(tally)  # decisions so far (outside the timing, as replay.py counts events)
        t0 = clock()
        outcome = call(c.event, c.args, at)
        dt_ = clock() - t0
        busy += dt_
        q_busy += dt_
        tally[outcome] += 1
        if outcome != REFUSED:
            q_events += sum(tally) - before  # the call and the system events it settled
    t0 = clock()
    if at is not None:
        floor.advance(at)
    busy += clock() - t0
    wall = clock() - wall0
    if q_events:
        quarters.append(round(q_busy / q_events * 1e6, 2))
    refused, system = tally[REFUSED], sum(tally[i] for i in SYSTEM)
    row = _row(accounts, "floor", calls, refused, system, busy, wall, quarters, rss_start, workload_rss)
    return {**row, "db_mb": None}, floor


def compiled() -> bool:
    """Whether the engine this run imported is the mypyc build (its core modules are extensions)."""
    import engine.core.calls

    return not engine.core.calls.__file__.endswith(".py")


if __name__ == "__main__":
    import json

    backend = sys.argv[2] if len(sys.argv) > 2 else "memory"
    if backend == "floor":
        print(json.dumps(replay_floor(int(sys.argv[1]))[0]))
    else:
        print(json.dumps(replay(int(sys.argv[1]), backend)))
