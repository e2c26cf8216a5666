"""Diagnostics: the one way this project tells a person what is wrong with their input.

Policy editors fix typos in batches, so problems are collected (not raised at
the first one), sorted by position, capped, and rendered in the familiar
``file:line:col: code: message`` form with an optional ``help:`` line. The
``code`` is stable snake_case that tests assert; the wording may improve.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

#: How many diagnostics are shown before the rest are summarised.
MAX_SHOWN = 20


@dataclass(frozen=True, order=True)
class Location:
    """A position in a source file, 1-based like editors show it."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a user's file, pointing at its text."""

    code: str
    message: str
    loc: Location | None = None
    help: str | None = None
    severity: Severity = "error"

    def __post_init__(self) -> None:
        # a member of the catalog (engine.codes) is a str subclass: keep the plain text, as stored
        if type(self.code) is not str:
            object.__setattr__(self, "code", str(self.code))

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.loc or Location("")
        return (loc.file, loc.line, loc.column, self.code)

    def render(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        kind = "" if self.severity == "error" else "warning: "
        text = f"{where}{kind}{self.code}: {printable(self.message)}"
        if self.help:
            text += f"\n  help: {printable(self.help)}"
        return text


@dataclass
class Diagnostics:
    """A collector that stages append to; raise once at the end of a stage."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, loc: Location | None = None, help: str | None = None) -> None:
        self.items.append(Diagnostic(code, message, loc, help, "error"))

    def warning(self, code: str, message: str, loc: Location | None = None, help: str | None = None) -> None:
        self.items.append(Diagnostic(code, message, loc, help, "warning"))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)


#: Characters that would not show as themselves: controls (a newline, an escape), invisible
#: format characters (zero-width spaces, direction overrides, a byte-order mark), line and
#: paragraph separators and lone surrogates. The zero-width joiner inside emoji is let through.
_HIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e"
    "\u200b\u200c\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def hidden_characters(text: str) -> bool:
    """Whether ``text`` holds a character that would not show as itself (see :data:`_HIDDEN`)."""
    return _HIDDEN.search(text) is not None


#: A message longer than this is shortened in the middle: a 200,000-character value is not news.
MAX_MESSAGE = 400


def printable(text: str) -> str:
    """``text`` on one line (hidden characters as escapes) and at most :data:`MAX_MESSAGE` long."""
    if len(text) > MAX_MESSAGE:
        text = f"{text[: MAX_MESSAGE - 80]} ...({len(text) - MAX_MESSAGE + 60:,} characters)... {text[-20:]}"
    if _HIDDEN.search(text) is None:
        return text
    return _HIDDEN.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


def render_all(diagnostics: Iterable[Diagnostic], limit: int = MAX_SHOWN) -> str:
    """Render diagnostics sorted by position, at most ``limit`` of them."""
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    lines = [d.render() for d in ordered[:limit]]
    if len(ordered) > limit:
        lines.append(f"... and {len(ordered) - limit} more problems not shown")
    return "\n".join(lines)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The known name ``word`` is most likely a misspelling of, or None if nothing is close.

    The one similarity test of the project: every ``did you mean`` and every
    "this missing key was probably misspelt" decision asks here.
    """
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """Return a ``did you mean`` hint for a misspelt name, or None if nothing is close."""
    close = closest(word, candidates)
    return None if close is None else f"did you mean `{close}`?"


def expected_one_of(candidates: Iterable[str]) -> str:
    """A help line listing the allowed names, for when no near match exists."""
    names = ", ".join(f"`{c}`" for c in sorted(set(candidates)))
    return f"expected one of {names}"


def hint(word: str, candidates: Iterable[str]) -> str:
    """``did you mean`` when a name is close, else the list of allowed names."""
    pool = list(candidates)
    return did_you_mean(word, pool) or expected_one_of(pool)
