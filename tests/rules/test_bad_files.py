"""Table-driven bad rules files (``tests/cases/rules/bad/*.yaml``): a precise diagnostic, never a traceback.

Each case replaces (or deletes, or adds) one file in a copy of the shipped rules
and expects :class:`InvalidRules` carrying an error with the case's code at its
line (warnings: the rules load and the warning is there). The same folder is
then given to ``inmail decide`` to check the user sees the diagnostic and exit
code 2 (0 for warnings), not a traceback.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from engine.cli import main
from engine.errors import InvalidRules
from engine.policy import Policy
from engine.rules import catalog
from engine.rules.book import RuleBook
from engine.source.diagnostics import Diagnostic, render_all
from tests.golden import check_golden

CASES = Path(__file__).resolve().parents[1] / "cases" / "rules" / "bad"


def _cases() -> list[Any]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            out.append(pytest.param(case, id=f"{path.stem}: {case['note']}"))
    return out


ALL_CASES = _cases()


def _folder(case: dict[str, Any], rules_dir: Path, tmp_path: Path) -> Path:
    work = tmp_path / "rules"
    shutil.copytree(rules_dir, work)
    target = work / case["file"]
    if case.get("delete"):
        target.unlink()
    else:
        target.write_text(case["text"], encoding="utf-8")
    return work


def _matching(diags: list[Diagnostic], case: dict[str, Any]) -> list[Diagnostic]:
    return [d for d in diags if d.code == case["code"] and (d.loc.line if d.loc else 0) == case["line"]]


def test_enough_cases() -> None:
    errors = {p.values[0]["code"] for p in ALL_CASES if not p.values[0].get("warning")}
    assert len(ALL_CASES) >= 15 and len(errors) >= 15


@pytest.mark.parametrize("case", ALL_CASES)
def test_bad_rules_file(case: dict[str, Any], policy: Policy, rules_dir: Path, tmp_path: Path) -> None:
    work = _folder(case, rules_dir, tmp_path)
    if case.get("warning"):
        with RuleBook.load(work, policy) as book:
            diags = book.warnings
    else:
        with pytest.raises(InvalidRules) as info:
            RuleBook.load(work, policy)
        diags = info.value.diagnostics
    found = _matching(diags, case)
    assert found, "\n".join(d.render() for d in diags)
    if "help" in case:
        assert any(case["help"] in (d.help or "") for d in found), [d.help for d in found]
    expected_file = str(work / case["file"])
    assert all(d.loc is not None and d.loc.file == expected_file for d in found)
    if not case.get("warning"):
        assert found[0].severity == "error"

    result = CliRunner().invoke(main, ["decide", "send", "--rules", str(work)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if case.get("warning"):
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2, result.output
        assert f": {case['code']}: " in result.output


@pytest.mark.parametrize("path", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_diagnostics(
    path: Path, policy: Policy, rules_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every case's rendered diagnostics (errors and warnings), as a person sees them."""
    chunks = []
    for i, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
        work = _folder(case, rules_dir, tmp_path / str(i))
        monkeypatch.chdir(work.parent)  # diagnostics then name `rules/send.yaml` on every machine
        try:
            with RuleBook.load(Path("rules"), policy) as book:
                diags = book.warnings
        except InvalidRules as exc:
            diags = exc.diagnostics
        chunks.append(f"## {case['note']}\n{render_all(diags)}\n")
    check_golden(path.with_suffix(".error"), "\n".join(chunks))


def test_plan_reference_on_an_event_without_a_plan(
    policy: Policy, rules_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No shipped event lacks an acting plan, so a made-up event kind shows the check."""
    spec = catalog.FactSpec("ping.count", "int", "how many pings")
    monkeypatch.setitem(catalog.CATALOG, "ping", {"ping.count": spec})
    monkeypatch.setitem(catalog.OUTCOMES, "ping", ("ponged",))
    monkeypatch.setitem(catalog.REASONS, "ping", ())
    monkeypatch.setitem(catalog.EFFECTS, "ping", {})
    monkeypatch.setattr(catalog, "EVENT_KINDS", (*catalog.EVENT_KINDS, "ping"))
    work = tmp_path / "rules"
    shutil.copytree(rules_dir, work)
    (work / "ping.yaml").write_text(
        "event: ping\nrules:\n  - id: many\n    requirement: R01\n    description: Many.\n"
        "    when: {ping.count: {above: plan.cap}}\n    then: {outcome: ponged}\n"
        "  - id: other\n    requirement: R01\n    description: Other.\n    then: {outcome: ponged}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidRules) as info:
        RuleBook.load(work, policy)
    assert [(d.code, d.loc.line if d.loc else 0) for d in info.value.diagnostics] == [
        ("plan_reference_unavailable", 6)
    ]


def test_all_problems_are_reported_at_once(policy: Policy, rules_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "rules"
    shutil.copytree(rules_dir, work)
    text = (rules_dir / "send.yaml").read_text(encoding="utf-8")
    text = text.replace("sender.premium: false", "sender.premum: false").replace(
        "outcome: sent_free", "outcome: free"
    )
    (work / "send.yaml").write_text(text, encoding="utf-8")
    (work / "purchase.yaml").write_text(
        (rules_dir / "purchase.yaml").read_text(encoding="utf-8").replace("R18", "R81"), encoding="utf-8"
    )
    with pytest.raises(InvalidRules) as info:
        RuleBook.load(work, policy)
    codes = sorted(d.code for d in info.value.diagnostics)
    assert codes == ["invalid_requirement", "unknown_fact", "unknown_outcome"]


def test_requirement_ids_are_those_the_requirements_file_beside_the_rules_declares(
    policy: Policy, rules_dir: Path, tmp_path: Path
) -> None:
    """Another project's requirements file, other ids: its rules cite those, and the shipped ids
    (which it does not declare) are refused with what it does declare."""
    work = tmp_path / "rules"
    shutil.copytree(rules_dir, work)
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "REQUIREMENTS.md").write_text(
        "# Requirements\n\n## Sending\n\n### SEND1: A message costs a credit\n\nText.\n\n"
        "### SEND2: Members may buy more\n\nText.\n",
        encoding="utf-8",
    )
    texts = {p.name: p.read_text(encoding="utf-8") for p in work.glob("*.yaml")}
    for name, text in texts.items():
        (work / name).write_text(re.sub(r"\bR\d\d\b", "SEND1", text), encoding="utf-8")
    with RuleBook.load(work, policy) as book:
        assert {r for ev in catalog.EVENT_KINDS for rule in book.rules(ev) for r in rule.requirements} == {
            "SEND1"
        }
    (work / "send.yaml").write_text(texts["send.yaml"], encoding="utf-8")  # cites R01, R05, ...
    with pytest.raises(InvalidRules) as info:
        RuleBook.load(work, policy)
    bad = info.value.diagnostics
    assert bad and {d.code for d in bad} == {"invalid_requirement"}
    assert bad[0].help == "features/REQUIREMENTS.md declares SEND1, SEND2"
