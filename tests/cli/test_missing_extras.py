"""A command whose optional packages are not installed says so with a code, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: Runs ``inmail ARGS`` in a process where the named packages cannot be imported.
HIDE = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
sys.argv = ["inmail", *sys.argv[2:]]
from engine.cli import main
main()
"""


@pytest.mark.parametrize(
    ("hidden", "args"),
    [
        pytest.param("uvicorn", ["serve", "--db", "memory"], id="serve without uvicorn"),
        pytest.param("fastapi", ["serve", "--db", "memory"], id="serve without fastapi"),
        pytest.param("uvicorn", ["workbench", "."], id="workbench without uvicorn"),
    ],
)
def test_a_missing_extra_is_a_diagnostic(tmp_path: Path, hidden: str, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", HIDE, hidden, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "missing_dependency" in done.stderr and hidden in done.stderr
    assert "Traceback" not in done.stderr
    assert "pip install 'inmail-engine[serve]'" in done.stderr
