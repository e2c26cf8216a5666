"""A command whose optional packages are not installed says so with a code, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "examples" / "scenarios" / "career-first-quarter.yaml")
POLICY = str(ROOT / "policies.yaml")

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
        pytest.param("matplotlib", ["simulate", SCENARIO, "--plot", "c.png"], id="simulate --plot"),
        pytest.param(
            "matplotlib", ["impact", "--base", POLICY, SCENARIO, "--plot", "c.png"], id="impact --plot"
        ),
        pytest.param(
            "psycopg", ["log", "--db", "postgresql://inmail@127.0.0.1:1/x"], id="a PostgreSQL store"
        ),
    ],
)
def test_a_missing_extra_is_a_diagnostic(tmp_path: Path, hidden: str, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", HIDE, hidden, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "missing_dependency" in done.stderr and hidden in done.stderr
    assert "Traceback" not in done.stderr
    extra = {"uvicorn": "serve", "fastapi": "serve", "matplotlib": "plot", "psycopg": "pg"}[hidden]
    assert f"pip install 'inmail-engine[{extra}]'" in done.stderr
    assert not (tmp_path / "c.png").exists()
