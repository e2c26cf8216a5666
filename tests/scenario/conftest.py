"""Shared helpers for ``inmail simulate`` tests: run the CLI in a clean folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "scenarios"


class Simulate:
    """Runs ``inmail simulate`` in an empty folder (so the packaged policy and rules are used)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runner = CliRunner()

    def write(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def __call__(self, *args: str) -> Result:
        import os

        old = Path.cwd()
        os.chdir(self.folder)
        try:
            return self.runner.invoke(main, ["simulate", *args], catch_exceptions=True)
        finally:
            os.chdir(old)


@pytest.fixture
def simulate(tmp_path: Path) -> Iterator[Simulate]:
    yield Simulate(tmp_path)
