"""Smoke run of the benchmark (bench/run.py): the parts run and agree; timings are not asserted.

The benchmark is a report, not a timed test; CI only checks that the
decision comparison still runs with every path agreeing with the engine on
every input, and that a tiny replay goes through both stores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest.importorskip("zen")


def test_decision_paths_agree_on_every_input() -> None:
    from bench.run import bench_decisions

    out = bench_decisions(400, 1)
    assert set(out["decision_us"]) >= {
        "python",
        "zen",
        "durable_raw",
        "engine",
        "engine_checked",
        "engine_no_memo",
    }
    for stats in out["decision_us"].values():
        assert set(stats) == {"median", "p99"} and 0 < stats["median"] <= stats["p99"]
    assert out["agreement"] == {name: 1.0 for name in out["agreement"]}
    assert set(out["agreement"]) >= {"python", "zen", "durable_raw"}
    assert all(n > 0 for n in out["outcomes"].values()), out["outcomes"]  # every send rule decides some


@pytest.mark.parametrize("backend", ["memory", "sqlite", "sqlite-bulk"])
def test_tiny_replay_reports_its_rate_and_memory(backend: str) -> None:
    from bench.replay import replay

    row = replay(8, backend)
    assert row["accounts"] == 8 and row["calls"] > 100 and row["system_events"] > 0
    assert row["events"] == row["calls"] - row["refused_calls"] + row["system_events"]
    assert row["events_per_s"] > 0 and row["peak_rss_mb"] > 0 and row["us_per_event_by_quarter"]


def test_workload_is_streamed_in_time_order_and_deterministic() -> None:
    from bench.workload import year_of_events

    calls = list(year_of_events(30))
    assert [c.at for c in calls] == sorted(c.at for c in calls)
    assert calls == list(year_of_events(30))
    assert {c.event for c in calls} >= {"subscribe", "send", "respond"}


def test_simulate_scaling_reports_both_sizes() -> None:
    from bench.simulate_scaling import bench_simulate_scaling, one_send_per_account

    assert one_send_per_account(3).count("send:") == 3
    out = bench_simulate_scaling(5, 20)
    assert out["accounts"] == [5, 20] and all(s > 0 for s in out["seconds"])
    assert out["linear_ratio"] == 4 and out["ratio"] > 0
