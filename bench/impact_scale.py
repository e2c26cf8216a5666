"""Impact of a policy edit over a synthetic year: one process against Dask partitions, side by side.

    python bench/impact_scale.py ACCOUNTS [CLUSTER ...]     # e.g. 10000 local:2

For each way of running (``one`` process, then each CLUSTER given), each in a
fresh process of its own (so the driver's peak RSS is not the previous way's),
it times ``engine.compare_policies`` over the same seeded year (the shipped
policy against one with another Career allotment), checks the reports are the
same bytes (their JSON, as ``--format json`` prints it), and samples the peak
RSS of the driver and of every process it started (the Dask workers), every
50 ms. One JSON line per way on standard output; the figures go to
bench/RESULTS.md, not into code.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))

from engine import compare_policies  # noqa: E402


class PeakRss:
    """The largest RSS seen, in MB, for this process and for each of its descendants."""

    def __init__(self) -> None:
        self.driver = 0.0
        self.children: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.05):
            try:
                self.driver = max(self.driver, me.memory_info().rss / 2**20)
                for child in me.children(recursive=True):
                    try:
                        rss = child.memory_info().rss / 2**20
                    except psutil.Error:
                        continue
                    self.children[child.pid] = max(self.children.get(child.pid, 0.0), rss)
            except psutil.Error:
                continue


def one_way(accounts: int, way: str, policy: Path, report_to: Path) -> dict[str, Any]:
    """One way of running, in this process (a fresh one, so the driver's RSS is its own): the
    figures, and the report's JSON text written to ``report_to``."""
    figures = measured_impact(way, policy, report_to, synthetic=accounts)
    return {"accounts": accounts, **figures}


def measured_impact(way: str, policy: Path, report_to: Path, **source: Any) -> dict[str, Any]:
    """``compare_policies`` of the shipped policy against ``policy`` over ``source``, one process
    (``way`` "one") or on that cluster, timed, with the peak RSS of this process and of every
    process it started; the report's JSON (what ``--format json`` prints) written to ``report_to``."""
    with PeakRss() as rss:
        started = time.perf_counter()
        report = compare_policies(
            base_policy=ROOT / "policies.yaml",
            new_policy=policy,
            base_rules=ROOT / "rules",
            new_rules=ROOT / "rules",
            cluster=None if way == "one" else way,
            **source,
        )
        seconds = time.perf_counter() - started
    report_to.write_text(json.dumps(report.to_dict(), indent=2))
    return {
        "way": way,
        "seconds": round(seconds, 2),
        "decisions": report.decisions,
        "decisions_per_s": round(report.decisions / seconds),
        "driver_peak_rss_mb": round(rss.driver, 1),
        "largest_child_peak_rss_mb": round(max(rss.children.values(), default=0.0), 1),
        "children": len(rss.children),
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one-way"]:  # the parent's child: one way, one line
        accounts, way, policy, report_to = int(argv[1]), argv[2], Path(argv[3]), Path(argv[4])
        print(json.dumps(one_way(accounts, way, policy, report_to)), flush=True)
        return 0
    if not argv or not argv[0].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    accounts, clusters = int(argv[0]), argv[1:]
    each_way(
        ["one", *clusters],
        lambda way, policy, report_to, _: [str(accounts), way, str(policy), str(report_to)],
        __file__,
    )
    return 0


def each_way(ways: list[str], args: Callable[[str, Path, Path, Path], list[str]], script: str) -> None:
    """Run ``script --one-way ARGS`` for each way, each in a fresh process (so the driver's peak RSS
    is its own), over the shipped policy against one with another Career allotment; print each
    way's JSON line with whether its report is the same bytes as the first way's (as ``--format
    json`` prints it). ``args(way, new policy, report file, scratch folder)`` are that way's."""
    with tempfile.TemporaryDirectory() as tmp:
        text = (ROOT / "policies.yaml").read_text()
        edited = text.replace("monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
        if edited == text:
            raise SystemExit("the Career allotment line was not found in policies.yaml")
        new = Path(tmp) / "policies.yaml"
        new.write_text(edited)
        first: bytes | None = None
        for n, way in enumerate(ways):
            report_to, scratch = Path(tmp) / f"report-{n}.json", Path(tmp) / f"scratch-{n}"
            scratch.mkdir()
            argv = [sys.executable, script, "--one-way", *args(way, new, report_to, scratch)]
            out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True).stdout
            line = json.loads(out.strip().splitlines()[-1])
            data = report_to.read_bytes()
            first = data if first is None else first
            line["same_report"] = data == first  # byte for byte
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
