"""What the garbage collector walks in an in-memory replay, and what each call adds to it.

    python bench/experiments/gc_census.py [ACCOUNTS] [CALLS] [EVERY]

Plays the first CALLS calls of the benchmark's simulated year through an
in-memory engine (as ``bench/replay.py ACCOUNTS memory`` does) and prints
one JSON object:

- ``tracked``: after a full collection at the end, the objects the
  collector tracks, in all and per account, by type (the top 15). A full
  collection visits each of them, so their count per account is what makes
  full collections dearer as the store grows (bench/RESULTS.md, "The
  collector's part, by size"). The workload's own state (a generator per
  account, its pending events) counts too, and is named by its types.
- ``left_per_call``: for one call in EVERY (after the first 50,000), the
  young generation is emptied (``gc.collect(0)``) right before the call, and
  what is young right after it is counted by type: the tracked objects a
  call leaves alive. Collections of the young generation run after so many
  of those, so this sets how often the collector runs.

A tuple is named by the types of its first three fields, which tells the
store's rows apart. Counting makes the sampled calls slower; no time is
reported.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))  # the installed engine first, the source tree as the fallback

import engine  # noqa: E402
from bench.workload import year_of_events  # noqa: E402


def _kind(obj: object) -> str:
    if type(obj) is tuple:
        return "tuple(" + ", ".join(type(x).__name__ for x in obj[:3]) + ")"
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def census(accounts: int = 10_000, calls: int = 500_000, every: int = 2_000) -> dict[str, Any]:
    eng = engine.Engine.open(policy=ROOT / "policies.yaml", rules=ROOT / "rules")
    left: Counter[str] = Counter()
    sampled = made = 0
    for call in year_of_events(accounts):
        if made == calls:
            break
        made += 1
        sample = made > 50_000 and made % every == 0
        if sample:
            gc.collect(0)
        with contextlib.suppress(engine.InvalidCall):  # a refused call counts too
            eng.call(call.event, call.args, at=call.at, key=call.key)
        if sample:
            sampled += 1
            young = gc.get_objects(0)  # first: a generator expression here would be young too
            left.update(_kind(o) for o in young)
    gc.collect()
    tracked = Counter(_kind(o) for o in gc.get_objects())
    total = sum(tracked.values())
    return {
        "accounts": accounts,
        "calls": made,
        "compiled": engine.COMPILED,
        "tracked": total,
        "tracked_per_account": round(total / accounts, 2),
        "tracked_by_type_per_account": {k: round(v / accounts, 2) for k, v in tracked.most_common(15)},
        "sampled_calls": sampled,
        "left_per_call": round(sum(left.values()) / max(sampled, 1), 2),
        "left_by_type_per_call": {k: round(v / max(sampled, 1), 2) for k, v in left.most_common(8)},
    }


if __name__ == "__main__":
    print(json.dumps(census(*(int(a) for a in sys.argv[1:4])), indent=1))
