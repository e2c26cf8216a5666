"""Table-driven malformed scenarios from ``tests/cases/scenario/*.yaml`` (STYLE.md item 9).

Each case is a whole scenario text and the diagnostic it must produce first
(code, line, column, optionally the help line). Every case is checked twice:
through :func:`engine.scenario.load.load_scenario` (structured diagnostics) and
through ``inmail simulate`` (exit code 2, ``file:line:col: code:`` on stderr,
no traceback, nothing on stdout since nothing ran). Beside each case file a
``.error`` file holds the rendered diagnostics; regenerate with
``INMAIL_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import InvalidScenario
from engine.scenario.load import load_scenario
from engine.source.diagnostics import render_all
from tests.golden import check_golden

from .conftest import Simulate

CASES = Path(__file__).resolve().parents[1] / "cases" / "scenario"
NAME = "scenario.yaml"


def load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        notes = [c["note"] for c in doc["cases"]]
        assert len(notes) == len(set(notes)), f"{path.name}: notes must be unique"
        for case in doc["cases"]:
            params.append(pytest.param(path.stem, case, id=f"{path.stem}: {case['note']}"))
    return params


ALL = load_cases()


def test_there_are_enough_cases() -> None:
    assert len(ALL) >= 15


def _diagnostics(tmp_path: Path, text: str) -> InvalidScenario:
    (tmp_path / NAME).write_text(text, encoding="utf-8")
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(InvalidScenario) as info:
            load_scenario(NAME)
    finally:
        os.chdir(old)
    return info.value


@pytest.mark.parametrize(("group", "case"), ALL)
def test_bad_scenario_is_diagnosed(group: str, case: dict[str, Any], tmp_path: Path) -> None:
    want = case["want"]
    exc = _diagnostics(tmp_path, case["scenario"])
    first = next(d for d in exc.diagnostics if d.severity == "error")
    assert first.code == want["code"], render_all(exc.diagnostics)
    assert first.loc is not None and first.loc.file == NAME
    if "line" in want:
        assert (first.loc.line, first.loc.column) == (want["line"], want["column"]), first.render()
    if "help" in want:
        assert first.help is not None and want["help"] in first.help, first.render()


@pytest.mark.parametrize(("group", "case"), ALL)
def test_cli_exits_2_without_traceback(group: str, case: dict[str, Any], simulate: Simulate) -> None:
    simulate.write(NAME, case["scenario"])
    result = simulate(NAME)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    want = case["want"]
    where = f"{NAME}:{want['line']}:{want['column']}: " if "line" in want else f"{NAME}:"
    assert f"{where}" in result.stderr and f"{want['code']}:" in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("path", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_diagnostics(path: Path, tmp_path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    chunks = []
    for case in doc["cases"]:
        exc = _diagnostics(tmp_path, case["scenario"])
        chunks.append(f"## {case['note']}\n{render_all(exc.diagnostics)}\n")
    check_golden(path.with_suffix(".error"), "\n".join(chunks))
