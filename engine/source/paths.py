"""Where the policy and rules come from, by the rule every command follows.

``./policies.yaml`` and ``./rules/`` in the current folder win (so an editor
sees their change at once); otherwise the copies packaged with the engine.
An explicit path always overrides both.
"""

from __future__ import annotations

from pathlib import Path

#: the `engine` package folder (this module sits one level below it)
_HERE = Path(__file__).resolve().parents[1]


def packaged_policy_path() -> Path:
    """The shipped policy: under ``engine/_data`` in a wheel, else at the repo root."""
    installed = _HERE / "_data" / "policies.yaml"
    return installed if installed.exists() else _HERE.parent / "policies.yaml"


def packaged_rules_dir() -> Path:
    """The shipped rules folder: under ``engine/_data`` in a wheel, else at the repo root."""
    installed = _HERE / "_data" / "rules"
    return installed if installed.is_dir() else _HERE.parent / "rules"


def resolve_policy(explicit: str | Path | None, cwd: Path | None = None) -> Path:
    if explicit is not None:
        return Path(explicit)
    local = (cwd or Path.cwd()) / "policies.yaml"
    return local if local.is_file() else packaged_policy_path()


def resolve_rules(explicit: str | Path | None, cwd: Path | None = None) -> Path:
    if explicit is not None:
        return Path(explicit)
    local = (cwd or Path.cwd()) / "rules"
    return local if local.is_dir() else packaged_rules_dir()
