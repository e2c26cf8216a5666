"""Impact over a store's history (``--db``) and over its partition files (``--log-dir``), on Dask.

    python bench/impact_db.py ACCOUNTS STORE [WAY ...]     # e.g. 2000 /tmp/year.db local:2 files:local:2

Makes STORE once if it is not there (the seeded year of ACCOUNTS accounts, written in batches of
1,000 calls: the store a service would have after that year), then, for each way, in a fresh
process of its own, times ``engine.compare_policies`` over it (the shipped policy against one
with another Career allotment) and samples the peak RSS of the driver and of every process it
started, every 50 ms. A WAY is ``one`` (one process), a cluster (``local:2``: the workers read
their accounts' calls from the store) or ``files:CLUSTER`` (the log written once as partition
files, ``inmail log --format parquet``, then played from them; the seconds to write them are
reported apart). One JSON line per way; the reports must be the same bytes. The figures go to
bench/RESULTS.md, not into code.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))

from bench.impact_scale import each_way, measured_impact  # noqa: E402


def make_store(accounts: int, db: Path) -> dict[str, Any]:
    """The seeded year of ``accounts`` accounts, played into a new store at ``db``."""
    import engine
    from engine.impact.synthetic import year_of_events

    started = time.perf_counter()
    calls = 0
    with engine.Engine.open(db=str(db), policy=ROOT / "policies.yaml", rules=ROOT / "rules") as eng:
        at = None
        with eng.batch(1000):
            for call in year_of_events(accounts):
                at = call.at
                calls += 1
                with contextlib.suppress(engine.InvalidCall):  # refused calls are not in the log
                    eng.call(call.event, call.args, at=at, key=call.key)
            if at is not None:
                eng.advance(at)
    return {"made_store": str(db), "calls": calls, "seconds": round(time.perf_counter() - started, 1)}


def one_way(db: str, way: str, policy: Path, report_to: Path, scratch: Path) -> dict[str, Any]:
    """One way, in this (fresh) process: its figures, and the report's JSON written to ``report_to``."""
    source: dict[str, Any] = {"db": db}
    wrote = None
    if way.startswith("files:"):  # written by the command, in its own process, as an operator would
        way = way.removeprefix("files:")
        t0 = time.perf_counter()
        export = ["log", "--db", db, "--format", "parquet", "--partitions", "8", "--out", str(scratch / "p")]
        subprocess.run([sys.executable, "-m", "engine.cli", *export], check=True, stdout=subprocess.DEVNULL)
        wrote = round(time.perf_counter() - t0, 2)
        source = {"log_dir": scratch / "p"}
    figures = measured_impact(way, policy, report_to, **source)
    return {"source": "files" if wrote is not None else "db", "wrote_files_s": wrote, **figures}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one-way"]:
        db, way, policy, report_to, scratch = argv[1], argv[2], Path(argv[3]), Path(argv[4]), Path(argv[5])
        print(json.dumps(one_way(db, way, policy, report_to, scratch)), flush=True)
        return 0
    if len(argv) < 2 or not argv[0].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    accounts, db, ways = int(argv[0]), Path(argv[1]), argv[2:] or ["one"]
    if not db.exists():
        print(json.dumps(make_store(accounts, db)), flush=True)
    each_way(
        ways,
        lambda way, policy, report_to, scratch: [str(db), way, str(policy), str(report_to), str(scratch)],
        __file__,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
