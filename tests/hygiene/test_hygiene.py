"""House rules that keep the engine embeddable, checked on the source itself.

Time is an input (nothing under engine/ reads the wall clock but the two
edges: the CLI's and the HTTP service's default ``at``); durable_rules stays fenced in one module; the stages
import one way (the import-linter contracts); modules stay small;
``import engine`` is cheap and starts nothing.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
SOURCES = sorted(ENGINE.rglob("*.py"))
#: the edges' clocks: `inmail balance` without `--at` answers for now; so does a request without `at`
CLOCKS = {ENGINE / "cli" / "_clock.py", ENGINE / "service" / "state.py"}
WALL_CLOCK = re.compile(
    r"\b(datetime|dt|pendulum)\.(now|utcnow|today)\(|\btime\.(time|time_ns)\(|date\.today\("
)


def test_no_wall_clock_inside_the_engine() -> None:
    """One test over every module (not one per module: a hundred-odd tests of a millisecond each),
    naming every line that reads the clock."""
    hits = [
        f"{path.relative_to(ENGINE)}:{n}: {line.strip()}"
        for path in SOURCES
        if path not in CLOCKS
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert not hits, "the engine must take `at`, not read the clock:\n" + "\n".join(hits)


def test_durable_rules_is_imported_by_one_module_only() -> None:
    importers = [
        p.relative_to(ENGINE).as_posix()
        for p in SOURCES
        if re.search(r"^\s*(import durable|from durable)", p.read_text(), re.MULTILINE)
    ]
    assert importers == ["rules/_durable.py"]


def test_modules_stay_small() -> None:
    big = [
        f"{path.relative_to(ENGINE)}: {lines} lines"
        for path in SOURCES
        if (lines := len(path.read_text().splitlines())) > 500
    ]
    assert not big, "split these modules: modules stay under 500 lines\n" + "\n".join(big)


def test_the_stages_keep_their_import_contracts() -> None:
    """The [tool.importlinter] contracts of pyproject.toml: stages import downwards only, no cycles."""
    tool = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(tool), "--no-cache"], capture_output=True, text=True, cwd=ENGINE.parent)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_import_engine_reads_nothing_heavy_and_starts_no_thread() -> None:
    code = (
        "import sys, threading; before = threading.active_count(); import engine; "
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'durable', 'durable_rules_engine', "
        "'sqlalchemy', 'matplotlib', 'rich', 'fastapi', 'uvicorn'}); "
        "print(threading.active_count() - before, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0 []"
