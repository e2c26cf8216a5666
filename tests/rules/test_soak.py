"""Crash and leak check: many random decisions and book reloads in a subprocess.

durable_rules is a C extension with known crash bugs, so the run happens in a
child process: a segfault shows as a failed exit code. Memory (RSS) must stay
flat over a long run of decisions and over repeated load/close cycles (an
unclosed book keeps megabytes of C memory), and no thread may appear.
Sizes: ``INMAIL_SOAK_N`` decisions (default 20000), ``INMAIL_SOAK_CYCLES`` reloads (default 30).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
N = int(os.environ.get("INMAIL_SOAK_N", "20000"))
CYCLES = int(os.environ.get("INMAIL_SOAK_CYCLES", "30"))
MB = 1024 * 1024


def test_long_run_is_clean_and_flat() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, str(HERE / "soak_worker.py"), str(N), str(CYCLES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["threads_after"] == report["threads_before"] == 1
    assert report["decide_growth"] < 4 * MB, report
    assert report["reload_growth"] < 8 * MB, report
    assert report["drop_growth"] < 8 * MB, report
