"""Editor schemas for the YAML people write: ``policy.json``, ``rules.json``, ``scenario.json``.

They ship beside this module and are generated from the loaders' own tables
(:mod:`engine.schema.build`); ``python -m engine.schema`` rewrites them, and a
test fails when a shipped file differs from what the tables give. The shipped
YAML files name them in a ``# yaml-language-server: $schema=...`` first line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.schema.build import KINDS, schema

SCHEMA_DIR = Path(__file__).resolve().parent

__all__ = ["KINDS", "SCHEMA_DIR", "render", "schema", "schema_path", "write_all"]


def schema_path(kind: str) -> Path:
    """Where the shipped schema of ``kind`` is."""
    return SCHEMA_DIR / f"{kind}.json"


def render(value: dict[str, Any]) -> str:
    """A schema as the shipped files hold it (stable key order, two-space indent, final newline)."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def write_all() -> list[Path]:
    """Regenerate every shipped schema; return the files written."""
    out = []
    for kind in KINDS:
        path = schema_path(kind)
        path.write_text(render(schema(kind)), encoding="utf-8")
        out.append(path)
    return out
