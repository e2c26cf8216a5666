"""Table-driven bad-policy cases from ``tests/cases/policy/*.yaml`` (STYLE.md item 9).

Each case is a whole policy text or a patch to ``base.yaml``; the test loads it the
way the CLI does (from a file) and asserts that :class:`InvalidPolicy` is raised,
never anything else, that the first error has the expected code, line and column,
and that no :class:`Policy` object was ever built from it (nothing half-loaded).
Beside each case file, a ``.error`` file holds the rendered diagnostics of every
case so wording changes are reviewed; regenerate them with ``INMAIL_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import engine.policy.load as policy_module
from engine.errors import InvalidPolicy
from engine.policy import Policy, load_policy, load_policy_text
from engine.source.diagnostics import Diagnostic, render_all
from tests.golden import check_golden

CASES = Path(__file__).resolve().parents[1] / "cases" / "policy"
BASE = (CASES / "base.yaml").read_text(encoding="utf-8")


def case_text(case: dict[str, Any]) -> str:
    """The policy text a case describes."""
    if "policy" in case:
        return str(case["policy"])
    if "policy_size" in case:
        size = int(case["policy_size"])
        pad = size - len(BASE.encode("utf-8"))
        line = "#" * 99 + "\n"
        filler = line * (pad // len(line))
        filler += "#" * (pad - len(filler) - 1) + "\n" if pad % len(line) else ""
        text = BASE + filler
        assert len(text.encode("utf-8")) == size
        return text
    if "policy_repeat" in case:
        rep = case["policy_repeat"]
        return str(rep["text"]) * int(rep["times"])
    text = BASE
    for edit in case["patch"]:
        if "append" in edit:
            text += edit["append"]
            continue
        found = text.count(edit["find"])
        assert found == 1, f"patch `find` must occur once in base.yaml, found {found}: {edit['find']!r}"
        text = text.replace(edit["find"], edit["replace"])
    return text


def load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        if path.name == "base.yaml":
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        notes = [c["note"] for c in doc["cases"]]
        assert len(notes) == len(set(notes)), f"{path.name}: notes must be unique"
        for case in doc["cases"]:
            params.append(pytest.param(path.stem, case, id=f"{path.stem}: {case['note']}"))
    return params


ALL = load_cases()
BAD = [p for p in ALL if not p.values[1].get("valid")]
GOOD = [p for p in ALL if p.values[1].get("valid")]


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[Policy]:
    """Every Policy object constructed by the loader during the test."""
    made: list[Policy] = []
    original = policy_module.Policy

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(policy_module, "Policy", Spy)
    return made


def load_bad(text: str, tmp_path: Path) -> list[Diagnostic]:
    """Load from a file as the CLI does; the exception is the only acceptable outcome."""
    file = tmp_path / "policies.yaml"
    file.write_bytes(text.encode("utf-8"))
    with pytest.raises(InvalidPolicy) as info:
        load_policy(file, display="policies.yaml")
    return list(info.value.diagnostics)


def test_there_are_enough_cases() -> None:
    assert len(BAD) >= 25


def test_base_is_valid() -> None:
    policy = load_policy_text(BASE, "base.yaml")
    assert set(policy.plans) == {"basic", "career", "business", "sales_navigator", "recruiter_lite"}


@pytest.mark.parametrize(("topic", "case"), BAD)
def test_bad_policy(topic: str, case: dict[str, Any], tmp_path: Path, built: list[Policy]) -> None:
    text = case_text(case)
    diags = load_bad(text, tmp_path)
    errors = [d for d in diags if d.severity == "error"]
    assert errors, "InvalidPolicy must carry at least one error"
    want = case["want"]
    first = errors[0]
    got = {"code": first.code, "line": first.loc.line if first.loc else 0}
    expected = {"code": want["code"], "line": want["line"]}
    if "column" in want:
        got["column"] = first.loc.column if first.loc else 0
        expected["column"] = want["column"]
    assert got == expected, render_all(diags)
    if "help" in want:
        assert first.help is not None and want["help"] in first.help, render_all(diags)
    if "count" in want:
        assert len(errors) == want["count"], render_all(diags)
    for d in diags:
        assert d.loc is not None and d.loc.file == "policies.yaml"
    assert built == [], "a Policy object was built from invalid input"
    # The text loader agrees with the file loader (apart from the size check done on the file).
    if "policy_size" not in case:
        with pytest.raises(InvalidPolicy) as again:
            load_policy_text(text, "policies.yaml")
        assert again.value.diagnostics == diags


@pytest.mark.parametrize(("topic", "case"), GOOD)
def test_good_edge_case(topic: str, case: dict[str, Any]) -> None:
    assert isinstance(load_policy_text(case_text(case)), Policy)


def _golden(topic: str) -> str:
    out = []
    for param in BAD:
        t, case = param.values
        if t != topic:
            continue
        try:
            load_policy_text(case_text(case), "policies.yaml")
        except InvalidPolicy as exc:
            out.append(f"## {case['note']}\n{render_all(exc.diagnostics)}\n")
    return "\n".join(out)


@pytest.mark.parametrize("topic", sorted({p.values[0] for p in BAD}))
def test_rendered_diagnostics_match_golden_file(topic: str) -> None:
    check_golden(CASES / f"{topic}.error", _golden(topic))
