"""Versions of a workbench folder: every save a git commit, a history to read, compare and restore.

When the folder is in a git work tree, a save commits exactly the files it wrote
(``git commit --only``), so whatever else the person has staged or changed stays
as it was; the editor's note is the message. Reading an old revision goes
through git's objects (``git show REV:path``), never a checkout. Git is the git
program, run with a list of arguments and no shell; a revision from a request
is a hex commit id that git itself confirms, nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, Request

from engine.codes import C
from engine.errors import InvalidInput
from engine.policy import load_policy
from engine.policy.words import PLAN_COLUMNS
from engine.service import workbench_models as wm
from engine.service.problems import diagnostics
from engine.service.signin import editor_of
from engine.source.diagnostics import Diagnostic

POLICY = "policies.yaml"
MAX_COMMITS = 200
_REV = re.compile(r"[0-9a-fA-F]{7,40}")
_FALLBACK = ["-c", "user.name=inmail workbench", "-c", "user.email=workbench@localhost"]
_SEP = "\x1f"


def _git(root: Path, *args: str, identity: bool = False) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("git")
    if exe is None:
        raise C.git_unavailable("git is not installed")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    extra = _FALLBACK if identity and not _has_identity(exe, root, env) else []
    try:
        return subprocess.run(
            [exe, *extra, *args],
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
        )
    except OSError as exc:
        raise C.git_unavailable(f"cannot run git: {exc.strerror or exc}") from None


def _has_identity(exe: str, root: Path, env: dict[str, str]) -> bool:
    done = subprocess.run(
        [exe, "var", "GIT_COMMITTER_IDENT"], cwd=root, stdin=subprocess.DEVNULL, capture_output=True, env=env
    )
    return done.returncode == 0


def _said(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines() or done.stdout.strip().splitlines()
    return lines[-1].removeprefix("fatal: ").strip()[:200] if lines else f"git exited with {done.returncode}"


def tracked(root: Path) -> bool:
    """Whether ``root`` is in a git work tree (False also when git is not installed)."""
    if shutil.which("git") is None:
        return False
    done = _git(root, "rev-parse", "--is-inside-work-tree")
    return done.returncode == 0 and done.stdout.strip() == "true"


def author_of(author: str | None) -> str | None:
    """``Name <email>`` for git's ``--author``; a bare name gets the workbench's address."""
    if author is None or not author.strip():
        return None
    if any(c in author for c in "\n\r\0") or len(author) > 200:
        raise C.invalid_file("an author is one line of at most 200 characters: `Name <email>`")
    author = author.strip()
    return (
        author
        if re.fullmatch(r"[^<>]+ <[^<>]+>", author)
        else f"{author.replace('<', '').replace('>', '')} <workbench@localhost>"
    )


def commit(root: Path, paths: list[Path], note: str, author: str | None = None) -> None:
    """Commit exactly ``paths`` (written or removed) with the message ``note``; nothing when the folder
    is not in a git work tree or nothing changed; ``commit_failed`` when git refuses."""
    if not tracked(root):
        return
    who = author_of(author)  # refused before anything is staged
    names = [str(p.relative_to(root)) for p in paths]
    ignored = _git(root, "check-ignore", "--", *names).stdout.splitlines()
    names = [n for n in names if n not in ignored]  # a folder git is told to ignore: not versioned
    if not names:
        return
    add = _git(root, "add", "-A", "--", *names)
    if add.returncode != 0:
        raise C.commit_failed(f"git cannot add the files: {_said(add)}")
    if _git(root, "diff", "--cached", "--quiet", "--", *names).returncode == 0:
        return  # the same text again: nothing to commit
    done = _git(
        root,
        "commit",
        "--only",
        "-m",
        note,
        *([f"--author={who}"] if who else []),
        "--",
        *names,
        identity=True,
    )
    if done.returncode != 0:
        _git(root, "reset", "-q", "--", *names)  # unstage what was added for the commit
        raise C.commit_failed(f"git did not commit the save: {_said(done)}")


def history(root: Path) -> list[dict[str, Any]]:
    fmt = _SEP.join(["%H", "%h", "%an <%ae>", "%aI", "%s"])
    done = _git(
        root,
        "log",
        f"-n{MAX_COMMITS}",
        f"--format=\x1e{fmt}",
        "--name-only",
        "--relative",
        "--",
        POLICY,
        "rules",
    )
    if done.returncode != 0:
        return []  # a repository without commits yet
    out = []
    for chunk in done.stdout.split("\x1e")[1:]:
        head, _, rest = chunk.partition("\n")
        rev, short, author, when, note = head.split(_SEP, 4)
        files = [f for f in rest.splitlines() if f.strip()]
        out.append({"rev": rev, "short": short, "author": author, "when": when, "note": note, "files": files})
    return out


def revision(root: Path, rev: object) -> str:
    """The full commit id of ``rev``: a 7-40 hex string git knows as a commit; else ``unknown_revision``."""
    if not isinstance(rev, str) or not _REV.fullmatch(rev):
        raise C.unknown_revision(f"`{str(rev)[:60]}` is not a commit id (7 to 40 hex digits)")
    done = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if done.returncode != 0:
        raise C.unknown_revision(f"the repository has no commit `{rev}`")
    return done.stdout.strip()


def texts_at(root: Path, rev: str) -> dict[str, str]:
    """The policy and rule files of the folder at commit ``rev``, by the workbench's names."""
    done = _git(root, "ls-tree", "-r", "--name-only", rev, "--", POLICY, "rules")
    names = [n for n in done.stdout.splitlines() if n == POLICY or re.fullmatch(r"rules/[^/]+\.yaml", n)]
    out = {}
    for name in names:
        shown = _git(root, "show", f"{rev}:./{name}")
        if shown.returncode == 0:
            out[name] = shown.stdout
    return out


def diff(root: Path, a: str, b: str) -> str:
    done = _git(root, "diff", "--relative", a, b, "--", POLICY, "rules")
    return done.stdout


def plans(texts: dict[str, str]) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """The plan table of a revision's policy, or None and its diagnostics when it does not load."""
    if POLICY not in texts:
        return None, []
    with tempfile.TemporaryDirectory(prefix="inmail-version-") as tmp:
        path = Path(tmp) / POLICY
        path.write_text(texts[POLICY], encoding="utf-8")
        try:
            return load_policy(path, display=POLICY).plan_rows(), []
        except InvalidInput as exc:
            return None, diagnostics(exc.diagnostics)


def init(root: Path) -> None:
    """``git init`` in the folder and a first commit of its policy and rules (nothing else)."""
    if tracked(root):
        raise C.commit_failed("the folder is already in a git work tree")
    done = _git(root, "init", "-q")
    if done.returncode != 0:
        raise C.commit_failed(f"git init failed: {_said(done)}")
    paths = [p for p in (root / POLICY, root / "rules") if p.exists()]
    if not paths:
        return
    names = [str(p.relative_to(root)) for p in paths]
    _git(root, "add", "-A", "--", *names)
    made = _git(root, "commit", "-q", "-m", "Start versioning the policy", "--", *names, identity=True)
    if made.returncode != 0:
        raise C.commit_failed(f"git did not make the first commit: {_said(made)}")


class _Folder(Protocol):
    """What the History routes need of :class:`engine.service.folder.Folder` (which imports this module)."""

    root: Path

    def names(self) -> list[str]: ...

    def on_disk(self, name: str) -> str | None: ...

    def write(
        self, changed: Mapping[str, str | None], vet: Any = None, note: str = ..., author: str | None = None
    ) -> list[Diagnostic]: ...


def add_versions(r: APIRouter, folder: _Folder, reload: Callable[[], str], vet: Any) -> None:
    """The History routes under ``/wb/api/history``; ``reload()`` makes the service follow the folder
    after a restore, ``vet`` as for a save."""
    bad = wm.problem_responses(400, 403, 404, 409, 413, 415, 422)

    @r.get("/history", response_model=wm.HistoryOut)
    def history_route() -> dict[str, Any]:
        if not tracked(folder.root):
            return {"git": False, "commits": []}
        return {"git": True, "commits": history(folder.root)}

    @r.post("/history/init", response_model=wm.HistoryOut, responses=bad)
    def init_route() -> dict[str, Any]:
        init(folder.root)
        return {"git": True, "commits": history(folder.root)}

    @r.post("/history/diff", response_model=wm.VersionsDiffOut, responses=bad)
    def diff_route(body: wm.VersionsDiffBody) -> dict[str, Any]:
        a, b = revision(folder.root, body.from_), revision(folder.root, body.to)
        pa, da = plans(texts_at(folder.root, a))
        pb, db = plans(texts_at(folder.root, b))
        return {
            "diff": diff(folder.root, a, b),
            "plans": {"from": pa, "to": pb},
            "columns": dict(PLAN_COLUMNS),
            "diagnostics": {"from": da, "to": db},
        }

    @r.post("/history/restore", response_model=wm.RestoredOut, responses=bad)
    def restore_route(body: wm.RestoreBody, request: Request) -> dict[str, Any]:
        rev = revision(folder.root, body.rev)
        old = texts_at(folder.root, rev)
        changed: dict[str, str | None] = {n: t for n, t in old.items() if folder.on_disk(n) != t}
        for name in folder.names():  # rule files made since: gone again
            if name not in old and name != POLICY and folder.on_disk(name) is not None:
                changed[name] = None
        author = editor_of(request) or body.author
        found = folder.write(changed, vet, note=f"Restore {rev[:7]}", author=author)
        if found:
            raise InvalidInput(found)
        return {"rev": rev, "files": sorted(changed), "revision": reload()}
