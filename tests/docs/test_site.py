"""``inmail docs``: every requirement page, every link, every rule, and the results of a run."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.docs import build_site, check_site, gather
from engine.docs.sources import read_features, read_requirements

REPO = Path(__file__).resolve().parents[2]


def _gather(results: Path | None = None, coverage: Path | None = None):  # type: ignore[no-untyped-def]
    return gather(REPO, REPO / "policies.yaml", REPO / "rules", results, coverage)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(out, _gather())
    return out


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))))


def test_every_page_is_there_and_every_link_lands(site: Path) -> None:
    assert check_site(site, _gather()) == []
    declared = read_requirements(REPO / "features" / "REQUIREMENTS.md")
    assert len(declared) == 20 and {f"{r}.html" for r in declared} <= {p.name for p in site.glob("*.html")}


def test_a_requirement_page_lists_its_scenarios_and_rules(site: Path) -> None:
    tagged = [s for s in read_features(REPO / "features") if "R14" in s.requirements]
    text = _text(site / "R14.html")
    assert f"Scenarios ({len(tagged)})" in text
    assert all(s.name in text for s in tagged)
    assert "late-response" in text and "not run" in text and "not measured" in text


def test_a_rule_trace_shows_the_facts_that_made_it_decide(site: Path) -> None:
    page = (site / "rules-send.html").read_text(encoding="utf-8")
    block = page[page.index('id="no-credits-can-buy"') :]
    block = block[: block.index("</ul>")]
    assert "<code>sender.balance</code></td><td>0</td>" in block
    assert "<code>plan.purchasable</code></td><td>true</td>" in block
    assert "denied / no_credits" in block


def test_results_and_rule_counts_from_a_run(tmp_path: Path) -> None:
    scenario = next(s for s in read_features(REPO / "features") if "R09" in s.requirements)
    steps = [{"result": {"status": "passed"}}, {"result": {"status": "failed"}}]
    report = [{"uri": f"features/{scenario.feature}", "elements": [{"line": scenario.line, "steps": steps}]}]
    (tmp_path / "cucumber.json").write_text(json.dumps(report), encoding="utf-8")
    (tmp_path / "coverage.json").write_text(json.dumps({"fires": {"send/send-inmail": 42}}), encoding="utf-8")
    src = _gather(tmp_path / "cucumber.json", tmp_path / "coverage.json")
    out = tmp_path / "site"
    build_site(out, src)
    assert check_site(out, src) == []
    assert "0 passed, 1 failed" in _text(out / "index.html")
    assert "decided 42 times in the feature run" in _text(out / "rules-send.html")


def test_a_broken_link_or_a_missing_page_is_found(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    out.mkdir()
    for page in site.glob("*.html"):
        (out / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    (out / "R07.html").unlink()
    index = out / "index.html"
    text = index.read_text(encoding="utf-8")
    index.write_text(text.replace('href="plans.html"', 'href="plans.html#nope"', 1), encoding="utf-8")
    problems = check_site(out, _gather())
    assert "no page for R07" in problems
    assert any("missing anchor plans.html#nope" in p for p in problems)


def test_a_tag_or_a_citation_of_a_requirement_the_file_does_not_declare_is_found(site: Path) -> None:
    import dataclasses

    src = _gather()
    fewer = dataclasses.replace(src, requirements={k: v for k, v in src.requirements.items() if k != "R18"})
    problems = check_site(site, fewer)
    assert any("tagged @R18, which features/REQUIREMENTS.md does not declare" in p for p in problems)
    assert any(p.endswith("cites R18, which features/REQUIREMENTS.md does not declare") for p in problems)


def test_the_command_builds_the_site_and_refuses_bad_input(tmp_path: Path) -> None:
    run = CliRunner()
    done = run.invoke(main, ["docs", "--out", str(tmp_path / "site"), "--root", str(REPO)])
    assert done.exit_code == 0, done.output
    assert "wrote 33 pages" in done.stdout or "pages to" in done.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    refused = run.invoke(
        main, ["docs", "--out", str(tmp_path / "s2"), "--root", str(REPO), "--results", str(bad)]
    )
    assert refused.exit_code == 2 and "invalid_results" in refused.stderr
    assert not (tmp_path / "s2").exists()
    nowhere = run.invoke(main, ["docs", "--out", str(tmp_path / "s3"), "--root", str(tmp_path)])
    assert nowhere.exit_code == 2 and "file_not_found" in nowhere.stderr
