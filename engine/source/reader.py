"""Typed reading of marked YAML: the checks every file format needs, written once.

The policy, rules and scenario loaders all ask the same questions of a node
(is it a mapping, are its keys known, is this a whole number, true/false, one
of these names) and must answer them in the same words, with the same codes
and ``did you mean``. A :class:`Reader` appends every problem to one
:class:`~engine.source.diagnostics.Diagnostics` and returns None for a value
it could not read, so a loader reads on and reports everything in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.source.diagnostics import Diagnostics, closest, expected_one_of, hidden_characters, hint
from engine.source.marked import YMap, YNode, YScalar, YSeq, type_name

#: Characters a name may not hold: C0 and C1 controls (terminal escapes among them), line and
#: paragraph separators, lone surrogates.


def control_characters(text: str) -> bool:
    """Whether ``text`` holds a character that would not show as itself (an escape, a newline, ...)."""
    return hidden_characters(text)


class Reader:
    """Readers that report to one :class:`Diagnostics` and never raise."""

    def __init__(self, diags: Diagnostics) -> None:
        self.d = diags

    # shapes ---------------------------------------------------------------------------------
    def mapping(self, node: YNode, what: str, help: str | None = None) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.d.error("wrong_type", f"{what} must be a mapping, found {type_name(node)}", node.loc, help=help)
        return None

    def seq(self, node: YNode, what: str) -> list[YNode]:
        if isinstance(node, YSeq):
            return list(node.items)
        self.d.error("wrong_type", f"{what} must be a list, found {type_name(node)}", node.loc)
        return []

    # keys -----------------------------------------------------------------------------------
    def unknown_keys(self, node: YMap, allowed: Iterable[str], where: str) -> set[str]:
        """Report keys not in ``allowed``; return the allowed keys they look like (typos)."""
        pool = list(allowed)
        meant: set[str] = set()
        for key in node.items:
            if key not in pool:
                close = closest(key, pool)
                if close is not None:
                    meant.add(close)
                self.d.error(
                    "unknown_key", f"unknown key `{key}` in {where}", node.key_loc(key), help=hint(key, pool)
                )
        return meant

    def require(self, node: YMap, keys: Iterable[str], where: str, allowed: Iterable[str] = ()) -> bool:
        """Report missing keys, except one that a misspelt key already points at (one error per typo)."""
        pool = set(allowed) | set(keys)
        typos = {closest(k, pool) for k in node.items if k not in pool}
        ok = True
        for key in keys:
            if key not in node:
                ok = False
                if key not in typos:
                    self.d.error("missing_key", f"{where} has no `{key}`", node.loc, help=f"add `{key}:`")
        return ok

    # values ---------------------------------------------------------------------------------
    def text(self, node: YNode, what: str) -> str | None:
        """A name: a non-empty string (a bare number like `42` is accepted as its text)."""
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.strip():
            if control_characters(node.value):
                self.d.error(
                    "invalid_name",
                    f"{what} {node.value!r} holds control characters",
                    node.loc,
                    help="names are shown as written: use letters, digits, `-`, `_` or spaces",
                )
                return None
            return node.value
        if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.raw
        self.d.error("wrong_type", f"{what} must be a name, found {type_name(node)}", node.loc)
        return None

    def whole(self, node: YNode, what: str) -> int | None:
        """A whole number (never `true`/`false`, never `1.5`)."""
        v = node.value if isinstance(node, YScalar) else None
        if isinstance(node, YScalar) and isinstance(v, float):
            self.d.error("not_an_integer", f"{what} must be a whole number, found `{node.raw}`", node.loc)
            return None
        if not isinstance(node, YScalar) or isinstance(v, bool) or not isinstance(v, int):
            self.d.error("wrong_type", f"{what} must be a whole number, found {type_name(node)}", node.loc)
            return None
        return v

    def number(self, node: YNode, what: str, low: int, high: int) -> int | None:
        """A whole number from ``low`` to ``high``: below is ``negative_number`` or ``out_of_range``."""
        v = self.whole(node, what)
        if v is None:
            return None
        if v < low:
            code = "negative_number" if v < 0 else "out_of_range"
            self.d.error(code, f"{what} must be at least {low}, found `{v}`", node.loc)
            return None
        if v > high:
            self.d.error("out_of_range", f"{what} must be at most {high}, found `{v}`", node.loc)
            return None
        return v

    def boolean(self, node: YNode, what: str) -> bool | None:
        if isinstance(node, YScalar) and isinstance(node.value, bool):
            return node.value
        self.d.error("wrong_type", f"{what} must be true or false, found {type_name(node)}", node.loc)
        return None

    def choice(self, node: YNode, what: str, choices: Iterable[str]) -> str | None:
        """One of ``choices``, else ``invalid_choice`` with ``did you mean``."""
        pool = tuple(choices)
        v = node.value if isinstance(node, YScalar) else None
        if isinstance(v, str) and v in pool:
            return v
        if isinstance(node, YScalar) and node.raw:
            self.d.error(
                "invalid_choice", f"{what} cannot be `{node.raw}`", node.loc, help=hint(node.raw, pool)
            )
        else:
            self.d.error(
                "invalid_choice",
                f"{what} must be a name, found {type_name(node)}",
                node.loc,
                help=expected_one_of(pool),
            )
        return None

    def choice_list(self, node: YNode, what: str, choices: Iterable[str]) -> tuple[str, ...] | None:
        """A list whose every item is one of ``choices``."""
        if not isinstance(node, YSeq):
            self.d.error("wrong_type", f"{what} must be a list, found {type_name(node)}", node.loc)
            return None
        pool = tuple(choices)
        got = (self.choice(item, f"an item of {what}", pool) for item in node.items)
        return tuple(v for v in got if v is not None)

    def named(self, node: YNode, what: str, names: Iterable[str], code: str, kind: str) -> str | None:
        """A name that must be one of ``names`` (a plan, a response type): else ``code`` with a hint."""
        name = self.text(node, what)
        if name is None:
            return None
        pool = list(names)
        if name not in pool:
            self.d.error(code, f"unknown {kind} `{name}`", node.loc, help=hint(name, pool))
            return None
        return name
