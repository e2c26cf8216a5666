"""The policy folder a workbench edits: which files it may write, drafts, and saving safely.

A workbench writes ``policies.yaml`` and ``rules/<name>.yaml`` of its folder and
nothing else, whatever a request says: a file is named by the editor as
``policies.yaml`` or ``rules/<name>.yaml`` with a plain name, and the path is
built here from that name, never taken from the request. A folder without its
own policy or rules shows the packaged ones; the first save writes the folder's
copy (all rule files at once, so that ``./rules`` is complete as soon as it
exists).

Saving: the whole set of files, with the new text in place, must load and
compile; a file changed on disk since the editor opened it is refused
(``changed_on_disk``) rather than overwritten; the text goes to a temporary
file beside it (``.<name>.<random>.inmail-tmp``), is flushed to disk and renamed over
the old one, so a reader sees the old file or the new one, never half; that
file is created new under a random name, never opened through a path or link
already there. The text it replaces is kept, so the save can be undone.

In a git work tree a save (and an undo) is then a commit of exactly the files
it wrote (:mod:`engine.service.versions`); should git refuse it, the files are
put back, so the folder and its history agree.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from engine.codes import C
from engine.errors import EngineError, InvalidInput
from engine.policy import Policy, load_policy
from engine.rules.book import load_rule_files
from engine.rules.reader import RuleFile
from engine.service import versions
from engine.source.diagnostics import Diagnostic, Location
from engine.source.paths import packaged_policy_path, packaged_rules_dir

POLICY = "policies.yaml"
_RULE = re.compile(r"rules/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.yaml")
MAX_TEXT = 1_000_000


def token(text: str | None) -> str:
    """What the editor opened: a digest of the text on disk ("" for a file that is not there)."""
    return "" if text is None else hashlib.sha256(text.encode()).hexdigest()[:16]


class Folder:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._lock = threading.Lock()
        self._previous: dict[str, list[str | None]] = {}

    # --- which files ----------------------------------------------------------------------------

    def path(self, name: object) -> Path:
        """The folder's path for an editor's file name; ``invalid_file`` for anything else."""
        if name == POLICY:
            return self.root / POLICY
        m = _RULE.fullmatch(name) if isinstance(name, str) else None
        if m is None:
            raise C.invalid_file(
                f"the workbench edits `{POLICY}` and `rules/<name>.yaml` only, not `{str(name)[:80]}`",
            )
        return self.root / "rules" / f"{m.group(1)}.yaml"

    def _source(self, name: str) -> Path:
        """Where the text shown for ``name`` comes from: the folder's file, else the packaged one."""
        own = self.path(name)
        if name == POLICY:
            return own if own.is_file() else packaged_policy_path()
        return own if (self.root / "rules").is_dir() else packaged_rules_dir() / own.name

    def names(self) -> list[str]:
        rules = self.root / "rules" if (self.root / "rules").is_dir() else packaged_rules_dir()
        return [
            POLICY,
            *(f"rules/{p.name}" for p in sorted(rules.glob("*.yaml")) if _RULE.fullmatch(f"rules/{p.name}")),
        ]

    def read(self, name: str) -> str | None:
        path = self._source(name)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def files(self) -> list[dict[str, object]]:
        """Every editable file: its name, text, the token to save it with, and whether it is packaged."""
        out = []
        for name in self.names():
            text = self.read(name)
            out.append(
                {
                    "name": name,
                    "text": text or "",
                    "token": token(self.on_disk(name)),
                    "packaged": not self.path(name).is_file(),
                }
            )
        return out

    def on_disk(self, name: str) -> str | None:
        try:
            return self.path(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def scenarios(self) -> dict[str, Path]:
        """The folder's scenario files: ``scenarios/*.yaml`` and ``examples/scenarios/*.yaml``, by name."""
        found: dict[str, Path] = {}
        for sub in ("scenarios", "examples/scenarios"):
            for p in sorted((self.root / sub).glob("*.yaml")):
                if p.is_file() and not p.is_symlink():
                    found.setdefault(f"{sub}/{p.name}", p)
        return found

    # --- drafts ---------------------------------------------------------------------------------

    def draft_texts(self, changed: Mapping[str, str | None]) -> None:
        """``invalid_file`` unless every draft text names a file the workbench edits and is not too long."""
        for name, text in changed.items():
            self.path(name)
            if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
                raise C.invalid_file(f"`{name}` must be text of at most {MAX_TEXT:,} characters")

    @contextmanager
    def draft(self, changed: Mapping[str, str | None]) -> Iterator[tuple[Path, Path]]:
        """The folder's files with ``changed`` texts in place, written to a temporary folder: (policy
        file, rules folder), for the loaders. Nothing in the real folder is touched."""
        self.draft_texts(changed)
        with tempfile.TemporaryDirectory(prefix="inmail-draft-") as tmp:
            base = Path(tmp)
            (base / "rules").mkdir()
            for name in dict.fromkeys([*self.names(), *changed]):
                content = changed[name] if name in changed else self.read(name)
                if content is not None:
                    (base / name).write_text(content, encoding="utf-8")
            yield base / POLICY, base / "rules"

    def check(self, changed: Mapping[str, str | None]) -> tuple[Policy | None, str | None, list[Diagnostic]]:
        """Load and compile the draft: (policy or None, revision or None, diagnostics with folder names)."""
        with self.draft(changed) as (policy_path, rules_dir):
            prefix = str(policy_path.parent) + os.sep
            try:
                policy = load_policy(policy_path, display=POLICY)
            except InvalidInput as exc:
                return None, None, _renamed(exc.diagnostics, prefix)
            try:  # read, checked and linted, not compiled: durable_rules never frees a ruleset's handle
                _, warnings, revision = load_rule_files(rules_dir, policy)
                return policy, revision, _renamed(warnings, prefix)
            except InvalidInput as exc:
                return policy, None, _renamed(exc.diagnostics, prefix)

    def rule_files(self, changed: Mapping[str, str]) -> tuple[Policy, dict[str, RuleFile]]:
        """The draft's policy and its rules files, read and checked (not compiled); ``InvalidInput``
        with diagnostics naming the folder's files when either does not load."""
        with self.draft(changed) as (policy_path, rules_dir):
            prefix = str(policy_path.parent) + os.sep
            try:
                policy = load_policy(policy_path, display=POLICY)
                files, _, _ = load_rule_files(rules_dir, policy)
            except InvalidInput as exc:
                raise InvalidInput(_renamed(exc.diagnostics, prefix)) from None
            return policy, files

    # --- saving ---------------------------------------------------------------------------------

    def diff(self, name: str, text: str) -> str:
        old = self.read(name) or ""
        return "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{name} (saved)",
                f"{name} (draft)",
            )
        )

    def save(
        self,
        name: str,
        text: str,
        opened: str,
        vet: Callable[[Policy], None] | None = None,
        note: str | None = None,
        author: str | None = None,
    ) -> list[Diagnostic]:
        """Write ``text`` to ``name`` if the whole folder is then valid and nobody changed the file
        since it was opened (``opened``: its token then); return the problems, or [] once written.

        ``vet(policy)``, given the folder's policy as it would be, may refuse the save by raising
        (``plan_in_use``); it runs under the folder's lock, just before the write. In a git work
        tree the save is then a commit of the file(s) written (``note`` its message)."""
        self.path(name)
        with self._lock:
            if token(self.on_disk(name)) != opened:
                raise C.changed_on_disk(f"`{name}` changed on disk since it was opened; reload it first")
            return self._write({name: text}, vet, note or f"Edit {name} in the workbench", author)

    def write(
        self,
        changed: Mapping[str, str | None],
        vet: Callable[[Policy], None] | None = None,
        note: str = "Edit in the workbench",
        author: str | None = None,
    ) -> list[Diagnostic]:
        """Write several files at once (None: remove the file), checked as a save is; [] once written."""
        with self._lock:
            return self._write(changed, vet, note, author)

    def _write(
        self,
        changed: Mapping[str, str | None],
        vet: Callable[[Policy], None] | None,
        note: str,
        author: str | None,
    ) -> list[Diagnostic]:
        if not changed:
            return []
        policy, revision, found = self.check(changed)
        if policy is None or revision is None:
            return found
        if vet is not None:
            vet(policy)
        copied = any(n.startswith("rules/") for n in changed) and not (self.root / "rules").is_dir()
        if copied:
            self._copy_packaged_rules()
        before = {n: self.on_disk(n) for n in changed}
        for name, text in changed.items():
            self._previous.setdefault(name, []).append(before[name])
            self._put(name, text)
        written = sorted((self.root / "rules").glob("*.yaml")) if copied else []
        try:
            versions.commit(self.root, [*written, *(self.path(n) for n in changed)], note, author)
        except EngineError:
            for name in changed:  # files and history agree: the save is taken back
                self._previous[name].pop()
                self._put(name, before[name])
            if copied:
                shutil.rmtree(self.root / "rules", ignore_errors=True)
            raise
        return []

    def _put(self, name: str, text: str | None) -> None:
        if text is None:
            self.path(name).unlink(missing_ok=True)
        else:
            _write_atomically(self.path(name), text)

    def undo(self, name: str, vet: Callable[[Policy], None] | None = None, author: str | None = None) -> bool:
        """Put back the text the last save of ``name`` replaced (False when there is none to undo).

        ``vet`` as for :meth:`save`, given the policy the undo would bring back (undoing the save of
        ``policies.yaml`` that added a plan some account is on since is refused, and kept to undo)."""
        path = self.path(name)
        with self._lock:
            stack = self._previous.get(name)
            if not stack:
                return False
            before = stack[-1]
            if vet is not None and name == POLICY:
                back = before if before is not None else packaged_policy_path().read_text(encoding="utf-8")
                policy, _, _ = self.check({name: back})
                if policy is not None:
                    vet(policy)
            now = self.on_disk(name)
            stack.pop()
            self._put(name, before)
            try:
                versions.commit(self.root, [path], f"Undo the last save of {name}", author)
            except EngineError:
                stack.append(before)
                self._put(name, now)
                raise
            return True

    def _copy_packaged_rules(self) -> None:
        (self.root / "rules").mkdir()
        for src in sorted(packaged_rules_dir().glob("*.yaml")):
            _write_atomically(self.root / "rules" / src.name, src.read_text(encoding="utf-8"))


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file created new beside it, then renamed over it.

    The temporary file is made by :func:`tempfile.mkstemp` (``O_CREAT | O_EXCL``, a random name):
    a file or link someone left in the folder under a name we might have used is never opened,
    so a save cannot be turned into a write elsewhere. It gets the mode the file had (else the
    usual 0644), since mkstemp makes it private.
    """
    try:
        mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".inmail-tmp", dir=path.parent)
    except OSError as exc:
        raise C.unwritable_output(f"cannot write `{path.name}`: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), mode)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise C.unwritable_output(f"cannot write `{path.name}`: {exc.strerror}") from None


def _renamed(found: list[Diagnostic], prefix: str) -> list[Diagnostic]:
    """Diagnostics naming the folder's files (``rules/send.yaml``), not the draft's temporary copies."""
    out = []
    for d in found:
        loc = d.loc
        if loc is not None and loc.file.startswith(prefix):
            loc = Location(loc.file[len(prefix) :], loc.line, loc.column)
        out.append(Diagnostic(d.code, d.message, loc, d.help, d.severity))
    return out
