"""Accepted revisions: a reload is checked once, then every worker loads exactly what was accepted.

Workers of one server must answer with one revision. Re-reading the policy
files in each worker after a reload was announced is not enough: a file
broken since would leave a worker on the revision before the accepted one,
and an edit nobody reloaded would be picked up by a worker that happened
to read later. So whoever accepts a reload (a worker on ``POST
/v1/policy/reload``, the supervisor on SIGHUP, ``inmail serve`` at start)
reads the files once, checks them (against the store too), and *publishes*
the texts it checked: every worker then loads those texts, checks that they
give the announced revision, and only then swaps its policy. The files are
not read again.

The publication lives in the server's private folder (``mkdtemp``: mode
0700, removed when the server stops):

- ``rev-<revision>-<random>.json``: one accepted revision: the policy text and
  the text of every rules file, as checked. Created new (``mkstemp``:
  ``O_EXCL``, never through an existing path), never changed afterwards.
- ``current``: the pointer, naming the revision and its snapshot file. It is
  replaced whole by renaming a new file over it, so a reader sees the old
  pointer or the new one. Its inode and modification time (set strictly
  forward on each publication) are what a worker compares on every call: one
  ``stat``.
- ``lock``: publishers take it (``flock``) to write the pointer and remove the
  snapshots it no longer names; a worker that finds its snapshot removed
  meanwhile reads the pointer again.

Texts, not paths, make a revision (its hash covers the policy text and each
rules file's name and text), so a revision loaded from a snapshot is the one
the files gave; diagnostics and ``GET /v1/policy`` still name the real files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from engine.codes import C
from engine.policy import Policy, load_policy
from engine.policy.load import policy_from_texts
from engine.rules.book import RuleBook

POINTER = "current"
_LOCK = "lock"
_PREFIX = "rev-"
#: Reads of the pointer and its snapshot, when snapshots keep being replaced under a reader.
_TRIES = 5


@dataclass(frozen=True)
class Accepted:
    """One accepted revision: the texts that were checked, and the revision they give."""

    revision: str
    policy: str  # the policy file's text
    override: str  # a policy override's text ("" for a server)
    rules: Mapping[str, str]  # rules file name -> text

    @classmethod
    def of(cls, book: RuleBook) -> Accepted:
        """The texts ``book`` (and its policy) were loaded from."""
        text, override = book.policy.texts
        return cls(book.revision, text, override, MappingProxyType(book.texts()))

    def load(self, policy_path: str | Path, rules_dir: str | Path) -> tuple[Policy, RuleBook]:
        """The policy and compiled rules of these texts, named after the files they came from.

        ``revision_mismatch`` if the texts do not give the revision announced with them
        (a snapshot changed by someone else), and nothing is kept.
        """
        pol = policy_from_texts(self.policy, self.override, source=str(policy_path))
        book = RuleBook.load(rules_dir, pol, texts=self.rules)
        if book.revision != self.revision:
            book.close()
            raise C.revision_mismatch(f"the texts published as revision {self.revision} give {book.revision}")
        return pol, book

    def to_json(self) -> str:
        return json.dumps(
            {
                "revision": self.revision,
                "policy": self.policy,
                "override": self.override,
                "rules": dict(self.rules),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Accepted:
        data = json.loads(text)
        return cls(
            str(data["revision"]),
            str(data["policy"]),
            str(data["override"]),
            MappingProxyType({str(k): str(v) for k, v in data["rules"].items()}),
        )


def read_files(policy_path: str | Path, rules_dir: str | Path) -> tuple[Policy, RuleBook]:
    """Read and check the policy file and the rules folder once (raises InvalidInput, with diagnostics)."""
    pol = load_policy(policy_path)
    return pol, RuleBook.load(rules_dir, pol)


@dataclass(frozen=True)
class Pointer:
    """What ``current`` says: the revision in force and the snapshot file holding its texts."""

    revision: str
    snapshot: str


#: What a worker compares on each call: the pointer's (inode, modification time), None if none.
Stamp = tuple[int, int] | None


class Revisions:
    """The accepted revisions of one server, in its private folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def stamp(self) -> Stamp:
        """The pointer's identity now: it changes with every publication (one ``stat``)."""
        try:
            st = os.stat(self.folder / POINTER)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def publish(self, accepted: Accepted) -> Pointer:
        """Write ``accepted`` as a new snapshot and point ``current`` at it; older snapshots go.

        All of it under the lock: a snapshot written by one publisher must not be taken for an
        old one by another that is removing old ones.
        """
        with self._locked():
            fd, path = tempfile.mkstemp(
                prefix=f"{_PREFIX}{accepted.revision}-", suffix=".json", dir=self.folder
            )
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(accepted.to_json())
            except BaseException:
                os.unlink(path)
                raise
            pointer = Pointer(accepted.revision, os.path.basename(path))
            fd, tmp = tempfile.mkstemp(prefix=".current-", dir=self.folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(json.dumps({"revision": pointer.revision, "snapshot": pointer.snapshot}))
                before = self.stamp()
                if before is not None:
                    # strictly later than the pointer it replaces (file times are coarse): a worker
                    # that saw that one sees a change, even if the new file reuses its inode
                    stamp = max(os.stat(tmp).st_mtime_ns, before[1] + 1)
                    os.utime(tmp, ns=(stamp, stamp))
                os.replace(tmp, self.folder / POINTER)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                with contextlib.suppress(OSError):
                    os.unlink(path)
                raise
            for old in self.folder.glob(f"{_PREFIX}*.json"):
                if old.name != pointer.snapshot:
                    with contextlib.suppress(OSError):
                        old.unlink()
        return pointer

    def latest(self) -> tuple[Pointer, Accepted] | None:
        """The pointer and the revision it names (None before the first publication).

        A snapshot removed between reading the pointer and opening it was replaced
        meanwhile: the pointer is read again.
        """
        for _ in range(_TRIES):
            try:
                data = json.loads((self.folder / POINTER).read_text(encoding="utf-8"))
            except FileNotFoundError:
                return None
            pointer = Pointer(str(data["revision"]), str(data["snapshot"]))
            try:
                text = (self.folder / pointer.snapshot).read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            accepted = Accepted.from_json(text)
            if accepted.revision != pointer.revision:
                raise C.revision_mismatch(
                    f"snapshot {pointer.snapshot} holds revision {accepted.revision}, not {pointer.revision}",
                )
            return pointer, accepted
        raise C.revision_busy("the published revision kept changing while it was read")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.folder / _LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock
