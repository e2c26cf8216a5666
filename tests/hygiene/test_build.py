"""The compiled build's guard: a compiled module older than its source stops ``import engine``."""

from __future__ import annotations

import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import engine
from engine._build import check_compiled


def _tree(root: Path, checkout: bool) -> tuple[Path, Path]:
    pkg = root / "engine"
    (pkg / "ledger").mkdir(parents=True)
    source = pkg / "ledger" / "lots.py"
    source.write_text("x = 1\n")
    ext = pkg / "ledger" / f"lots{EXTENSION_SUFFIXES[0]}"
    ext.write_bytes(b"")
    if checkout:
        (root / "pyproject.toml").write_text("")
    return source, ext


def test_a_stale_compiled_module_in_a_checkout_is_refused_with_the_fix(tmp_path: Path) -> None:
    _, ext = _tree(tmp_path, checkout=True)
    os.utime(ext, (1_000_000, 1_000_000))
    with pytest.raises(ImportError) as exc:
        check_compiled(tmp_path / "engine")
    assert "engine/ledger/lots.py" in str(exc.value) and "-delete" in str(exc.value)
    os.utime(ext, None)  # rebuilt: newer than its source
    assert check_compiled(tmp_path / "engine") is True


def test_an_installed_package_is_not_judged_by_its_file_times(tmp_path: Path) -> None:
    _, ext = _tree(tmp_path, checkout=False)
    os.utime(ext, (1_000_000, 1_000_000))
    assert check_compiled(tmp_path / "engine") is True


def test_a_plain_tree_is_the_plain_build(tmp_path: Path) -> None:
    (tmp_path / "engine" / "core").mkdir(parents=True)
    (tmp_path / "engine" / "core" / "calls.py").write_text("")
    assert check_compiled(tmp_path / "engine") is False
    assert isinstance(engine.COMPILED, bool)
