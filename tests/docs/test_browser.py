"""The living documentation in a real headless browser (Debian's chromium): the pages load from disk.

Skipped where chromium is not installed; `.ci/run` installs it when it can.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from engine.docs import build_site, gather
from tests.browser import CHROMIUM, FLAGS, needs_chromium

REPO = Path(__file__).resolve().parents[2]
pytestmark = needs_chromium


def _dom(page: Path) -> str:
    """The page's DOM after the browser loaded it from disk."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [CHROMIUM, "--headless", *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(out, gather(REPO, REPO / "policies.yaml", REPO / "rules", None, None))
    return out


def test_the_index_opens_and_links_every_requirement(site: Path) -> None:
    dom = _dom(site / "index.html")
    assert "<h1>InMail credits: requirements, scenarios, rules</h1>" in dom
    for n in range(1, 21):
        assert f'href="R{n:02d}.html"' in dom


def test_a_requirement_page_opens_with_its_scenarios_rules_and_traces(site: Path) -> None:
    dom = _dom(site / "R14.html")
    assert "R14: An answer within 90 days returns the credit" in dom
    assert "Scenario Outline:" in dom and 'href="rules-respond.html#late-response"' in dom
    assert "fact the rules read" in dom
