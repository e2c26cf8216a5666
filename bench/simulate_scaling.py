"""How ``inmail simulate`` grows with a scenario's size: one send per account, 250 vs 1,000 accounts.

A scenario's run should be linear in its size (each step reports only the
accounts it touched), so 4x the accounts should cost about 4x the time; the
target is at most 5x. Timed in-process (load, run, JSON report) so the
command's fixed start-up does not flatter the ratio.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

#: numbers each timed scenario text, so that no two are the same text (see simulate_seconds)
_RUNS = itertools.count()


def one_send_per_account(n: int) -> str:
    """A scenario of ``n`` Career accounts, each sending one InMail on 2026-01-02, one second apart."""
    lines = ["title: one send per account", "accounts:"]
    lines += [f"  a{i}: {{plan: career, since: 2026-01-01}}" for i in range(n)]
    lines.append("timeline:")
    for i in range(n):
        h, rest = divmod(i, 3600)
        m, s = divmod(rest, 60)
        lines += [f"  - at: 2026-01-02T{h:02d}:{m:02d}:{s:02d}", f"    send: {{from: a{i}, to: r{i}}}"]
    return "\n".join(lines) + "\n"


def simulate_seconds(n: int, repeat: int = 2) -> float:
    """Best-of-``repeat`` seconds to load, run and report the scenario of ``n`` accounts."""
    from engine.scenario.load import load_scenario
    from engine.scenario.report import to_json
    from engine.scenario.run import run_scenario

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"scaling-{n}.yaml"
        best = float("inf")
        for _ in range(repeat):
            # a text of its own each time: the engine keeps recent small texts parsed (64 KiB or less,
            # engine/source/marked.py), so a repeat of the same text would time the 250-account scenario
            # without its parse and the 1,000-account one (too big to keep) with it
            path.write_text(f"# run {next(_RUNS)}\n" + one_send_per_account(n), encoding="utf-8")
            t0 = time.perf_counter()
            to_json([run_scenario(load_scenario(path))])
            best = min(best, time.perf_counter() - t0)
    return best


def bench_simulate_scaling(small: int = 250, large: int = 1_000) -> dict[str, Any]:
    """Seconds for both sizes and their ratio (linear is large/small, the target 1.25x that)."""
    simulate_seconds(20, repeat=1)  # compile the rules once, outside the timings
    t_small, t_large = simulate_seconds(small), simulate_seconds(large)
    return {
        "accounts": [small, large],
        "seconds": [round(t_small, 3), round(t_large, 3)],
        "ratio": round(t_large / t_small, 2),
        "linear_ratio": large / small,
        "target_ratio": 1.25 * large / small,
    }
