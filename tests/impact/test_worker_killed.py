"""A worker process killed under a partition, on a real LocalCluster through the CLI.

Dask tries a partition whose worker died once more, on a live worker, and the report is the one
process's; a partition whose worker dies twice fails the run: exit 2, ``worker_failed`` with the
partition's number, and no report. The partition task is swapped for one that kills its own
worker process (SIGKILL, so nothing of it is cleaned up) the first times it runs partition 0,
counted in a file both workers see: the engine has no hook for this.
"""

from __future__ import annotations

import functools
import json
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine.impact
from engine.cli import main

from .test_impact import POLICY, edited

pytest.importorskip("distributed")

_share = engine.impact._share  # the real task, as the worker imports it


def dying_share(marker: str, deaths: int, task: engine.impact._Share) -> engine.impact.ImpactReport:
    """Partition 0 kills its worker the first ``deaths`` times it runs; then it plays as ever."""
    if task.index == 0:
        path = Path(marker)
        died = int(path.read_text() or 0) if path.exists() else 0
        if died < deaths:
            path.write_text(str(died + 1))
            os.kill(os.getpid(), signal.SIGKILL)
    return _share(task)


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deaths: int) -> tuple[object, object, int]:
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    args = ["impact", "--base", str(POLICY), "--policy", str(new), "--synthetic", "40", "--format", "json"]
    one = CliRunner().invoke(main, args)
    marker = tmp_path / "deaths"
    monkeypatch.setattr(engine.impact, "_share", functools.partial(dying_share, str(marker), deaths))
    two = CliRunner().invoke(main, [*args, "--cluster", "local:2"])
    return one, two, int(marker.read_text())


def test_a_worker_killed_once_is_tried_again_and_the_report_is_the_one_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two, died = run(tmp_path, monkeypatch, deaths=1)
    assert died == 1
    assert one.exit_code == two.exit_code == 0, two.output
    assert one.stdout == two.stdout and json.loads(one.stdout)["changed"] > 0


def test_a_partition_whose_worker_dies_twice_fails_the_run_with_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, two, died = run(tmp_path, monkeypatch, deaths=2)
    assert died == 2
    assert two.exit_code == 2, two.output
    assert two.stdout == ""  # no report, not even part of one
    said = "error: worker_failed: partition 0 of 8 failed (each worker that ran it died"
    assert two.stderr.startswith(said), two.stderr
    assert "Traceback" not in two.stderr and "distributed." not in two.stderr  # said once, typed


def crashing_share(task: engine.impact._Share) -> engine.impact.ImpactReport:
    """Partition 0 meets a bug of the engine at its first send (every time it runs)."""
    import engine.impact.compare as compare

    answer = compare._answer

    def broken(eng: object, kind: object, call: engine.impact.Call) -> object:
        if task.index == 0 and call.event == "send":
            raise RuntimeError("a bug")
        return answer(eng, kind, call)  # type: ignore[arg-type]

    compare._answer = broken  # type: ignore[assignment]
    try:
        return _share(task)
    finally:
        compare._answer = answer


def test_a_partition_that_raises_fails_the_run_naming_the_partition_and_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    args = ["impact", "--base", str(POLICY), "--policy", str(new), "--synthetic", "40", "--format", "json"]
    monkeypatch.setattr(engine.impact, "_share", crashing_share)
    done = CliRunner().invoke(main, [*args, "--cluster", "local:2"])
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert done.stderr.startswith("error: worker_failed: partition 0 of 8 failed at send("), done.stderr
    assert "RuntimeError: a bug" in done.stderr and "Traceback" not in done.stderr
