"""examples/embed.py runs as an app developer would run it, and says what the docs promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_embed_example_runs(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "send: sent (rule send-inmail, R01, R05, R06), balance 4" in out
    assert "second send to carol: denied (awaiting_response)" in out
    assert "respond: credited_back, recorded as accepted, balance 5" in out
    assert "bad call refused: unknown_message" in out
    assert "alice has 10 credits on 2026-02-15:" in out
    assert "lot 2: 1/1 credit_back, expires 2026-04-20 08:30" in out
