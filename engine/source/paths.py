"""Where the policy and rules come from, by the rule every command follows.

``./policies.yaml`` and ``./rules/`` in the current folder win (so an editor
sees their change at once); otherwise the copies packaged with the engine.
An explicit path always overrides both. The requirements a rules folder may
cite are those of the ``features/REQUIREMENTS.md`` beside it, else the shipped one.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Literal

PathKind = Literal["missing", "file", "folder", "other"]

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


def packaged_requirements_path() -> Path:
    """The shipped requirements file: under ``engine/_data`` in a wheel, else in the repo's ``features``."""
    installed = _HERE / "_data" / "REQUIREMENTS.md"
    return installed if installed.exists() else _HERE.parent / "features" / "REQUIREMENTS.md"


def requirements_for(rules_dir: str | Path) -> Path:
    """The requirements file whose ids the rules of ``rules_dir`` may cite: ``features/REQUIREMENTS.md``
    beside the folder (a project's own), else the shipped one."""
    beside = Path(rules_dir).parent / "features" / "REQUIREMENTS.md"
    try:
        return beside if beside.is_file() else packaged_requirements_path()
    except (OSError, ValueError):  # a name the OS cannot look up: path_kind reports the folder itself
        return packaged_requirements_path()


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


class PathProblem(ValueError):
    """A path the operating system cannot even look up (too long, a NUL byte, not encodable)."""


def path_kind(path: str | os.PathLike[str]) -> PathKind:
    """What is at ``path``, without following it into a read; :class:`PathProblem` for an impossible name.

    ``Path.is_dir()`` and friends raise for a name the OS refuses (``ENAMETOOLONG``,
    an embedded NUL, a lone surrogate): every file the engine reads is looked
    up here first, so such a name is a diagnostic, never a traceback.
    """
    try:
        st = os.stat(path)
    except (ValueError, UnicodeError) as exc:
        raise PathProblem(f"`{short_path(path)}` is not a usable file name ({exc})") from None
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            return "missing"
        if exc.errno == errno.ENAMETOOLONG:
            raise PathProblem(f"`{short_path(path)}` is too long for a file name") from None
        raise PathProblem(f"cannot look up `{short_path(path)}`: {exc.strerror or exc}") from None
    if stat.S_ISREG(st.st_mode):
        return "file"
    return "folder" if stat.S_ISDIR(st.st_mode) else "other"


def short_path(path: str | os.PathLike[str]) -> str:
    """A path as a message shows it: at most 60 characters, hidden characters escaped."""
    text = os.fspath(path)
    shown = text if len(text) <= 60 else text[:40] + "..." + text[-12:]
    return shown.encode("unicode_escape", "backslashreplace").decode("ascii")
