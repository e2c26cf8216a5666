"""The RuleBook: rules loaded, linted, compiled to durable_rules, and asked for decisions.

``RuleBook.load(rules_dir, policy)`` either gives a book whose every ruleset
is valid, or raises :class:`~engine.errors.InvalidRules` with every problem
found (nothing half-loaded). ``book.decide(event, facts)`` answers with a
:class:`~engine.model.Verdict` naming the rule that decided and the
requirements it cites.

Every decision is made by durable_rules. Because the same situation recurs on
every send, a book remembers answers in an *exact* memo: the key is the
tuple of the values of the facts its rules read (in a fixed order), so two
calls with equal keys cannot be decided differently; each distinct key is
decided by durable_rules the first time it is seen. The memo is bounded and
can be switched off (``memo=False`` or ``INMAIL_MEMO=0``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from engine.codes import C
from engine.errors import EngineError, InvalidCall, InvalidRules
from engine.events.base import FACT_TYPES
from engine.model import Verdict
from engine.policy import Policy
from engine.rules import catalog
from engine.rules._durable import field_name, limit_problems
from engine.rules.conditions import fact_problem
from engine.rules.lint import lint_file
from engine.rules.reader import Rule, RuleFile, read_rule_file, resolve_choices
from engine.source.diagnostics import Diagnostic, Diagnostics, Location, hint
from engine.source.marked import read_text
from engine.source.paths import PathProblem, path_kind, requirements_for, short_path
from engine.source.requirements import declared_requirements

if TYPE_CHECKING:
    from engine.rules._durable import DurableRunner

#: Distinct fact combinations remembered per event kind before the oldest are dropped.
MEMO_SIZE = 4096


def memo_default() -> bool:
    """The memo is on unless the environment says ``INMAIL_MEMO=0`` (or false/off/no)."""
    return os.environ.get("INMAIL_MEMO", "1").strip().lower() not in ("0", "false", "off", "no")


def load_rule_files(
    rules_dir: str | Path, policy: Policy, texts: Mapping[str, str] | None = None
) -> tuple[dict[str, RuleFile], list[Diagnostic], str]:
    """Read, check and lint every rules file: (files by event, warnings, content hash).

    Raises InvalidRules with every error (and the warnings) when anything is wrong.
    ``texts`` (file name -> text, as :meth:`RuleBook.texts` gives them) stand for the folder's
    files, which are then not read: the same checks, the same revision and diagnostics naming
    ``rules_dir``'s files, for texts checked elsewhere (a revision another worker accepted) that
    must load exactly as they were checked, whatever the folder holds now. The requirement ids a
    rule may cite are read each time from the requirements file for ``rules_dir``
    (:func:`~engine.source.paths.requirements_for`), which a revision does not snapshot.
    """
    root = Path(rules_dir)
    diags = Diagnostics()
    files: dict[str, RuleFile] = {}
    digest = hashlib.sha256(policy.digest.encode())
    if texts is None:
        try:
            found = path_kind(root) == "folder"
        except PathProblem as exc:
            diags.error(C.rules_not_found, str(exc), Location(short_path(root)))
            raise InvalidRules(diags.items) from None
        if not found:
            diags.error(
                C.rules_not_found,
                f"no rules folder `{root}`",
                Location(str(root)),
                help="pass --rules DIR, or run where a `rules/` folder is",
            )
            raise InvalidRules(diags.items)
        paths = sorted(root.glob("*.yaml"))
    else:
        paths = sorted(root / name for name in texts if Path(name).name == name and name.endswith(".yaml"))
    requirements = declared_requirements(requirements_for(root))  # the ids a rule may cite
    for path in paths:
        display = str(path)
        if path.stem not in catalog.EVENT_KINDS:
            diags.error(
                C.unknown_rules_file,
                f"`{path.name}` is not named after an event kind",
                Location(display),
                help=hint(path.stem, catalog.EVENT_KINDS),
            )
            continue
        text = read_text(path, diags, display) if texts is None else texts[path.name]
        if text is None:
            continue
        digest.update(f"\0{path.name}\0".encode())
        digest.update(text.encode("utf-8"))
        rf = read_rule_file(path, display, text, policy, diags, requirements)
        if rf is not None:
            rf = dataclasses.replace(rf, text=text)
            files[rf.event] = rf
            limits = limit_problems(rf)
            diags.extend(limits)
            if not limits:
                lint_file(rf, policy, diags)
    _unique_ids(files, diags)
    present = {p.stem for p in paths}
    for path in sorted(root.glob("*.yml")) if texts is None else ():
        diags.error(
            C.wrong_extension,
            f"`{path.name}` is not read: rules files end in `.yaml`",
            Location(str(path)),
            help=f"rename it to `{path.stem}.yaml`",
        )
    for kind in catalog.EVENT_KINDS:
        if kind not in present:
            diags.error(
                C.missing_rules_file,
                f"no rules for `{kind}` events: `{kind}.yaml` is missing",
                Location(str(root / f"{kind}.yaml")),
                help=f"every event kind needs a rules file; add `{kind}.yaml` with a catch-all rule",
            )
    if diags.has_errors():
        raise InvalidRules(diags.items)
    return files, diags.warnings, digest.hexdigest()[:12]


def _unique_ids(files: Mapping[str, RuleFile], diags: Diagnostics) -> None:
    """A rule id names one rule: decisions, ledger entries and coverage reports cite it alone."""
    seen: dict[str, Rule] = {}
    for rf in files.values():
        for rule in rf.rules:
            first = seen.setdefault(rule.id, rule)
            if first is not rule:
                diags.error(
                    C.duplicate_rule_id,
                    f"rule id `{rule.id}` is also used in {first.loc.file}:{first.loc.line}",
                    rule.loc,
                    help="rule ids must be unique across the rules folder; rename one",
                )


def _tuple_getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """``itemgetter`` that always gives a tuple (one name gives a bare value, none gives nothing)."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        one = itemgetter(names[0])
        return lambda facts: (one(facts),)
    return lambda facts: ()


class _EventTable:
    """Everything ``decide`` needs for one event kind, precomputed for the hot path."""

    def __init__(self, rf: RuleFile, policy: Policy) -> None:
        specs = catalog.CATALOG[rf.event]
        read = rf.facts_read()
        self.event = rf.event
        self.specs = specs
        #: every catalog fact, the ones the rules read first (the memo key is a prefix)
        self.names = (*read, *(n for n in specs if n not in read))
        self.n = len(self.names)
        self.nread = len(read)
        getter = itemgetter(*self.names)
        self.get = getter if self.n > 1 else (lambda facts: (getter(facts),))
        self.types = tuple(FACT_TYPES[specs[n].type][0] for n in self.names)
        #: the memo key straight from a facts mapping (the values of the facts the rules read)
        self.key: Callable[[Mapping[str, Any]], tuple[Any, ...]] = _tuple_getter(read)
        self.fields = tuple(field_name(n) for n in read)
        self.choices = tuple(
            (i, frozenset(resolve_choices(specs[n], policy) or ()))
            for i, n in enumerate(self.names)
            if specs[n].type == "str"
        )
        self.ints = tuple(i for i, n in enumerate(self.names) if specs[n].type == "int")
        self.verdicts = tuple(
            Verdict(rf.event, r.outcome, r.reason, r.effects, r.id, r.requirements) for r in rf.rules
        )
        self.memo: dict[tuple[Any, ...], Verdict] = {}


class RuleBook:
    """Loaded, compiled rules for every event kind; thread-safe ``decide``."""

    def __init__(
        self,
        files: Mapping[str, RuleFile],
        warnings: list[Diagnostic],
        revision: str,
        policy: Policy,
        memo: bool,
        memo_size: int = MEMO_SIZE,
    ) -> None:
        from engine.rules._durable import DurableRunner, compile_rulesets

        self.policy = policy
        self.revision = revision
        self.warnings = list(warnings)
        self.memo_enabled = memo
        self.memo_size = max(1, memo_size)
        self._files = dict(files)
        self._tables = {ev: _EventTable(rf, policy) for ev, rf in files.items()}
        self._lock = threading.Lock()
        self._closed = False
        self._runner: DurableRunner = DurableRunner(compile_rulesets(files.values()))
        # A book dropped without close() still hands its rulesets back when collected
        # (not at interpreter exit, when the extension may already be torn down).
        self._finalizer = weakref.finalize(self, self._runner.drop)
        self._finalizer.atexit = False

    @classmethod
    def load(
        cls,
        rules_dir: str | Path,
        policy: Policy,
        *,
        memo: bool | None = None,
        memo_size: int = MEMO_SIZE,
        texts: Mapping[str, str] | None = None,
    ) -> RuleBook:
        """Load and compile every rules file in ``rules_dir``; raises InvalidRules with every problem.

        ``texts``: the files' texts, given instead of read (see :func:`load_rule_files`).
        """
        files, warnings, digest = load_rule_files(rules_dir, policy, texts)
        return cls(files, warnings, digest, policy, memo_default() if memo is None else memo, memo_size)

    # -- reading -------------------------------------------------------------------------
    @property
    def events(self) -> tuple[str, ...]:
        return tuple(self._files)

    def texts(self) -> dict[str, str]:
        """The text of every rules file, by file name (what a store keeps for each revision)."""
        return {f"{event}.yaml": rf.text for event, rf in sorted(self._files.items())}

    def rules(self, event: str) -> list[Rule]:
        """The rules of ``event`` in the order they are tried."""
        return list(self._file(event).rules)

    def rule_file(self, event: str) -> RuleFile:
        return self._file(event)

    def facts_read(self, event: str) -> tuple[str, ...]:
        """The facts the rules of ``event`` read (the memo key, in this order)."""
        return self._file(event).facts_read()

    def _file(self, event: str) -> RuleFile:
        found = self._files.get(event) if isinstance(event, str) else None
        if found is None:
            raise C.unknown_event(f"no event kind `{event!s:.60}`", help=hint(str(event), self._files))
        return found

    # -- deciding ------------------------------------------------------------------------
    def decide(self, event: str, facts: Mapping[str, bool | int | str], *, checked: bool = True) -> Verdict:
        """The verdict of the first ``event`` rule that matches ``facts`` (every catalog fact, typed).

        ``checked=False`` is for the engine's own calls, whose facts are built
        from typed account state: a memo hit then skips re-validating the
        facts (the type and choice checks cost more than the lookup itself:
        bench/RESULTS.md, the 2026-11-27 run, "What changed"). A miss
        takes the checked path, so every memo key was validated and decided
        by durable_rules once; an unknown event or a missing fact still
        raises the same InvalidCall.
        """
        table = self._tables.get(event) if isinstance(event, str) else None
        if not checked and table is not None and self.memo_enabled and not self._closed:
            try:
                verdict = table.memo.get(table.key(facts))
            except (KeyError, TypeError):
                verdict = None
            if verdict is not None:
                return verdict
        if table is None:
            self._file(event)  # raises unknown_event
            raise AssertionError(event)  # pragma: no cover
        try:
            values = table.get(facts)
        except (KeyError, TypeError):
            raise self._bad_facts(table, facts) from None
        if len(facts) != table.n or tuple(map(type, values)) != table.types:
            raise self._bad_facts(table, facts)
        for i, allowed in table.choices:
            if values[i] not in allowed:
                raise self._bad_facts(table, facts)
        for i in table.ints:
            if not -catalog.MAX_FACT_INT <= values[i] <= catalog.MAX_FACT_INT:
                raise self._bad_facts(table, facts)
        key = values[: table.nread]
        if self.memo_enabled:
            verdict = table.memo.get(key)
            if verdict is not None:
                if self._closed:
                    raise C.closed("the rule book is closed")
                return verdict
        with self._lock:
            if self._closed:
                raise C.closed("the rule book is closed")
            position = self._runner.decide(event, dict(zip(table.fields, key, strict=True)))
            verdict = table.verdicts[position]
            if self.memo_enabled:
                if len(table.memo) >= self.memo_size:
                    table.memo.pop(next(iter(table.memo)))
                table.memo[key] = verdict
        return verdict

    def _bad_facts(self, table: _EventTable, facts: Any) -> EngineError:
        """Say exactly what is wrong with the facts of a call (the slow path)."""
        event = table.event
        if not isinstance(facts, Mapping):
            return C.invalid_fact(f"facts for `{event}` must be a mapping of fact name to value")
        problems: list[str] = []
        for name in facts:
            if name not in table.specs:
                problems.append(f"`{event}` has no fact `{name}` ({hint(str(name), table.specs)})")
        for name, spec in table.specs.items():
            if name not in facts:
                problems.append(f"fact `{name}` is missing")
                continue
            problem = fact_problem(name, facts[name], spec, self.policy)
            if problem is not None:
                said, help_ = problem
                problems.append(said if help_ is None else f"{said} ({help_})")
        return C.invalid_fact("; ".join(problems) or "invalid facts")

    def memo_info(self) -> dict[str, int]:
        """Remembered fact combinations per event kind (for tests and benchmarks)."""
        return {ev: len(t.memo) for ev, t in self._tables.items()}

    # -- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        """Hand the compiled rules back to the cache; later ``decide`` calls raise InvalidCall("closed").

        The cache frees them once it holds too many that no book uses (engine.rules._durable).
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._finalizer.detach()
            self._runner.close()

    def __enter__(self) -> RuleBook:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class RuleBookHolder:
    """The current RuleBook of a long-lived process, swapped only for one that validates.

    ``reload`` builds the new book completely first; if loading raises, the old
    book stays in force and the error propagates. The old book is closed after
    the swap (a ``decide`` still running on it finishes first: it holds the lock).
    """

    def __init__(self, book: RuleBook) -> None:
        self._book = book
        self._lock = threading.Lock()

    @classmethod
    def load(cls, rules_dir: str | Path, policy: Policy, **kwargs: Any) -> RuleBookHolder:
        return cls(RuleBook.load(rules_dir, policy, **kwargs))

    @property
    def book(self) -> RuleBook:
        return self._book

    @property
    def revision(self) -> str:
        return self._book.revision

    def decide(self, event: str, facts: Mapping[str, bool | int | str]) -> Verdict:
        book = self._book
        try:
            return book.decide(event, facts)
        except InvalidCall as exc:
            if exc.code == C.closed and self._book is not book:  # swapped while we were asking
                return self._book.decide(event, facts)
            raise

    def reload(self, rules_dir: str | Path, policy: Policy, **kwargs: Any) -> RuleBook:
        """Swap in the rules of ``rules_dir`` if they are valid; else raise and keep the old ones."""
        new = RuleBook.load(rules_dir, policy, **kwargs)
        with self._lock:
            old, self._book = self._book, new
        old.close()
        return new

    def close(self) -> None:
        self._book.close()
