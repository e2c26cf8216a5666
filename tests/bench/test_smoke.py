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


#: The top-level keys of ``bench/run.py --json`` before the floor (issue 31), which must stay.
JSON_KEYS = {
    "machine",
    "mode",
    "decisions",
    "replay",
    "startup_s",
    "sqlite_commit_floor_us",
    "simulate_scaling",
    "decision_us",
    "agreement",
}


def test_json_keeps_its_keys_and_adds_the_floor_and_its_ratio(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report's shape, with the slow parts stubbed: only the tiny replays (engine and floor) run."""
    import json

    from bench import run

    box = {"cpu": "test", "cores": 1, "ram_gb": 1, "python": "3", "durable_rules": "0"}
    monkeypatch.setattr(run, "machine", lambda: box)
    monkeypatch.setattr(
        run,
        "bench_decisions",
        lambda n, repeat: {"decision_us": {}, "agreement": {}, "inputs": n, "repeat": repeat, "outcomes": {}},
    )
    monkeypatch.setattr(run, "bench_startup", lambda: {"validate": 0.1})
    monkeypatch.setattr(run, "commit_floor", lambda: {})
    monkeypatch.setattr(run, "bench_simulate_scaling", lambda: None)
    floors = iter([100.0, 120.0])  # the commit floor before and after the SQLite replay
    monkeypatch.setattr(run, "floor_at", lambda pages: next(floors))
    assert run.main(["--quick", "--json", "--sizes", "6", "--sqlite-sizes", "6", "--bulk-sizes", ""]) == 0
    result = json.loads(capsys.readouterr().out)

    assert set(result) == JSON_KEYS | {"floor", "floor_ratio", "sqlite_call_floor"}
    assert set(result["replay"]) == {"memory", "sqlite", "sqlite_bulk"}
    (engine_row,) = result["replay"]["memory"]
    (floor_row,) = result["floor"]
    assert "error" not in engine_row and "error" not in floor_row, (engine_row, floor_row)
    assert set(engine_row) - set(floor_row) <= {"compiled"}  # the floor's rows have the engine's shape
    assert floor_row["accounts"] == 6 and floor_row["events"] == engine_row["events"]
    (ratio,) = result["floor_ratio"]
    assert ratio["accounts"] == 6 and ratio["same_events"] and ratio["target"] == 3.0
    assert ratio["ratio"] == round(floor_row["events_per_s"] / engine_row["events_per_s"], 2) > 0
    assert "engine (memory) / floor" in run.render(result)
    (sqlite_row,) = result["replay"]["sqlite"]
    (call,) = result["sqlite_call_floor"]
    assert "error" not in sqlite_row and "error" not in call, (sqlite_row, call)
    assert call["pages_per_call"] > 1 and call["target"] == 2.0
    assert (call["floor_before_us"], call["floor_after_us"], call["floor_us"]) == (100.0, 120.0, 110.0)
    call_us = sqlite_row["seconds"] / sqlite_row["calls"] * 1e6
    assert call["call_us"] == round(call_us, 1) and call["ratio"] == round(call_us / 110.0, 2)
    assert "sqlite (a transaction per call) / the commit floor of its pages" in run.render(result)


def test_the_commit_floor_at_a_fractional_page_count_is_read_between_the_counts_either_side(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bench import sqlite_floor

    asked: list[tuple[int, ...]] = []

    def commit_floor(pages: tuple[int, ...], n: int) -> dict[str, float]:
        asked.append(pages)
        return {str(p): 20.0 * p for p in pages}

    monkeypatch.setattr(sqlite_floor, "commit_floor", commit_floor)
    assert sqlite_floor.floor_at(10.25) == 205.0  # 200 at 10 pages, 220 at 11
    assert sqlite_floor.floor_at(7.0) == 140.0
    assert sqlite_floor.floor_at(0.4) == 20.0  # never below one page
    assert asked == [(10, 11), (7,), (1,)]


def test_the_commit_floor_reports_each_page_count_it_is_asked_for() -> None:
    from bench.sqlite_floor import commit_floor

    out = commit_floor((1, 3), n=20)
    assert set(out) == {"1", "3"} and all(us > 0 for us in out.values())


def test_impact_over_a_store_and_its_partition_files_reports_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    pytest.importorskip("pyarrow")
    from bench.impact_db import main

    assert main(["12", str(tmp_path / "year.db"), "one", "files:one"]) == 0
    made, *ways = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert made["calls"] > 100 and (tmp_path / "year.db").exists()
    assert [(w["source"], w["way"]) for w in ways] == [("db", "one"), ("files", "one")]
    assert all(w["same_report"] and w["decisions"] > 0 and w["driver_peak_rss_mb"] > 0 for w in ways)
    assert ways[1]["wrote_files_s"] is not None
