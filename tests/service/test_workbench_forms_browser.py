"""The workbench's forms in a real headless browser, as a product manager uses them: never typing YAML.

The Policy tab (the landing tab) shows ``policies.yaml`` as a form; the Rules
tab shows a rules file as a decision table whose values can be changed in
place; Try a decision shows a verdict and the table behind it. A real
``inmail workbench`` process serves the page on a copy of the repository's
policy, rules, scenarios and features. Screenshots go to ``$INMAIL_ARTIFACTS``
(else the test's temporary folder).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, FLAGS, needs_chromium

from .folders import artifacts, policy_folder
from .server import workbench

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ROOT = Path(__file__).resolve().parents[2]


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


@contextmanager
def opened(url: str) -> Iterator[Any]:
    """The page, opened on the landing tab; no console error nor uncaught exception on the way."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1360, "height": 900})
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.goto(url + "/")
        expect(tab.locator("#check")).to_contain_text("Draft valid")
        yield tab
        browser.close()
        assert errors == []


@pytest.fixture
def page(url: str) -> Iterator[Any]:
    with opened(url) as tab:
        yield tab


def draft_text(page: Any, name: str) -> str | None:
    """The draft's text of a file (what the YAML view shows), None when it is as saved."""
    stored = page.evaluate(
        "() => Object.keys(localStorage).filter((k) => k.startsWith('inmail-wb:'))"
        ".map((k) => localStorage.getItem(k))[0] || null"
    )
    if not stored:
        return None
    files = json.loads(stored)["files"]
    return files[name]["text"] if name in files else None


def wait_draft(page: Any, name: str, needle: str, present: bool = True) -> str:
    page.wait_for_function(
        """([name, needle, present]) => {
            const k = Object.keys(localStorage).find((k) => k.startsWith('inmail-wb:'));
            const files = k ? JSON.parse(localStorage.getItem(k)).files : {};
            const text = files[name] ? files[name].text : '';
            return text.includes(needle) === present;
        }""",
        arg=[name, needle, present],
    )
    return draft_text(page, name) or ""


def yaml_view_text(page: Any, name: str) -> str:
    """The text in the YAML view's editor of ``name`` (CodeMirror: its state, not only the drawn lines)."""
    page.get_by_role("tab", name="YAML").click()
    page.select_option("#file-select", name)
    pane = page.locator(f'[data-file="{name}"]')
    expect(pane).to_be_visible()
    return str(
        pane.evaluate(
            """(pane) => {
                const box = pane.querySelector('.cm-content');
                const view = box && (box.cmTile || box.cmView || {}).view;  // CodeMirror's own view
                if (view) return view.state.doc.toString();
                const area = pane.querySelector('textarea');
                return area ? area.value : box.innerText;
            }"""
        )
    )


def test_a_product_manager_changes_business_through_the_form_and_saves(
    page: Any, folder: Path, shots: Path
) -> None:
    original = (folder / "policies.yaml").read_text()
    expect(page.get_by_label("business monthly_allotment")).to_have_value("15")
    assert page.get_by_role("tab", name="Policy").get_attribute("aria-selected") == "true"

    allotment = page.get_by_label("business monthly_allotment")
    allotment.fill("20")
    allotment.press("Enter")
    wait_draft(page, "policies.yaml", "  business:\n    premium: true\n    monthly_allotment: 20 ")
    cap = page.get_by_label("business cap")
    cap.fill("60")
    cap.press("Tab")  # a change is sent when the person moves on, too
    business = "  business:\n    premium: true\n    monthly_allotment: 20       # R10\n    cap: 60 "
    text = wait_draft(page, "policies.yaml", business)

    # the form reads back the draft: the new values, each with the saved one beside it
    expect(page.get_by_label("business monthly_allotment")).to_have_value("20")
    expect(page.locator("td:has([aria-label='business monthly_allotment']) .was")).to_have_text("was 15")
    expect(page.locator("td:has([aria-label='business cap']) .was")).to_have_text("was 45")
    expect(page.locator("#check")).to_contain_text("Draft valid")
    page.screenshot(path=str(shots / "wb-policy-form.png"), full_page=True)

    # save from the Policy tab itself: the diff first, then the file
    page.click("#policy-save")
    expect(page.locator("#save-dialog")).to_be_visible()
    diff = page.inner_text("#diff")
    assert "+    monthly_allotment: 20" in diff and "+    cap: 60" in diff
    page.screenshot(path=str(shots / "wb-policy-save.png"))
    page.click("#confirm-save")
    expect(page.locator("#status")).to_contain_text("Saved policies.yaml")

    # the YAML view shows the same text
    shown = yaml_view_text(page, "policies.yaml")
    assert shown == text, "\n".join(difflib.unified_diff(text.splitlines(), shown.splitlines(), lineterm=""))

    saved = (folder / "policies.yaml").read_text()
    before, after = original.splitlines(), saved.splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [
        ("    monthly_allotment: 15       # R10", "    monthly_allotment: 20       # R10"),
        ("    cap: 45                     # R11", "    cap: 60                     # R11"),
    ], "\n".join(difflib.unified_diff(before, after, lineterm=""))
    assert [x for x in after if x.lstrip().startswith("#")] == [
        x for x in before if x.lstrip().startswith("#")
    ]

    # saved: the form has nothing to compare any more
    page.get_by_role("tab", name="Policy").click()
    expect(page.get_by_label("business cap")).to_have_value("60")
    expect(page.locator("td:has([aria-label='business cap']) .was")).to_have_text("")


def test_the_form_shows_the_checks_diagnostic_beside_the_value_and_adds_and_removes_a_plan(
    page: Any, folder: Path, shots: Path
) -> None:
    cap = page.get_by_label("business cap")
    expect(cap).to_have_value("45")
    cap.fill("10")
    cap.press("Enter")
    expect(page.locator("tr[data-plan='business']")).to_contain_text("below its monthly allotment of 15")
    beside = page.locator(
        "td:has([aria-label='business cap']) .diag"
    )  # on the value's line (the form's `lines`)
    expect(beside).to_contain_text("below its monthly allotment of 15")
    expect(cap).to_have_attribute("aria-invalid", "true")
    # a value the form can refuse itself is not sent
    allotment = page.get_by_label("career monthly_allotment")
    allotment.fill("-3")
    allotment.press("Enter")
    expect(page.locator("td:has([aria-label='career monthly_allotment']) .diag")).to_contain_text("from 0")
    assert "monthly_allotment: -3" not in (draft_text(page, "policies.yaml") or "")
    page.screenshot(path=str(shots / "wb-policy-diagnostic.png"), full_page=True)
    cap.fill("45")
    cap.press("Enter")
    expect(beside).to_have_text("")
    page.wait_for_function("() => !Object.keys(localStorage).some((k) => k.startsWith('inmail-wb:'))")

    # a switch and a setting
    switch = page.get_by_role("switch", name="career purchasable")
    expect(switch).to_be_checked()
    switch.press("Space")
    wait_draft(page, "policies.yaml", "cap: 15                     # R11\n    purchasable: false ")
    lifetime = page.get_by_label("credits.lifetime_days", exact=True)
    lifetime.fill("60")
    lifetime.press("Enter")
    wait_draft(page, "policies.yaml", "lifetime_days: 60")
    page.get_by_role("group", name="cap.applies_to").get_by_label("purchase").check()
    wait_draft(page, "policies.yaml", "applies_to: [monthly, credit_back, purchase]")

    # a bad name is refused in words; a good one adds the plan with the usual values
    page.get_by_label("Name of the new plan").fill("Team Plus")
    page.get_by_role("button", name="Add the plan").click()
    expect(page.locator("form.add [role=alert]").first).to_contain_text("lowercase letters")
    page.get_by_label("Name of the new plan").fill("team")
    page.get_by_role("button", name="Add the plan").click()
    expect(page.get_by_label("team monthly_allotment")).to_have_value("5")
    expect(page.get_by_role("switch", name="team premium")).to_be_focused()  # its first value
    text = wait_draft(page, "policies.yaml", "  team:")
    assert re.search(
        r"  team:\n    premium: true\n    monthly_allotment: 5\n    cap: 15\n    purchasable: false", text
    )

    # removing asks first, and names the scenarios that use a plan
    page.get_by_role("button", name="Remove the plan career").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("career-first-quarter.yaml")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_label("career cap")).to_be_visible()
    page.get_by_role("button", name="Remove the plan team").click()
    expect(page.get_by_role("dialog")).to_contain_text("No scenario of this folder uses it")
    page.get_by_role("dialog").get_by_role("button", name="Remove the plan").click()
    expect(page.get_by_label("team cap")).to_have_count(0)
    wait_draft(page, "policies.yaml", "team:", present=False)

    # typed in the YAML view (as a developer would): the form follows
    page.get_by_role("tab", name="YAML").click()
    page.locator('[data-file="policies.yaml"] .cm-content').evaluate(
        """(box) => {
            const view = (box.cmTile || box.cmView).view, text = view.state.doc.toString();
            const at = text.indexOf("after_days: 3") + "after_days: ".length;
            view.dispatch({changes: {from: at, to: at + 1, insert: "4"}});
        }"""
    )
    page.get_by_role("tab", name="Policy").click()
    expect(page.get_by_label("reminder.after_days", exact=True)).to_have_value("4")
    expect(page.locator("[data-setting='reminder.after_days'] .was")).to_have_text("was 3")


def test_a_rules_file_as_a_decision_table_edited_in_place(page: Any, shots: Path) -> None:
    page.get_by_role("tab", name="Rules").click()
    expect(page.locator("#rules-file")).to_have_value("rules/send.yaml")
    table = page.locator("table.decision")
    expect(table.locator("caption")).to_contain_text("first match decides")
    row = table.locator("tr[data-rule='no-credits-can-buy']")
    balance = page.get_by_label("no-credits-can-buy sender.balance")
    expect(balance).to_have_value("1")
    assert "below" in row.locator("td:has([aria-label='no-credits-can-buy sender.balance'])").inner_text()
    header = table.locator("thead th").all_inner_texts()
    column = next(i for i, h in enumerate(header) if h.startswith("sender.balance"))
    assert "usable credits" in header[column]
    # a rule that does not read a fact says "any" there
    expect(table.locator("tr[data-rule='free-to-connections'] td.any").first).to_have_text("any")
    page.screenshot(path=str(shots / "wb-rules-table.png"), full_page=True)

    # the linter's findings show on their row (the renderer, on a table the folder does not have)
    note = page.evaluate(
        """async () => {
            const { renderTable } = await import("/wb/static/wb/table.js");
            const box = document.createElement("div");
            document.body.append(box);
            const finding = {severity: "warning", code: "shadowed_rule", message: "never fires"};
            const row = {rule: "late", line: 9, requirements: [], cells: {}, other: null, catch_all: true,
                         outcome: "sent", reason: null, effects: [], findings: [finding]};
            const table = {file: "rules/x.yaml", hit_policy: "first match decides", columns: [], rows: [row]};
            renderTable(box, table
            );
            const found = box.querySelector("tr[data-rule='late'] [role=note]").textContent;
            box.remove();
            return found;
        }"""
    )
    assert note == "shadowed_rule: never fires"

    balance.fill("2")
    balance.press("Enter")
    text = wait_draft(page, "rules/send.yaml", "below: 2")
    assert (
        "sender.balance: {below: 2}" in text
        and "# rules/send.yaml - may this member send an InMail now?" in text
    )
    expect(page.get_by_label("no-credits-can-buy sender.balance")).to_have_value("2")
    expect(page.get_by_label("no-credits-can-buy sender.balance")).to_be_focused()
    assert yaml_view_text(page, "rules/send.yaml") == text


def test_try_a_decision_shows_the_defaults_following_the_plan_and_the_rows_that_failed(
    page: Any, shots: Path
) -> None:
    page.get_by_role("tab", name="Try a decision").click()
    page.select_option("#try-event", "send")
    purchasable = page.get_by_label("plan.purchasable", exact=True)
    expect(purchasable).to_be_checked()  # the default plan may buy credits
    page.get_by_label("sender.plan", exact=True).select_option("sales_navigator")
    expect(purchasable).not_to_be_checked()  # its default follows the plan chosen
    fact = page.locator("[data-fact='plan.purchasable']")
    expect(fact.locator(".tag")).to_have_text("default")
    expect(page.locator("[data-fact='sender.plan'] .tag")).to_have_text("set by you")
    balance = page.get_by_label("sender.balance", exact=True)
    balance.fill("0")
    balance.press("Tab")
    expect(page.locator("[data-fact='sender.balance'] .tag")).to_have_text("set by you")
    page.get_by_role("button", name="Decide").click()

    verdict = page.locator(".verdict-box")
    expect(verdict).to_contain_text("denied")
    rule = verdict.locator(".rule-id").inner_text()
    assert rule == "no-credits"
    decided = page.locator(".try-table tr.decided")
    expect(decided).to_have_count(1)
    assert decided.get_attribute("data-rule") == rule and decided.get_attribute("aria-current") == "true"
    above = page.locator(".try-table tr.passed-over")
    expect(above).to_have_count(5)
    for i in range(above.count()):
        failed = above.nth(i).locator("td.failed")
        assert failed.count() >= 1 and "no match" in failed.first.inner_text()
    expect(page.locator(".try-table tr[data-rule='no-credits-can-buy'] td.failed")).to_contain_text("is true")
    page.screenshot(path=str(shots / "wb-try-decided.png"), full_page=True)

    page.get_by_role("button", name="Reset to defaults").click()
    expect(purchasable).to_be_checked()
    expect(page.locator("[data-fact='sender.plan'] .tag")).to_have_text("default")

    # a plan added in the draft can be chosen here at once
    page.get_by_role("tab", name="Policy").click()
    checked = page.inner_text("#check")
    page.get_by_label("Name of the new plan").fill("team")
    page.get_by_role("button", name="Add the plan").click()
    expect(page.locator("#check")).not_to_have_text(checked)  # the draft with the plan is checked
    expect(page.locator("#check")).to_contain_text("Draft valid")
    page.get_by_role("tab", name="Try a decision").click()
    page.get_by_label("sender.plan", exact=True).select_option("team")
    expect(page.get_by_label("plan.monthly_allotment", exact=True)).to_have_value("5")


def _set(page: Any, label: str, value: str) -> None:
    box = page.get_by_label(label)
    box.fill(value)
    box.press("Enter")


def test_the_save_dialog_lists_the_expectations_that_assume_the_old_numbers(
    page: Any, folder: Path, shots: Path
) -> None:
    _set(page, "business monthly_allotment", "20")
    wait_draft(page, "policies.yaml", "  business:\n    premium: true\n    monthly_allotment: 20 ")
    _set(page, "business cap", "60")
    wait_draft(
        page,
        "policies.yaml",
        "  business:\n    premium: true\n    monthly_allotment: 20       # R10\n    cap: 60 ",
    )
    expect(page.locator("#check")).to_contain_text("Draft valid")
    page.click("#policy-save")
    checks = page.locator("#save-checks")
    expect(checks).to_contain_text("expectations assume the old numbers", timeout=60_000)
    compared = "examples/scenarios/plans-compared.yaml"
    lines = (folder / compared).read_text().splitlines()
    first = next(i for i, line in enumerate(lines, 1) if "bill: 15," in line)
    row = checks.locator("tr", has=page.get_by_role("button", name=f"{compared}:{first}", exact=True))
    expect(row.locator("td")).to_have_text([f"{compared}:{first}", "balance of bill", "15", "20"])
    expect(checks).to_contain_text("pytest tests/bdd")
    expect(checks.locator("section.refused")).to_have_count(0)
    expect(page.locator("#confirm-save")).to_be_enabled()  # listed, not refused
    assert "+    monthly_allotment: 20" in page.inner_text("#diff")
    page.screenshot(path=str(shots / "wb-save-checks.png"))

    # each one opens its scenario in the Scenarios tab, at its line; the draft stays
    row.get_by_role("button").click()
    expect(page.locator("#save-dialog")).to_be_hidden()
    expect(page.get_by_role("tab", name="Scenarios")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#scenario-select")).to_have_value(compared)
    page.click("#run")
    expect(page.locator("#run-summary")).to_contain_text(f"line {first}")
    business = "  business:\n    premium: true\n    monthly_allotment: 20 "
    assert business in (draft_text(page, "policies.yaml") or "")
    assert business not in (folder / "policies.yaml").read_text()


def test_the_save_dialog_refuses_removing_a_plan_the_bound_store_uses(
    folder: Path, tmp_path: Path, shots: Path
) -> None:
    from engine import Engine

    db = str(tmp_path / "store.db")
    with Engine.open(db=db) as eng:
        for i in range(4):
            eng.subscribe(f"jobseeker-{i}", "career", at="2026-01-05")
    other = str(tmp_path / "other.db")  # a second store: chosen in Impact, counted before a save
    with Engine.open(db=other) as eng:
        eng.subscribe("hiring-1", "business", at="2026-01-05")
    before = (folder / "policies.yaml").read_text()
    with workbench(folder, "--db", db, "--db", other) as base, opened(base) as page:
        page.get_by_role("tab", name="Impact").click()
        expect(page.locator("#impact-store")).to_be_checked()  # real accounts first, when a store is bound
        page.get_by_label(f"the real history of the store {other}").check()
        page.click("#run-impact")
        expect(page.locator("#impact-headline")).to_contain_text("No account", timeout=30_000)
        assert "jobseeker" not in page.inner_text("#impact-report")
        page.get_by_role("tab", name="Policy").click()
        page.get_by_role("button", name="Remove the plan career").click()
        expect(page.get_by_role("dialog")).to_contain_text("The bound store has accounts on it (jobseeker-0")
        page.get_by_role("dialog").get_by_role("button", name="Remove the plan").click()
        wait_draft(page, "policies.yaml", "  career:", present=False)
        expect(page.locator("#check")).to_contain_text("Draft valid")
        page.click("#policy-save")
        refused = page.locator("#save-checks section.refused")
        expect(refused).to_contain_text("Cannot save", timeout=60_000)
        expect(refused).to_contain_text(
            f"4 accounts of the store {db} are on career (jobseeker-0, jobseeker-1"
        )
        expect(page.locator("#confirm-save")).to_be_disabled()
        expect(page.locator("#save-checks")).to_contain_text("career-first-quarter.yaml")  # no longer loads
        page.screenshot(path=str(shots / "wb-save-refused.png"))
        page.click("#cancel-save")
    assert (folder / "policies.yaml").read_text() == before


def test_the_form_is_not_drawn_anew_under_a_person_typing(page: Any, shots: Path) -> None:
    """A save updates the form in place; a redraw keeps the selection of the field being typed in.

    After a save the form reads the saved file again (for its "was …" marks); drawn anew, the field
    a person had already selected to type over came back unselected, so a key typed then went after
    the old value (6 then 7 read 67). And when the form must be drawn anew (a plan added elsewhere),
    the text field in use keeps its whole selection, not only its caret.
    """
    allotment = page.get_by_label("career monthly_allotment", exact=True)
    _set(page, "career monthly_allotment", "6")
    expect(allotment.locator("xpath=following-sibling::span[@class='was']")).to_have_text("was 5")
    allotment.evaluate("(a) => { a.dataset.mark = 'drawn once'; }")
    page.click("#policy-save")
    page.click("#confirm-save")
    expect(page.locator("#status")).to_contain_text("Saved policies.yaml", timeout=20_000)
    zone = page.get_by_label("timezone", exact=True)
    zone.focus()
    zone.evaluate("(z) => z.select()")  # selected, to be typed over
    expect(allotment.locator("xpath=following-sibling::span[@class='was']")).to_have_text("")  # saved now
    page.wait_for_load_state("networkidle")
    assert allotment.evaluate("(a) => a.dataset.mark") == "drawn once"  # the same field, not a new one
    expect(zone).to_be_focused()
    assert zone.evaluate("(z) => [z.selectionStart, z.selectionEnd]") == [0, 3]  # "UTC", still selected

    # another plan in the draft (as from the YAML view): the form is drawn anew around the field
    scout = "  scout: {premium: false, monthly_allotment: 0, cap: 0, purchasable: false}\n"
    page.evaluate(
        """(scout) => import('/wb/static/wb/draft.js').then(({ draft }) => draft.set('policies.yaml',
             draft.text('policies.yaml').replace(/^plans:.*\\n/m, (line) => line + scout), 'yaml'))""",
        scout,
    )
    expect(page.locator('tr[data-plan="scout"]')).to_be_visible()
    expect(zone).to_be_focused()
    assert zone.evaluate("(z) => [z.selectionStart, z.selectionEnd]") == [0, 3]
    zone.press("7")  # typed over the selection, as the person meant
    expect(zone).to_have_value("7")
    page.screenshot(path=str(shots / "wb-form-kept-while-typing.png"), full_page=True)
