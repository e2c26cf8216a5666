"""Golden files: rendered diagnostics kept beside their cases, so a wording change is reviewed.

A missing golden file fails (it is never written silently); ``INMAIL_UPDATE_GOLDEN=1``
rewrites every golden file from the current output, for review in the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

UPDATE = os.environ.get("INMAIL_UPDATE_GOLDEN") == "1"


def check_golden(golden: Path, rendered: str) -> None:
    """Assert ``rendered`` equals ``golden``'s text (or rewrite it under INMAIL_UPDATE_GOLDEN=1)."""
    if UPDATE:
        golden.write_text(rendered, encoding="utf-8")
        return
    if not golden.exists():
        pytest.fail(f"{golden} is missing; run with INMAIL_UPDATE_GOLDEN=1, review it and commit it")
    assert rendered == golden.read_text(encoding="utf-8"), (
        f"diagnostics changed; review and rerun with INMAIL_UPDATE_GOLDEN=1 to update {golden.name}"
    )
