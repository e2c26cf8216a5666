"""Smoke run of the soak benchmark (bench/soak.py) at a tiny size: its parts run; timings are not asserted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest.importorskip("psutil")
pytest.importorskip("fastapi")


def test_the_soak_runs_its_mix_its_reloads_and_counts_handles() -> None:
    from bench.soak import MIX, render, run

    out = run(requests=300, reload_count=10, clients=2, block=100, handle_times=2)
    mixed = out["mixed"]
    assert [b["requests"] for b in mixed["blocks"]] == [100, 200, 300] and mixed["not_200"] == {}
    assert set(mixed["mix"]) == set(MIX) and sum(mixed["mix"].values()) == 300
    assert all(b["per_s"] > 0 and b["rss_mb"] > 0 for b in mixed["blocks"])
    reloads = out["reloads"]
    assert reloads["refused_or_unchanged"] == 0 and reloads["revisions"] == 2 and reloads["per_s"] > 0
    handles = out["handles"]
    assert all(row["compiled"] == 0 for what, row in handles.items() if "unchanged" in what)
    changed = [row for what, row in handles.items() if what.endswith("send.yaml changed")]
    assert len(changed) == 3 and all(row["compiled"] == 1 for row in changed)
    assert "last block / first block" in render(out)
