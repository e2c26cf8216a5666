"""The example scenarios: each passes, and together they cover every requirement.

Their expectations were computed by hand from docs/semantics.md, so a failure here is
either an engine bug or a documented semantics change (see the scenario's
comments for the arithmetic).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import EXAMPLES, Simulate

FILES = sorted(EXAMPLES.glob("*.yaml"))
REQUIREMENT = re.compile(r"\bR(\d\d)\b")


def header(path: Path) -> str:
    """The leading comment block of a scenario file."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def test_there_are_at_least_six_examples_including_the_main_job() -> None:
    assert len(FILES) >= 6
    assert (EXAMPLES / "career-first-quarter.yaml") in FILES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_passes(path: Path, simulate: Simulate) -> None:
    result = simulate(str(path))
    assert result.exit_code == 0, result.output + result.stderr
    assert "PASS" in result.stdout and "0 failed" in result.stdout


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_says_what_it_shows(path: Path) -> None:
    text = header(path)
    assert "Shows:" in text, f"{path.name} needs a header comment saying what it shows"
    assert REQUIREMENT.search(text), f"{path.name} must name the requirements it covers"


def test_examples_cover_every_requirement() -> None:
    covered = {int(m) for path in FILES for m in REQUIREMENT.findall(header(path))}
    assert covered >= set(range(1, 21)), f"not covered: {sorted(set(range(1, 21)) - covered)}"


def test_all_examples_in_one_run(simulate: Simulate) -> None:
    result = simulate(*(str(p) for p in FILES))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.count("PASS ") == len(FILES)
    assert f"total: {len(FILES)} scenarios" in result.stdout
