"""The vendored editor bundle (engine/service/static/vendor/editor.js) in a real headless browser, offline.

A tiny page imports the bundle from a local static server started here, over a copy of the
bundle, the shipped policies.yaml and the policy JSON Schema. Every request to anything but
that server is aborted and remembered: the bundle must need nothing from the network. The
checks are what a policy editor does: complete a key from the schema, read a key's help on
hover, see the server's diagnostics inline, undo, search, and leave the editor with the
keyboard. A screenshot goes to ``$INMAIL_ARTIFACTS/editor-bundle.png`` when that is set.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, FLAGS, needs_chromium

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "engine" / "service" / "static" / "vendor"
SCHEMA = ROOT / "engine" / "schema" / "policy.json"

#: The shipped policies.yaml without career's `monthly_allotment` line: the completion offers
#: only the keys a mapping does not have yet, so this is the key the test types back in.
CAREER_ALLOTMENT = "    monthly_allotment: 5        # R10\n"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>editor bundle</title>
<link rel="icon" href="data:,">
<style>
  html, body { margin: 0; font-family: sans-serif; }
  #editor { height: 640px; margin: 8px; border: 1px solid #ccc; }
</style>
</head>
<body>
<div id="editor"></div>
<button id="after" type="button">after the editor</button>
<script type="module">
  import { createEditor } from "/vendor/editor.js";
  const [doc, schema] = await Promise.all([
    fetch("/policies.yaml").then((r) => r.text()),
    fetch("/policy.json").then((r) => r.json()),
  ]);
  window.changes = [];
  window.ed = createEditor(document.getElementById("editor"), {
    doc, schema, label: "policies.yaml", onChange: (text) => window.changes.push(text),
  });
  document.body.dataset.ready = "yes";
</script>
</body>
</html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """A local static server over the page, a copy of the bundle, the document and the schema."""
    root = tmp_path / "site"
    (root / "vendor").mkdir(parents=True)
    shutil.copy(VENDOR / "editor.js", root / "vendor" / "editor.js")
    shutil.copy(SCHEMA, root / "policy.json")
    shipped = (ROOT / "policies.yaml").read_text(encoding="utf-8")
    assert CAREER_ALLOTMENT in shipped
    (root / "policies.yaml").write_text(shipped.replace(CAREER_ALLOTMENT, "", 1), encoding="utf-8")
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _line_of(text: str, prefix: str) -> int:
    """The 1-based number of the first line of `text` that starts with `prefix`."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if line.startswith(prefix))


def test_the_bundle_edits_yaml_with_the_schema_offline(site: str) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    plan = schema["properties"]["plans"]["additionalProperties"]["properties"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 720})
            errors: list[str] = []
            outside: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            def only_the_site(route: Any) -> None:
                if route.request.url.startswith(site + "/"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_the_site)

            # (a) the page loads, the editor is there with its accessible name, nothing is wrong
            page.goto(site + "/index.html")
            page.wait_for_selector("body[data-ready=yes]")
            box = page.get_by_role("textbox", name="policies.yaml")
            assert box.count() == 1
            assert page.evaluate("ed.getText()") == (ROOT / "policies.yaml").read_text(
                encoding="utf-8"
            ).replace(CAREER_ALLOTMENT, "", 1)
            assert page.evaluate("ed.view.dom.getBoundingClientRect().height") == pytest.approx(640, abs=2)
            assert errors == [] and outside == []

            # (b) `monthly_` on a new line in career's mapping: the schema completes it, Enter inserts it
            text = page.evaluate("ed.getText()")
            cap = _line_of(text, "    cap: 15")
            page.evaluate(f"ed.goTo({cap}, 1)")
            page.keyboard.press("End")
            page.keyboard.press("Enter")
            page.keyboard.type("monthly_")
            option = page.locator(".cm-tooltip-autocomplete li", has_text="monthly_allotment")
            option.wait_for()
            assert page.locator(".cm-completionInfo").inner_text() == plan["monthly_allotment"]["description"]
            page.wait_for_timeout(300)  # the completion ignores Enter for a moment after the list changes
            page.keyboard.press("Enter")
            page.wait_for_selector(".cm-tooltip-autocomplete", state="detached")
            page.keyboard.type("5")
            lines = page.evaluate("ed.getText()").split("\n")
            assert lines[cap] == "    monthly_allotment: 5"
            assert page.evaluate("changes.at(-1)") == page.evaluate("ed.getText()")

            # the document is valid again: after the linter's pause, no schema lint marks
            page.wait_for_timeout(1200)
            assert page.locator(".cm-lint-marker").count() == 0

            # (d) hovering a key shows its description from the schema
            page.evaluate(f"ed.goTo({cap}, 1)")
            x, y = page.evaluate(
                f"""(() => {{
                    const pos = ed.view.state.doc.line({cap}).from + 5;
                    const c = ed.view.coordsAtPos(pos);
                    return [c.left + 2, (c.top + c.bottom) / 2];
                }})()"""
            )
            page.mouse.move(x, y)
            hover = page.locator(".cm-tooltip-hover .cm6-json-schema-hover--description")
            hover.wait_for()
            assert hover.inner_text().strip() == plan["cap"]["description"]
            assert "integer" in page.locator(".cm-tooltip-hover").inner_text()
            shots = os.environ.get("INMAIL_ARTIFACTS")
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(shots) / "editor-bundle.png"))
            page.mouse.move(1000, 700)

            # (c) the server's diagnostics, inline: a gutter marker on line 3, its text on hover;
            # a position past the end is clamped, not an error
            page.evaluate(
                """ed.setDiagnostics([
                    {line: 3, col: 1, severity: "warning", code: "unknown_key",
                     message: "`plan` is not a setting", help: "did you mean `plans`?"},
                    {line: 9999, col: 9999, end_line: 10000, end_col: 5, severity: "error",
                     code: "far_away", message: "past the end"},
                ])"""
            )
            page.evaluate("ed.goTo(3, 1)")
            warning = page.locator(".cm-lint-marker-warning")
            assert warning.count() == 1
            warning.hover()
            tip = page.locator(".cm-tooltip-lint")
            tip.wait_for()
            assert "unknown_key: `plan` is not a setting" in tip.inner_text()
            assert "help: did you mean `plans`?" in tip.inner_text()
            page.mouse.move(1000, 700)
            page.evaluate("ed.goTo(9999, 9999)")  # clamped too: the last line
            assert page.locator(".cm-lint-marker-error").count() == 1
            assert page.evaluate("ed.view.state.selection.main.head") == len(page.evaluate("ed.getText()"))
            page.evaluate("ed.setDiagnostics([])")
            page.wait_for_selector(".cm-lint-marker", state="detached")

            # (e) Ctrl-Z undoes an edit; setText is undoable too and does not call onChange
            before = page.evaluate("ed.getText()")
            page.evaluate("ed.goTo(1, 1)")
            page.keyboard.type("# hello ")
            assert page.evaluate("ed.getText()") == "# hello " + before
            page.keyboard.press("Control+z")
            assert page.evaluate("ed.getText()") == before
            seen = page.evaluate("changes.length")
            page.evaluate("ed.setText('timezone: UTC\\n')")
            assert page.evaluate("ed.getText()") == "timezone: UTC\n"
            assert page.evaluate("changes.length") == seen
            page.evaluate("ed.focus()")
            page.keyboard.press("Control+z")
            assert page.evaluate("ed.getText()") == before

            # Tab indents; Escape then Tab leaves the editor
            page.evaluate("ed.goTo(1, 1)")
            page.keyboard.press("Tab")
            assert page.evaluate("ed.getText()") != before
            assert page.evaluate("document.activeElement.classList.contains('cm-content')")
            page.keyboard.press("Control+z")
            page.keyboard.press("Escape")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "after"
            assert page.evaluate("ed.getText()") == before

            # Ctrl-F opens the search panel
            page.evaluate("ed.focus()")
            page.keyboard.press("Control+f")
            page.wait_for_selector(".cm-search")
            page.keyboard.press("Escape")
            page.wait_for_selector(".cm-search", state="detached")

            assert errors == [], errors
            assert outside == [], outside

            # and the guard does refuse the network: a fetch elsewhere fails and is remembered
            refused = page.evaluate("fetch('https://example.com/x').then(() => 'fetched', () => 'refused')")
            assert refused == "refused" and outside == ["https://example.com/x"]
        finally:
            browser.close()
