"""The README's front door stays true: its embedding snippet runs, twice, and prints what it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _python_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(blocks) == 1, "the README should hold exactly one Python snippet (the embedding one)"
    return blocks[0]


def _promised(snippet: str) -> list[str]:
    """What each print line's comment says it prints (the first words, before any comma)."""
    return [
        line.split("#", 1)[1].strip().split(",")[0]
        for line in snippet.splitlines()
        if line.lstrip().startswith("print(") and "#" in line
    ]


def test_the_embedding_snippet_runs_twice_with_the_same_answers(tmp_path: Path) -> None:
    snippet = _python_snippet()
    (tmp_path / "snippet.py").write_text(snippet, encoding="utf-8")
    outputs = []
    for _ in range(2):  # the second run meets the database the first one left
        done = subprocess.run(
            [sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    printed = outputs[0].splitlines()
    promised = _promised(snippet)
    assert len(printed) == len(promised) == 3
    for got, want in zip(printed, promised, strict=True):
        assert got.startswith(want), f"the README promises {want!r}, the snippet printed {got!r}"
