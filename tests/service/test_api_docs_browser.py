"""``/docs`` and ``/redoc`` in a real headless browser with no network but the server: they still work.

Every request to anything but the server is aborted and remembered; the pages
must render and must not have tried one. The Swagger UI's "Try it out" on a
store already in use must answer 200: its example body carries no ``at``.
Screenshots go to ``$INMAIL_ARTIFACTS`` (else the test's temporary folder).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import CHROMIUM, FLAGS, needs_chromium

from .server import running

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api")


def test_the_api_docs_work_offline_and_try_it_out_runs(tmp_path: Path) -> None:
    shots = Path(os.environ.get("INMAIL_ARTIFACTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with running(tmp_path, "--db", str(tmp_path / "used.db")) as server:
        # a store in use: an account whose clock is far ahead of any example instant
        r = httpx.post(server.url + "/v1/accounts/carol/subscribe", json={"plan": "career"})
        assert r.status_code == 200, r.text
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            outside: list[str] = []
            errors: list[str] = []

            def only_the_server(route: Any) -> None:
                if route.request.url.startswith(server.url):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_the_server)
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(server.url + "/docs")
            page.wait_for_selector(".swagger-ui .info .title")
            assert "inmail-engine" in page.inner_text(".swagger-ui .info .title")
            page.screenshot(path=str(shots / "api-docs.png"), full_page=False)

            # Try it out: subscribe a new account with the example body, as a newcomer would
            block = page.locator(".opblock-post", has_text="/v1/accounts/{account}/subscribe").first
            block.locator(".opblock-summary").click()
            block.get_by_role("button", name="Try it out").click()
            block.locator("input[placeholder='account']").fill("newcomer")
            body = json.loads(block.locator("textarea.body-param__text").input_value())
            assert body == {"plan": "career"}
            block.get_by_role("button", name="Execute").click()
            status = block.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for()
            assert status.inner_text().strip().startswith("200"), status.inner_text()

            page.goto(server.url + "/redoc")
            page.wait_for_selector("h1")
            assert "inmail-engine" in page.inner_text("h1")
            page.screenshot(path=str(shots / "api-redoc.png"), full_page=False)
            browser.close()
        assert outside == [] and errors == []
