"""Pages a call writes on SQLite: now ``bench/sqlite_pages.py``, which ``bench/run.py`` runs.

Kept so that the command the earlier sections of bench/RESULTS.md cite still works:

    python bench/experiments/sqlite_pages.py [ACCOUNTS] [CALLS]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[2]))

from bench.sqlite_pages import pages_per_call

if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(pages_per_call(*(args + [1000, 60_000][len(args) :])), indent=2))
