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


TS = ROOT / "examples" / "ts"


def _npm(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["npm", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="Node.js and npm are not installed"
)
def test_the_typescript_client_is_generated_from_the_served_document_and_runs_twice(tmp_path: Path) -> None:
    """examples/ts: its types are what openapi-typescript makes of the served document, the client
    type-checks against them (a misspelt outcome does not), and it runs twice on one store."""
    work = tmp_path / "ts"
    shutil.copytree(TS, work, ignore=shutil.ignore_patterns("node_modules", "dist"))
    installed = _npm(["ci", "--prefer-offline", "--no-audit", "--no-fund"], work)
    if installed.returncode != 0:  # no registry and no npm cache: nothing of ours is at fault
        last = (installed.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"the example's npm packages cannot be installed here: {last}")
    folder = tmp_path / "server"
    folder.mkdir()
    with running(folder, "--db", str(tmp_path / "used.db")) as server:
        env = {**os.environ, "INMAIL_URL": server.url}
        fresh = _npm(
            ["exec", "--", "openapi-typescript", f"{server.url}/openapi.json", "-o", "fresh.d.ts"], work
        )
        assert fresh.returncode == 0, fresh.stderr
        assert (work / "fresh.d.ts").read_text() == (TS / "src" / "schema.d.ts").read_text(), (
            "examples/ts/src/schema.d.ts is not what the server documents: run `npm run generate` there"
        )
        (work / "fresh.d.ts").unlink()
        (work / "src" / "typo.ts").write_text(
            'import type { Code, Outcome } from "./client.js";\n'
            'export const outcome: Outcome = "snet";\nexport const code: Code = "unknwon_account";\n'
        )
        typo = _npm(["run", "-s", "check"], work)
        assert typo.returncode != 0 and '"snet"' in typo.stdout and '"unknwon_account"' in typo.stdout
        (work / "src" / "typo.ts").unlink()
        built = _npm(["run", "-s", "build"], work)  # tsc: the type check, then the JavaScript
        assert built.returncode == 0, built.stdout + built.stderr
        for _ in range(2):
            lines = _example(["node", str(work / "dist" / "client.js")], env).splitlines()
            assert re.fullmatch(r"subscribed ts-[0-9a-f]{8}: subscribed", lines[0]), lines
            assert lines[1].startswith("send: sent by rule send-inmail (R01") and "balance 4" in lines[1]
            decision = re.search(r"decision (\d+)", lines[1])
            assert decision and lines[2] == f"retry: replayed=true, same decision {decision[1]}"
            assert lines[3:] == ["balance: 4", "refused: invalid_quantity"], lines
        again = [
            _example(["node", str(work / "dist" / "client.js")], {**env, "ACCOUNT": "bob"}) for _ in "ab"
        ]
        assert again[1].splitlines()[0] == "subscribed bob: already (account_exists)"
