"""The workbench in a real headless browser (Debian's chromium, driven by Playwright), as an editor uses it.

The task of the README: make Career 8 credits a month with a cap of 24, see the
typo's diagnostic on the way, see the effect on a scenario and on the impact
page, save, and see the plans change. A real ``inmail workbench`` process
serves the page. Screenshots of every page go to ``$INMAIL_ARTIFACTS`` (else
the test's temporary folder).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, FLAGS, needs_chromium

from .server import workbench

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    work = tmp_path / "policy"
    work.mkdir()
    shutil.copy(ROOT / "policies.yaml", work / "policies.yaml")
    shutil.copytree(ROOT / "rules", work / "rules")
    shutil.copytree(ROOT / "examples" / "scenarios", work / "examples" / "scenarios")
    shutil.copytree(ROOT / "features", work / "features")
    return work


@pytest.fixture
def url(folder: Path) -> Iterator[str]:
    with workbench(folder) as base:
        yield base


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("INMAIL_ARTIFACTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_an_editor_changes_career_checks_it_sees_its_effect_and_saves(
    url: str, folder: Path, shots: Path
) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url + "/")
        page.wait_for_selector("#status.ok")
        assert "What the settings mean" in page.inner_text("#help")
        text = page.input_value("#text")

        # a typo: the diagnostic with its line and a suggestion, the line marked
        page.fill("#text", text.replace("monthly_allotment: 5", "monthly_alotment: 8", 1))
        page.wait_for_selector("#diagnostics li button")
        problem = page.inner_text("#diagnostics")
        assert "policies.yaml:68:5: unknown_key" in problem and "did you mean `monthly_allotment`" in problem
        assert page.get_attribute("#line-68", "class") == "bad"
        page.click("#diagnostics li button")  # jumps to the line
        assert page.evaluate("document.activeElement.id") == "text"
        page.screenshot(path=str(shots / "1-policy-typo.png"))

        # fixed: valid, and the draft's plans beside the saved ones
        draft = text.replace("monthly_allotment: 5", "monthly_allotment: 8", 1)
        draft = draft.replace("cap: 15", "cap: 24", 1)
        page.fill("#text", draft)
        page.wait_for_selector("#status:has-text('Draft valid')")
        page.click("#tab-plans")
        career = page.inner_text("#plans-table tr:nth-child(3)")
        assert "8 / 5" in career and "24 / 15" in career
        page.screenshot(path=str(shots / "2-plans-draft.png"))

        # the effect on a scenario: expectations worked out for 5 credits now fail, the chart is drawn
        page.click("#tab-scenarios")
        page.select_option("#scenario-select", "examples/scenarios/career-first-quarter.yaml")
        page.click("#run")
        page.wait_for_selector("#steps tr")
        assert "failed" in page.inner_text("#run-summary") and "expected balance of alice" in page.inner_text(
            "#run-summary"
        )
        assert page.locator("#chart path").count() >= 1 and page.locator("#steps tr.failed").count() >= 1
        assert page.locator("#chart rect").count() >= 3  # the lots, each from its grant to its expiry
        page.screenshot(path=str(shots / "3-scenario.png"), full_page=True)

        # shared as a file: download the edited scenario, and it opens again by upload
        page.fill(
            "#scenario-text",
            page.input_value("#scenario-text").replace(
                "title: Career member", "title: Shared Career member", 1
            ),
        )
        with page.expect_download() as download:
            page.click("#download")
        shared = shots.parent / "shared.yaml"
        download.value.save_as(shared)
        assert download.value.suggested_filename == "career-first-quarter.yaml"
        page.select_option("#scenario-select", "examples/scenarios/billing-cycle.yaml")
        page.set_input_files("#upload", str(shared))
        page.wait_for_function("document.getElementById('scenario-text').value.includes('Shared Career')")
        assert page.input_value("#scenario-text") == shared.read_text()

        # the impact page: the changed accounts and their first different steps
        page.click("#tab-impact")
        page.click("#run-impact")
        page.wait_for_selector("#impact-report table tr:nth-child(2)")
        report = page.inner_text("#impact-report")
        assert "career-first-quarter/alice" in report and "accounts differ" in report
        page.screenshot(path=str(shots / "4-impact.png"), full_page=True)

        # try a decision on the draft
        page.click("#tab-try")
        page.select_option("#event-select", "send")
        page.fill("#fact-sender-balance", "0")
        page.click("#try-form button[type=submit]")
        page.wait_for_selector("#verdict p.ok")
        assert "denied / no_credits" in page.inner_text("#verdict")
        page.screenshot(path=str(shots / "5-try.png"))

        # save: the diff first, then the file, and the saved plans change
        page.click("#tab-edit")
        page.click("#save")
        page.wait_for_selector("#save-dialog[open]")
        assert "+    monthly_allotment: 8" in page.inner_text("#diff")
        page.screenshot(path=str(shots / "6-save-diff.png"))
        page.click("#confirm-save")
        page.wait_for_selector("#status:has-text('Saved policies.yaml')")
        assert (folder / "policies.yaml").read_text() == draft
        page.click("#tab-plans")
        assert "8" in page.inner_text("#plans-table tr:nth-child(3)")
        assert "/" not in page.inner_text("#plans-table tr:nth-child(3)")  # draft and saved agree now

        page.click("#tab-spec")
        page.wait_for_selector("#spec-list h3")
        spec = page.inner_text("#spec-list")
        assert "late-response" in spec and "R14: " in spec and ".feature:" in spec
        page.screenshot(path=str(shots / "7-spec.png"))

        # keyboard: the tabs and the editor are reachable without a mouse
        page.click("#tab-edit")
        page.focus("#tab-edit")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "tab-plans"
        page.set_viewport_size({"width": 480, "height": 800})  # a narrow window still shows the editor
        assert page.is_visible("#text")
        browser.close()
    assert errors == []
