"""The exception family of the engine.

One base class, :class:`EngineError`, carries a stable ``code`` and the exit
code the CLI uses, so the CLI catches it once and never shows a traceback.
Every code, and the one class that carries it, is listed in the catalog
(:mod:`engine.codes`, public as ``engine.CODES``); raise sites build their
exception through it, never with a code of their own.
Input problems found in files (policy, rules, scenarios) carry a list of
:class:`~engine.source.diagnostics.Diagnostic`; problems with an API call carry a
single code and message. Nothing is written to the store when one is raised.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.source.diagnostics import Diagnostic, render_all


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code: str = "engine_error"
    exit_code: int = 2

    def __init__(self, message: str, code: str | None = None, help: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = str(code)  # a plain str, also when given a member of the catalog
        self.message = message
        #: A way out, when one is known (``did you mean `x`?``); the CLI shows it as a ``help:`` line.
        self.help = help

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" + (f" ({self.help})" if self.help else "")


class InvalidInput(EngineError):
    """A file (policy, rules or scenario) failed validation; see ``diagnostics``."""

    code = "invalid_input"

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        super().__init__(render_all(self.diagnostics), first.code if first else self.code)

    def __str__(self) -> str:
        return self.message


class InvalidPolicy(InvalidInput):
    """``policies.yaml`` (or a scenario's ``policy:`` override) is not a valid policy."""


class InvalidRules(InvalidInput):
    """A file in ``rules/`` is not a valid ruleset."""


class InvalidScenario(InvalidInput):
    """A scenario file is malformed or refers to things that do not exist."""


class InvalidCall(EngineError):
    """An API call that cannot be carried out; nothing was changed.

    Its codes are the catalog's members whose ``exc`` is this class
    (``[c for c in engine.CODES if c.exc is InvalidCall]``, or the README's
    table of codes): they are not listed here, so this list cannot go stale.
    """

    code = "invalid_call"


class RuleEngineFailure(EngineError):
    """The rule engine misbehaved (an action raised, or no rule matched).

    This is a bug in the engine or its rules, never a user's mistake; the
    event that triggered it was not applied.
    """

    code = "rule_engine_failure"
    exit_code = 3


class StoreUnavailable(EngineError):
    """The database refused or lost a call's transaction; nothing was written, so it may be retried.

    ``code`` is ``store_conflict`` when another process's transaction got in
    the way (a row made at the same moment, a deadlock, a lock not granted in
    time): trying again will do. It is ``store_unavailable`` when the database
    cannot be reached or answered with an error of its own.
    """

    code = "store_unavailable"
    exit_code = 3


class PlotUnavailable(EngineError):
    """``--plot`` cannot write its chart (a missing matplotlib is ``missing_dependency``, as for
    every optional package)."""

    code = "unwritable_file"
