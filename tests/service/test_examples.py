"""The client examples a developer of another app copies: they run against a real server, as shipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .server import running

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_client_runs(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("example-token")
    with running(tmp_path, "--db", "memory", "--token-file", "token") as server:
        env = {**os.environ, "INMAIL_URL": server.url, "INMAIL_TOKEN": "example-token"}
        out = subprocess.run(
            ["sh", str(ROOT / "examples" / "client.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    assert '"outcome":"subscribed"' in out and '"outcome":"sent"' in out
    assert "idempotent-replayed: true" in out.lower()
    assert "application/problem+json" in out and '"code":"invalid_quantity"' in out


def test_the_python_client_runs(tmp_path: Path) -> None:
    with running(tmp_path, "--db", "memory") as server:
        env = {**os.environ, "INMAIL_URL": server.url}
        out = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "client.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    lines = out.splitlines()
    assert lines[0] == "subscribed: subscribed"
    assert lines[1].startswith("send: sent by rule send-inmail (R01") and "balance 4" in lines[1]
    assert lines[2] == "retry: replayed=True, same decision 2"
    assert lines[3] == "balance: 4" and lines[4] == "refused: invalid_quantity"
