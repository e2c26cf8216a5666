"""Debian's chromium for the browser tests: where it is, and the flags it needs here.

Skipped where chromium is not installed; `.ci/run` installs it when it can.
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="install Debian's chromium to run the browser tests"
)

#: What a sandboxed machine without a network needs for chromium to start quietly (Playwright adds
#: headless itself; a bare `chromium` run needs `--headless` in front).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
