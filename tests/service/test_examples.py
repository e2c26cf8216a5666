"""The client examples a developer of another app copies: they run against a real server, as shipped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .server import running

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_client_runs_on_any_store_again_and_again(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("example-token")
    with running(tmp_path, "--db", str(tmp_path / "used.db"), "--token-file", "token") as server:
        env = {**os.environ, "INMAIL_URL": server.url, "INMAIL_TOKEN": "example-token"}
        for _ in range(2):  # the README's curl lines first: the example must not clash with them
            out = _example(["sh", str(ROOT / "examples" / "client.sh")], env)
            assert '"outcome":"subscribed"' in out and '"outcome":"sent"' in out
            assert "idempotent-replayed: true" in out.lower()
            assert "application/problem+json" in out and '"code":"invalid_quantity"' in out


def test_the_python_client_runs_on_any_store_again_and_again(tmp_path: Path) -> None:
    with running(tmp_path, "--db", str(tmp_path / "used.db")) as server:
        env = {**os.environ, "INMAIL_URL": server.url}
        for run in range(2):
            lines = _client(env).splitlines()
            assert re.fullmatch(r"subscribed alice-[0-9a-f]{8}: subscribed", lines[0]), lines
            assert lines[1].startswith("send: sent by rule send-inmail (R01") and "balance 4" in lines[1]
            decision = re.search(r"decision (\d+)", lines[1])
            assert decision and lines[2] == f"retry: replayed=True, same decision {decision[1]}"
            assert lines[3] == "balance: 4" and lines[4] == "refused: invalid_quantity", (run, lines)
        again = _client({**env, "ACCOUNT": "bob"}), _client({**env, "ACCOUNT": "bob"})
        assert again[1].splitlines()[0] == "subscribed bob: already (account_exists)"
        assert "replayed=True" in again[1] and "Traceback" not in "".join(again)


def _client(env: dict[str, str]) -> str:
    return _example([sys.executable, str(ROOT / "examples" / "client.py")], env)


def _example(command: list[str], env: dict[str, str]) -> str:
    """What an example printed; it must exit 0."""
    return subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
