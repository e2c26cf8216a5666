"""The workbench in a real headless browser (Debian's chromium, driven by Playwright), as an editor uses it.

The task of the README: make Career 8 credits a month with a cap of 24 in the YAML view's editor
(CodeMirror), see the typo's diagnostic on the way, fix it with the schema's completion, see the
effect on a scenario and on the impact page, save, and see the diff first. Then the draft: it
survives a reload, says so when the saved file changed meanwhile, and Discard brings the saved
text back; a problem answer of the server is said in the status line, never thrown. A real
``inmail workbench`` process serves the page. Screenshots of every tab (``wb-<tab>.png``) go to
``$INMAIL_ARTIFACTS`` (else the test's temporary folder).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, FLAGS, needs_chromium

from .folders import artifacts, policy_folder
from .server import workbench

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
#: The tabs, in the page's order (the contract's); each is screenshot as ``wb-<id>.png``.
TABS = ["policy", "rules", "yaml", "try", "scenarios", "impact", "history", "spec"]
POLICY = "Text of policies.yaml"  # the accessible name of policies.yaml's editor


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return policy_folder(tmp_path)


@pytest.fixture
def url(folder: Path) -> Iterator[str]:
    with workbench(folder) as base:
        yield base


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return artifacts(tmp_path)


class Browser:
    """One chromium page, with what went wrong in it: uncaught errors, console errors and answers
    of the server over 499. The browser's own "Failed to load resource" line for a 4xx answer is
    not an error of the page (the page reads the problem and says it), so it is not counted."""

    def __init__(self, p: Any) -> None:
        self.browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        self.page = self.browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        self.errors: list[str] = []
        self.asked: list[str] = []  # the dialogs the browser itself showed (beforeunload)
        page = self.page
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", self._console)
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.asked.append(dialog.type)
        dialog.accept()

    def close(self) -> None:
        self.browser.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        b = Browser(p)
        try:
            yield b
        finally:
            b.close()


def _ready(page: Any) -> None:
    """The page has loaded the files and checked the draft once."""
    page.wait_for_selector("#check.ok, #check.bad")


def _tab(page: Any, tab: str) -> None:
    page.click(f"#tab-{tab}")
    assert page.get_attribute(f"#tab-{tab}", "aria-selected") == "true"
    assert page.is_visible(f"#panel-{tab}")


def _text(page: Any, name: str) -> str:
    """The text in the YAML editor of file `name` (the editor's own getText)."""
    return str(page.evaluate("(n) => document.querySelector(`[data-file='${n}']`).editor.getText()", name))


def _stored(page: Any, folder: Path) -> dict[str, Any] | None:
    """The draft the page keeps in localStorage for this folder."""
    raw = page.evaluate("(k) => localStorage.getItem(k)", f"inmail-wb:{folder}")
    return json.loads(raw) if raw else None


def _line_of(text: str, line: str, after: str = "") -> int:
    """The 1-based number of the first line equal to `line` after the first line starting with `after`."""
    lines = text.split("\n")
    start = next(i for i, x in enumerate(lines) if x.startswith(after)) if after else 0
    return next(i for i, x in enumerate(lines) if i >= start and x == line) + 1


def _go_to_line(page: Any, label: str, line: int) -> None:
    """Click into the editor named `label` and put the cursor at the start of `line`, by keyboard:
    the editor's "Go to line" (Ctrl-Alt-G; arrow keys race the rendering of lines out of view)."""
    page.get_by_role("textbox", name=label).click()
    page.keyboard.press("Control+Alt+g")
    page.wait_for_selector(".cm-panel input[name=line]")
    page.keyboard.type(str(line))
    page.keyboard.press("Enter")
    page.wait_for_selector(".cm-panel input[name=line]", state="detached")


def _complete(page: Any, typed: str, option: str) -> None:
    """Type `typed`, then pick `option` from the completion list with Enter."""
    page.keyboard.type(typed)
    page.locator(".cm-tooltip-autocomplete li", has_text=option).wait_for()
    page.wait_for_timeout(300)  # the completion ignores Enter for a moment after its list changes
    page.keyboard.press("Enter")
    page.wait_for_selector(".cm-tooltip-autocomplete", state="detached")


def _screenshot_tabs(page: Any, shots: Path) -> None:
    for tab in TABS:
        _tab(page, tab)
        page.wait_for_timeout(400)
        page.screenshot(path=str(shots / f"wb-{tab}.png"), full_page=tab in ("scenarios", "impact"))


def test_an_editor_changes_career_checks_it_sees_its_effect_and_saves(
    url: str, folder: Path, shots: Path, browser: Browser, tmp_path: Path
) -> None:
    page = browser.page
    page.goto(url + "/")
    _ready(page)
    # the tabs, in order, the Policy form first
    assert page.locator("[role=tab]").all_inner_texts() == [
        "Policy",
        "Rules",
        "YAML",
        "Try a decision",
        "Scenarios",
        "Impact",
        "History",
        "Spec",
    ]
    assert page.get_attribute("#tab-policy", "aria-selected") == "true"
    assert page.is_hidden("#panel-yaml")

    _tab(page, "yaml")
    assert "What the settings mean" in page.inner_text("#help")
    text = (folder / "policies.yaml").read_text()
    assert _text(page, "policies.yaml") == text
    editor = page.get_by_role("textbox", name=POLICY)
    assert editor.count() == 1 and editor.is_visible()
    height = page.evaluate(
        "document.querySelector(\"[data-file='policies.yaml']\").getBoundingClientRect().height"
    )
    assert height >= 0.55 * 800  # the editor fills the space

    # a typo, typed in the editor: the server's diagnostic in the editor and in Problems
    allotment = _line_of(text, "    monthly_allotment: 5        # R10", after="  career:")
    assert allotment == 68
    _go_to_line(page, POLICY, allotment)
    page.keyboard.press("Shift+End")
    page.keyboard.type("    monthly_alotment: 8        # R10")
    typo = text.replace("monthly_allotment: 5", "monthly_alotment: 8", 1)
    assert _text(page, "policies.yaml") == typo
    page.wait_for_selector("#diagnostics li.error button")
    problem = page.inner_text("#diagnostics")
    assert "policies.yaml:68:5: unknown_key" in problem and "did you mean `monthly_allotment`" in problem
    assert page.locator("#check.bad").count() == 1
    page.wait_for_selector("[data-file='policies.yaml'] .cm-lint-marker-error")
    assert page.locator("[data-file='policies.yaml'] .cm-lintRange-error").count() >= 1
    page.get_by_role("textbox", name=POLICY).press("Control+Home")
    page.click("#diagnostics li.error button")  # jumps to the line, in the editor
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == POLICY
    assert "monthly_alotment: 8" in page.inner_text("[data-file='policies.yaml'] .cm-activeLine")
    page.screenshot(path=str(shots / "wb-yaml-typo.png"))

    # fixed with the schema's completion: the cursor is at 68:5; the key again, from the list
    page.keyboard.press("Shift+End")
    _complete(page, "monthly_", "monthly_allotment")
    page.keyboard.type("8        # R10")
    cap = text.split("\n")[allotment]  # the next line
    assert cap.startswith("    cap: 15 ")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    page.keyboard.press("Shift+Home")  # back to the indentation
    page.keyboard.type(cap.strip().replace("15", "24"))
    draft = text.replace("monthly_allotment: 5", "monthly_allotment: 8", 1).replace("cap: 15", "cap: 24", 1)
    page.wait_for_selector("#check:has-text('Draft valid')")
    assert _text(page, "policies.yaml") == draft
    stored = _stored(page, folder)
    assert stored is not None and stored["files"]["policies.yaml"]["text"] == draft
    assert "Unsaved changes: policies.yaml" in page.inner_text("#draft-state")
    assert "No problems" in page.inner_text("#diagnostics")

    # the effect on a scenario: expectations worked out for 5 credits now fail, the chart is drawn
    _tab(page, "scenarios")
    page.select_option("#scenario-select", "examples/scenarios/career-first-quarter.yaml")
    page.click("#run")
    page.wait_for_selector("#steps tbody tr")
    summary = page.inner_text("#run-summary")
    assert "failed" in summary and "expected balance of alice" in summary
    assert page.locator("#chart path").count() >= 1 and page.locator("#steps tr.failed").count() >= 1
    assert page.locator("#chart rect").count() >= 3  # the lots, each from its grant to its expiry
    page.screenshot(path=str(shots / "wb-scenarios-run.png"), full_page=True)

    # shared as a file: edit the scenario's title in its editor, download it, open it again by upload
    scenario = (folder / "examples" / "scenarios" / "career-first-quarter.yaml").read_text()
    title = _line_of(scenario, next(x for x in scenario.split("\n") if x.startswith("title: Career member")))
    _go_to_line(page, "Scenario text", title)
    for _ in range(len("title: ")):
        page.keyboard.press("ArrowRight")
    page.keyboard.type("Shared ")
    shared_text = scenario.replace("title: Career member", "title: Shared Career member", 1)
    assert page.evaluate("document.getElementById('scenario-editor').editor.getText()") == shared_text
    with page.expect_download() as download:
        page.click("#download")
    shared = tmp_path / "shared.yaml"  # (not beside the screenshots: in CI, that is the checkout's .ci/)
    download.value.save_as(shared)
    assert download.value.suggested_filename == "career-first-quarter.yaml"
    assert shared.read_text() == shared_text
    page.select_option("#scenario-select", "examples/scenarios/billing-cycle.yaml")
    page.set_input_files("#upload", str(shared))
    page.wait_for_function(
        "document.getElementById('scenario-editor').editor.getText().includes('Shared Career')"
    )
    assert page.evaluate("document.getElementById('scenario-editor').editor.getText()") == shared_text
    assert page.input_value("#scenario-select") == "upload:shared.yaml"

    # the impact page: the changed accounts and their first different steps
    _tab(page, "impact")
    page.click("#run-impact")
    page.wait_for_selector("#impact-report table tbody tr")
    report = page.inner_text("#impact-report")
    assert "career-first-quarter/alice" in report and "accounts differ" in report
    assert "The draft changes policies.yaml" in report
    # the chart: Career's credits, saved against draft, named in words for a screen reader too
    chart = page.locator("#impact-report svg.per-plan")
    assert "Career: granted" in (chart.get_attribute("aria-label") or "")
    assert chart.locator("rect.new").count() == chart.locator("rect.base").count() > 0
    # and the usable credits of all accounts over time, one line per side
    over = page.locator("#impact-report svg.over-time")
    assert "the widest gap is on" in (over.get_attribute("aria-label") or "")
    assert over.locator("path.base-line").count() == over.locator("path.new-line").count() == 1
    page.screenshot(path=str(shots / "wb-impact-report.png"), full_page=True)

    # save: the diff first, then the file
    _tab(page, "yaml")
    page.click("#save")
    page.wait_for_selector("#save-dialog[open]")
    assert "+    monthly_allotment: 8" in page.inner_text("#diff")
    assert "-    monthly_allotment: 5" in page.inner_text("#diff")
    # and what the save would change, in sentences, worked out while the diff is read
    page.wait_for_selector("#save-impact-headline li")
    assert "Career" in page.inner_text("#save-impact-headline")
    assert "Impact over the folder's" in page.inner_text("#save-impact")
    page.screenshot(path=str(shots / "wb-save-diff.png"))
    page.click("#confirm-save")
    page.wait_for_selector("#status:has-text('Saved policies.yaml')")
    assert (folder / "policies.yaml").read_text() == draft
    assert page.inner_text("#draft-state") == "No unsaved changes"
    assert _stored(page, folder) is None
    page.wait_for_selector("#check:has-text('Draft valid')")

    # undo the save: the old text is back in the file and the editor; a second undo is a problem, said
    page.click("#undo")
    page.wait_for_selector("#status:has-text('Undid the last save of policies.yaml')")
    assert (folder / "policies.yaml").read_text() == text
    assert _text(page, "policies.yaml") == text
    page.click("#undo")
    page.wait_for_selector("#status.bad:has-text('nothing_to_undo')")

    _tab(page, "spec")
    page.wait_for_selector("#spec-list h3")
    spec = page.inner_text("#spec-list")
    assert "late-response" in spec and "R14: " in spec and ".feature:" in spec

    # every tab, as it looks
    _screenshot_tabs(page, shots)

    # keyboard: the tablist moves with the arrow keys, Home and End
    page.focus("#tab-yaml")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-try"
    assert page.get_attribute("#tab-try", "aria-selected") == "true" and page.is_visible("#panel-try")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tab-spec"
    page.keyboard.press("ArrowRight")  # wraps around
    assert page.evaluate("document.activeElement.id") == "tab-policy"
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.id") == "tab-spec"
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-yaml", "aria-selected") == "true"
    assert page.get_attribute("#tab-policy", "tabindex") == "-1"  # one tab stop for the tablist
    page.set_viewport_size({"width": 480, "height": 800})  # a narrow window still shows the editor
    assert page.get_by_role("textbox", name=POLICY).is_visible()
    page.screenshot(path=str(shots / "wb-yaml-narrow.png"))
    assert browser.errors == []


def test_the_draft_survives_a_reload_and_discard_brings_the_saved_text_back(
    url: str, folder: Path, shots: Path, browser: Browser
) -> None:
    page = browser.page
    page.goto(url + "/#yaml")  # the address names the tab
    _ready(page)
    assert page.get_attribute("#tab-yaml", "aria-selected") == "true"
    text = (folder / "policies.yaml").read_text()

    # Business's allotment, typed again on a new line inside the plan: the key from the completion
    allotment = _line_of(text, "    monthly_allotment: 15       # R10", after="  business:")
    _go_to_line(page, POLICY, allotment)
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Backspace")  # the line is gone
    page.keyboard.press("ArrowUp")
    page.keyboard.press("End")  # after `premium: true`
    page.keyboard.press("Enter")
    _complete(page, "monthly_", "monthly_allotment")
    page.keyboard.type("50")
    edited = text.replace("    monthly_allotment: 15       # R10\n", "    monthly_allotment: 50\n", 1)
    assert _text(page, "policies.yaml") == edited

    # above the cap of 45: only the server knows that; shown in the editor and in Problems
    page.wait_for_selector("#diagnostics li.error button:has-text('cap_below_allotment')")
    assert f"policies.yaml:{allotment + 1}:10: cap_below_allotment" in page.inner_text("#diagnostics")
    page.wait_for_selector("[data-file='policies.yaml'] .cm-lint-marker-error")
    page.hover("[data-file='policies.yaml'] .cm-lintRange-error")
    page.wait_for_selector(".cm-tooltip:has-text('cap_below_allotment')")
    page.screenshot(path=str(shots / "wb-yaml-server-diagnostic.png"))
    page.mouse.move(0, 0)

    # fixed: 40 credits a month
    page.get_by_role("textbox", name=POLICY).press("End")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("40")
    edited = edited.replace("monthly_allotment: 50", "monthly_allotment: 40", 1)
    page.wait_for_selector("#check:has-text('Draft valid')")
    assert _text(page, "policies.yaml") == edited

    # a reload asks first (beforeunload), then finds the draft again
    page.reload()
    _ready(page)
    assert browser.asked == ["beforeunload"]
    page.wait_for_selector("#status:has-text('Restored your unsaved changes to policies.yaml from')")
    assert "changed since" not in page.inner_text("#status")
    assert page.get_attribute("#tab-yaml", "aria-selected") == "true"
    assert _text(page, "policies.yaml") == edited
    assert "policies.yaml" in page.inner_text("#draft-state")
    page.wait_for_selector("#check:has-text('Draft valid')")

    # the saved file changes meanwhile: the draft still comes back, the page says a save will be refused
    (folder / "policies.yaml").write_text(text + "# edited elsewhere\n")
    page.reload()
    _ready(page)
    page.wait_for_selector("#status.bad:has-text('changed since')")
    assert _text(page, "policies.yaml") == edited
    page.click("#save")
    page.wait_for_selector("#save-dialog[open]")
    page.click("#confirm-save")
    page.wait_for_selector("#save-problems:has-text('changed_on_disk')")
    assert (folder / "policies.yaml").read_text() == text + "# edited elsewhere\n"
    page.click("#cancel-save")

    # Discard draft asks, then brings the saved text back
    page.click("#revert")
    page.wait_for_selector("dialog.ask[open]")
    page.screenshot(path=str(shots / "wb-discard.png"))
    page.click("dialog.ask button:has-text('Discard changes to policies.yaml')")
    page.wait_for_selector("#status:has-text('Discarded the unsaved changes to policies.yaml')")
    assert _text(page, "policies.yaml") == text + "# edited elsewhere\n"
    assert page.inner_text("#draft-state") == "No unsaved changes"
    assert _stored(page, folder) is None
    page.wait_for_selector("#check:has-text('Draft valid')")

    # a change from another editor (the Policy form, a Rules table) shows in the YAML editor at once
    page.evaluate(
        """async () => {
            const { draft } = await import("/wb/static/wb/draft.js");
            draft.set("policies.yaml", draft.text("policies.yaml").replace("cap: 45", "cap: 46"), "form");
        }"""
    )
    assert _text(page, "policies.yaml") == (text + "# edited elsewhere\n").replace("cap: 45", "cap: 46", 1)
    page.wait_for_selector("#draft-state:has-text('Unsaved changes: policies.yaml')")
    page.evaluate("async () => (await import('/wb/static/wb/draft.js')).draft.discard()")
    assert _text(page, "policies.yaml") == text + "# edited elsewhere\n"

    # the rules files open in the same editor, with their own help
    page.select_option("#file-select", "rules/send.yaml")
    send = page.get_by_role("textbox", name="Text of rules/send.yaml")
    assert send.is_visible() and not page.get_by_role("textbox", name=POLICY).is_visible()
    assert "no-credits-can-buy: " in page.inner_text("#help")
    assert _text(page, "rules/send.yaml") == (folder / "rules" / "send.yaml").read_text()

    browser.asked.clear()
    page.reload()  # nothing to lose: no question
    _ready(page)
    assert browser.asked == []
    assert page.inner_text("#status") == ""
    assert browser.errors == []


def test_a_problem_answer_is_said_in_the_status_line_not_thrown(url: str, browser: Browser) -> None:
    page = browser.page
    page.goto(url + "/#scenarios")
    _ready(page)
    page.wait_for_function("document.getElementById('scenario-editor').editor.getText().length > 0")

    # a 413 problem without diagnostics (the old page read `data.diagnostics.map` of it and threw)
    too_large = {
        "type": "urn:inmail:problem:body_too_large",
        "title": "Request body too large",
        "status": 413,
        "code": "body_too_large",
        "detail": "a request body may hold at most 1,048,576 bytes",
    }
    page.route(
        "**/wb/api/run",
        lambda route: route.fulfill(
            status=413, content_type="application/problem+json", body=json.dumps(too_large)
        ),
    )
    page.click("#run")
    page.wait_for_selector("#status.bad:has-text('body_too_large: a request body may hold at most')")
    assert "did not run" in page.inner_text("#run-summary")
    page.unroute("**/wb/api/run")

    # no answer at all, and an answer that is not JSON
    page.route("**/wb/api/run", lambda route: route.abort())
    page.click("#run")
    page.wait_for_selector("#status.bad:has-text('network: the workbench did not answer')")
    page.unroute("**/wb/api/run")
    page.route(
        "**/wb/api/run",
        lambda route: route.fulfill(status=400, content_type="text/html", body="<h1>Bad</h1>"),
    )
    page.click("#run")
    page.wait_for_selector("#status.bad:has-text('http_400')")
    page.unroute("**/wb/api/run")

    # and the real answer runs again
    page.click("#run")
    page.wait_for_selector("#steps tbody tr")

    # without the editor bundle, the page still works, in plain text boxes, and says so
    page.route("**/vendor/editor.js", lambda route: route.abort())
    page.reload()
    _ready(page)
    _tab(page, "yaml")
    page.wait_for_selector("#status.bad:has-text('The editor could not be loaded')")
    box = page.get_by_role("textbox", name=POLICY)
    assert box.evaluate("e => e.tagName") == "TEXTAREA"
    box.fill(box.input_value().replace("monthly_allotment: 5", "monthly_alotment: 5", 1))
    page.wait_for_selector("#diagnostics li.error button:has-text('unknown_key')")
    page.click("#diagnostics li.error button")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == POLICY
    assert browser.errors == []
