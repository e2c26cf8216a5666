"""A policy as it was at a git revision (``git:REV``), written out for the loaders to read.

A policy repository reviews an edit as a pull request, so the question a reviewer asks
is what the working tree changes against the base branch: ``inmail impact --base
git:origin/main``. The loaders read files, so the files of that revision are written
into a folder made for the purpose, from git's objects (``git cat-file``), never by a
checkout, which would touch the work tree someone is editing. Git is the git program,
run with a list of arguments and no shell, so a revision or a path is never read as
anything but itself.

This module sits below the catalog of codes (:mod:`engine.codes`): its problems carry
their code as text, which the tests check against the catalog, and the command line
raises them as the catalog's exceptions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from engine.source.paths import PathProblem, path_kind, short_path

#: How an option names a revision instead of a path: ``--base git:origin/main``.
PREFIX = "git:"

#: The modes of the tree entries written out: plain files (a link or a submodule is not a file).
_FILES = ("100644", "100755")

EntryKind = Literal["file", "folder", "missing", "other"]


class GitProblem(ValueError):
    """Git cannot answer: it is not installed, or the folder is not in a git work tree."""

    code = "git_unavailable"

    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.help = help


class UnknownRevision(GitProblem):
    """The repository has no commit by that name (a branch not fetched, a typo)."""

    code = "unknown_revision"


class NotFound(GitProblem):
    """No such file or folder: at the revision (the message names ``REV:path``), or to look in."""

    code = "file_not_found"


def revision_of(value: str | None) -> str | None:
    """The REV of an option's ``git:REV``; None for a path (``./git:x`` is a file named so)."""
    if value is None or not value.startswith(PREFIX):
        return None
    rev = value[len(PREFIX) :]
    if not rev.strip() or rev.startswith("-") or "\0" in rev:  # never an option of git's own
        raise UnknownRevision(
            f"`{value}` names no revision", help="write a branch, tag or commit: git:origin/main, git:HEAD~1"
        )
    return rev


@dataclass(frozen=True)
class Revision:
    """A commit of one repository, and the name it was asked for by."""

    name: str
    commit: str
    short: str
    #: the top folder of the work tree the name was looked up in
    top: Path

    @property
    def label(self) -> str:
        """How a report names it: ``git:origin/main (abc1234)``."""
        return f"{PREFIX}{self.name} ({self.short})"

    def at(self, inner: str) -> str:
        """``REV:path``, as a message names a file of this revision (and as git reads one)."""
        return f"{self.name}:{inner}"


def _git(
    args: list[str], cwd: Path, stdout: int | IO[bytes] = subprocess.PIPE
) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which("git")
    if exe is None:
        raise GitProblem(
            "git is not installed, so a `git:` revision cannot be read",
            help="install git, or give the base policy as a file (--base OLD.yaml)",
        )
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(
            [exe, *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, env=env
        )
    except OSError as exc:  # a folder that vanished, a git that cannot start
        raise GitProblem(f"cannot run git in `{cwd}`: {exc.strerror or exc}") from None


def _said(done: subprocess.CompletedProcess[bytes]) -> str:
    """Git's own complaint, one line, for the end of a message."""
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1].removeprefix("fatal: ").strip() if lines else f"git exited with {done.returncode}"


def locate(path: str | Path) -> tuple[Path, str]:
    """The work tree holding ``path`` (which need not exist; its folder must) and its path in it.

    Git answers from the folder, so a symbolic link on the way is followed as git follows it.
    """
    full = Path(os.path.abspath(path))
    folder = full.parent
    try:
        there = path_kind(folder)
    except PathProblem as exc:
        raise GitProblem(str(exc)) from None
    if there != "folder":
        raise NotFound(f"no folder `{short_path(folder)}` to look for a git work tree in")
    done = _git(["rev-parse", "--show-toplevel", "--show-prefix"], folder)
    if done.returncode != 0:
        raise GitProblem(
            f"`{short_path(folder)}` is not in a git work tree ({_said(done)})",
            help="run it in the policy's repository (or give --policy a file in one), "
            "or give the base policy as a file (--base OLD.yaml)",
        )
    lines = done.stdout.decode("utf-8", "surrogateescape").split("\n")
    return Path(lines[0]), (lines[1] if len(lines) > 1 else "") + full.name


def resolve(top: Path, name: str) -> Revision:
    """The commit ``name`` (a branch, tag, ``HEAD~1``, an id) means in the work tree at ``top``."""
    done = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}"], top)
    if done.returncode != 0:
        raise UnknownRevision(
            f"no revision `{name}` in the git repository at `{short_path(top)}`",
            help="check the name (`git log --oneline -3 " + name + "`); in CI, fetch it: "
            "actions/checkout with `fetch-depth: 0`, or `git fetch origin main`",
        )
    commit = done.stdout.decode("ascii").strip()
    short = _git(["rev-parse", "--short", commit], top)
    return Revision(name, commit, short.stdout.decode("ascii").strip() or commit[:7], top)


def _entries(rev: Revision, inner: str) -> list[tuple[str, str, str, str]]:
    """The entries (mode, type, object, name) of the folder ``inner`` at ``rev`` ("" is the top)."""
    done = _git(["ls-tree", "-z", f"{rev.commit}:{inner}"], rev.top)
    if done.returncode != 0:
        raise NotFound(f"no folder `{rev.at(inner)}` ({_said(done)})")
    out = []
    for item in done.stdout.split(b"\0"):
        if item:
            meta, _, name = item.partition(b"\t")
            mode, kind, obj = meta.decode("ascii").split(" ")
            out.append((mode, kind, obj, name.decode("utf-8", "surrogateescape")))
    return out


def kind_at(rev: Revision, inner: str) -> EntryKind:
    """What ``inner`` is at ``rev``: a plain file, a folder, missing, or other (a link, a submodule)."""
    folder, _, name = inner.rpartition("/")
    try:
        entries = _entries(rev, folder)
    except NotFound:
        return "missing"
    for mode, kind, _, entry in entries:
        if entry == name:
            if kind == "tree":
                return "folder"
            return "file" if mode in _FILES else "other"
    return "missing"


def _write_blob(rev: Revision, obj: str, dest: Path) -> None:
    """One file's bytes, streamed into ``dest``, which is created new (never through an existing path)."""
    with dest.open("xb") as out:
        done = _git(["cat-file", "blob", obj], rev.top, stdout=out)
    if done.returncode != 0:
        raise GitProblem(f"git cannot read `{dest.name}` at `{rev.name}` ({_said(done)})")


def write_file(rev: Revision, inner: str, dest: Path) -> None:
    """The file ``inner`` as it was at ``rev``, written to ``dest``."""
    kind = kind_at(rev, inner)
    if kind != "file":
        what = "no file" if kind == "missing" else "not a plain file"
        raise NotFound(
            f"{what} `{rev.at(inner)}` (commit {rev.short})",
            help=f"if it had another name then, give it as a file: git show {rev.name}:PATH > before.yaml, "
            "then --base before.yaml",
        )
    _write_blob(rev, f"{rev.commit}:{inner}", dest)


def write_folder(rev: Revision, inner: str, dest: Path) -> int:
    """The plain files directly in the folder ``inner`` at ``rev``, written into ``dest`` (made new).

    Only the folder's own files: the loaders read no subfolder, and a link is not followed.
    Returns how many files were written.
    """
    if kind_at(rev, inner) != "folder":
        raise NotFound(
            f"no folder `{rev.at(inner)}` (commit {rev.short})",
            help="give the rules as a folder (--base-rules DIR), or leave --base-rules out",
        )
    dest.mkdir(parents=True)
    written = 0
    for mode, kind, obj, name in _entries(rev, inner):
        if kind == "blob" and mode in _FILES and name not in ("", ".", "..") and "/" not in name:
            _write_blob(rev, obj, dest / name)
            written += 1
    return written
