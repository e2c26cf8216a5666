"""Edits of a YAML text that change the edited values and nothing else.

The workbench's form and decision-table views change values in a file that a
person also edits by hand, so a form edit must leave every comment, blank line,
key order, quote and flow or block style where the person put it. ruamel.yaml's
round-trip dump comes close, but it keeps the blank lines and comments that
follow an entry with that entry, so an added key lands after the blank line
that separated two sections and a removed key takes the next section's blank
line with it. So every edit is a splice of the text at the exact span that
ruamel's round-trip composer gives each node, written in the document's own
style (its indentation, the quoting of the value it replaces, flow or block).
Each result is read back and must hold exactly the data the edits ask for;
when a construct defeats the splice (an alias, a compact nested list), the
round-trip dump writes the edits instead, with the document's indentation, and
is checked the same way.

New values are written so that both the engine's loader (YAML 1.2's core
schema) and a YAML 1.1 reader read them back as they were given: ``true`` and
``false``, plain whole numbers, and text plain only when no reader could take
it for something else (``"yes"``, ``"123"`` and ``"a: b"`` are quoted).

This module sits below the catalog of codes (engine.codes): it names its codes
as literals and raises :class:`EditRefused`, which a door turns into the
InvalidInput it renders (``engine.policy.form.apply_form_edits`` does).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from engine.source._splice import (
    compose,
    insert_index,
    mapping_step,
    nested,
    plain_ok,
    rt_yaml,
    sequence_indent,
    splice_all,
)
from engine.source.diagnostics import Diagnostic, Location, did_you_mean, hint, render_all
from engine.source.marked import MAX_BYTES, MAX_NODES

#: Keys of mappings and indexes of sequences, from the document's root.
Path = Sequence[str | int]
_EDIT_KEYS = ("path", "value", "remove")
_SHAPE = 'set a value with `{"path": [...], "value": ...}`; remove one with `{"path": [...], "remove": true}`'
#: How deep a new value may nest (a plan is two levels; a rule four).
_MAX_DEPTH = 32


class EditRefused(ValueError):
    """Edits that cannot be applied; nothing was changed. ``diagnostics`` say why and where."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__(render_all(self.diagnostics))


@dataclass(frozen=True)
class _Edit:
    path: tuple[str | int, ...]
    remove: bool
    value: Any = None


def apply_edits(
    text: str,
    edits: Sequence[Mapping[str, Any]],
    *,
    display: str = "<text>",
    order: Sequence[str] = (),
) -> str:
    """``text`` with ``edits`` applied in order, all of them or none; EditRefused says why not.

    Each edit is ``{"path": [...], "value": v}`` (set) or ``{"path": [...], "remove": True}``.
    Setting a key a mapping lacks adds it at the mapping's end, creating missing parent
    mappings; setting the item one past a sequence's end appends it. ``order`` is a key
    order to keep (the policy's top-level keys): a new key goes before the first sibling
    that comes after it there. ``display`` names the text in diagnostics.
    """
    if isinstance(edits, (str, bytes)) or not isinstance(edits, Sequence):
        raise _problem("the edits must be a list of edits", Location(display))
    parsed = [_edit(n, raw, display) for n, raw in enumerate(edits, 1)]
    if len(text) > MAX_BYTES:
        raise EditRefused(
            [
                Diagnostic(
                    "file_too_large", f"the text is longer than {MAX_BYTES:,} characters", Location(display)
                )
            ]
        )
    if not parsed:
        return text
    holder = [_load(text, display)]
    for n, edit in enumerate(parsed, 1):
        _apply(holder, n, edit, display, order)
    expected = _plain(holder[0], display)
    spliced = splice_all(text, [(e.path, e.remove, e.value) for e in parsed], order)
    if spliced is not None and _reads_as(spliced, expected, display):
        return spliced
    dumped = _dump(text, holder[0])
    if dumped is not None and _reads_as(dumped, expected, display):
        return dumped
    raise _problem(
        "the edits cannot be written into this text",
        Location(display),
        help="a value reached through an alias (`*name`) cannot be edited on its own; edit the text",
    )


# --- reading the edits and the text -----------------------------------------------------------


def _problem(message: str, loc: Location, help: str | None = None) -> EditRefused:
    return EditRefused([Diagnostic("invalid_edit", message, loc, help)])


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else f"{'.' if out else ''}{step}"
    return out


def _named(path: Sequence[str | int]) -> str:
    return f"`{_dotted(path)}`" if path else "the document"


def _edit(n: int, raw: Any, display: str) -> _Edit:
    where = Location(display)
    if not isinstance(raw, Mapping):
        raise _problem(f"edit {n} is not a mapping", where, help=_SHAPE)
    for key in raw:
        if key not in _EDIT_KEYS:
            raise _problem(f"edit {n} has an unknown key `{key}`", where, help=hint(str(key), _EDIT_KEYS))
    path = raw.get("path")
    if (
        not isinstance(path, (list, tuple))
        or not path
        or any(isinstance(s, bool) or not isinstance(s, (str, int)) for s in path)
    ):
        raise _problem(
            f"edit {n}: `path` must be a non-empty list of keys (text) and item indexes (whole numbers)",
            where,
            help=_SHAPE,
        )
    steps = tuple(path)
    if "remove" in raw:
        if "value" in raw:
            raise _problem(f"edit {n} both sets a `value` and has `remove`", where, help=_SHAPE)
        if raw["remove"] is not True:
            raise _problem(f"edit {n}: `remove` must be `true`", where, help=_SHAPE)
        return _Edit(steps, True)
    if "value" not in raw:
        raise _problem(f"edit {n} neither sets a `value` nor has `remove: true`", where, help=_SHAPE)
    wrong = _unsupported(raw["value"], 0)
    if wrong is not None:
        raise _problem(
            f"edit {n}: `{_dotted(steps)}` cannot be set to {wrong}",
            where,
            help="give true or false, a whole number, text, a list of those, or a mapping of such values",
        )
    return _Edit(steps, False, raw["value"])


def _unsupported(value: Any, depth: int) -> str | None:
    """What in ``value`` cannot be written (``a float (`1.5`)``), or None if all of it can."""
    if isinstance(value, (bool, int, str)):
        return None
    if depth > _MAX_DEPTH:
        return f"a value nested more than {_MAX_DEPTH} deep"
    if isinstance(value, (list, tuple)):
        odd = [v for v in value if not isinstance(v, (bool, int, str))]
        return f"a list holding {_kind(odd[0])}" if odd else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"a mapping with the key {_kind(key)}"
            wrong = _unsupported(item, depth + 1)
            if wrong is not None:
                return wrong
        return None
    return _kind(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    shown = repr(value)
    return f"a {type(value).__name__} (`{shown[:40]}{'...' if len(shown) > 40 else ''}`)"


def _load(text: str, display: str) -> Any:
    """The round-trip data of ``text`` (positions in ``.lc``), refused when it is not one YAML document."""
    try:
        return rt_yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display)
        dup = isinstance(exc, DuplicateKeyError)
        what = " ".join(str(exc.problem or exc.context or "unreadable").split())
        raise EditRefused(
            [
                Diagnostic(
                    "duplicate_key" if dup else "yaml_syntax", f"the text is not valid YAML: {what}", loc
                )
            ]
        ) from None
    except (YAMLError, RecursionError) as exc:
        raise EditRefused(
            [Diagnostic("yaml_syntax", f"the text is not valid YAML: {exc}", Location(display))]
        ) from None


def _plain(value: Any, display: str) -> Any:
    """Data to compare two readings by: scalars tagged with their kind (``True`` is not ``1``)."""
    budget = [MAX_NODES]

    def walk(v: Any) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise EditRefused(
                [Diagnostic("document_too_large", "the text expands to too many values", Location(display))]
            )
        if isinstance(v, Mapping):
            return {walk(k): walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        for kind in (bool, int, float, str):
            if isinstance(v, kind):
                return (kind.__name__, repr(kind(v)))
        return (type(v).__name__, str(v))

    return walk(value)


def _reads_as(text: str, expected: Any, display: str) -> bool:
    try:
        return _plain(rt_yaml().load(text), display) == expected
    except (YAMLError, RecursionError, EditRefused):
        return False


# --- the data: checking each path, and what the text must hold afterwards ---------------------


def _loc(container: Any, step: str | int, display: str, fallback: Location) -> Location:
    try:
        line, col = container.lc.item(step) if isinstance(step, int) else container.lc.value(step)
    except (AttributeError, KeyError, IndexError, TypeError):
        return fallback
    return Location(display, line + 1, col + 1)


def _apply(holder: list[Any], n: int, edit: _Edit, display: str, order: Sequence[str]) -> None:
    """Apply one edit to the round-trip data, refusing a path that does not fit it."""
    path = edit.path
    if holder[0] is None:
        if edit.remove:
            raise _problem(
                f"edit {n}: the text is empty; there is no `{_dotted(path)}` to remove", Location(display)
            )
        holder[0] = CommentedMap()
    cur = holder[0]
    loc = Location(display, 1, 1)
    for depth, step in enumerate(path):
        here, last = path[:depth], depth == len(path) - 1
        if isinstance(cur, Mapping):
            if not isinstance(step, str):
                raise _problem(f"edit {n}: {_named(here)} is a mapping: name a key, not item {step}", loc)
            if step not in cur:
                if edit.remove:
                    keys = [str(k) for k in cur]
                    raise _problem(
                        f"edit {n}: there is no `{_dotted(path[: depth + 1])}` to remove",
                        loc,
                        did_you_mean(step, keys),
                    )
                rest = path[depth + 1 :]
                index = next((s for s in rest if isinstance(s, int)), None)
                if index is not None:
                    raise _problem(
                        f"edit {n}: there is no `{_dotted(path[: depth + 1])}`, so no item {index} in it", loc
                    )
                _insert(cur, step, _rt(nested(rest, edit.value)), order)
                return
        elif isinstance(cur, list):
            if not isinstance(step, int):
                raise _problem(
                    f"edit {n}: {_named(here)} is a list: give an index (0 is the first item), not `{step}`",
                    loc,
                )
            size = len(cur)
            if not 0 <= step <= size or (step == size and (edit.remove or not last)):
                span = f"items 0 to {size - 1}" if size else "no items"
                raise _problem(
                    f"edit {n}: {_named(here)} has {span}; there is no item {step}",
                    loc,
                    help=f"set item {size} to add one at the end",
                )
            if step == size:
                cur.append(_rt(edit.value))
                return
        else:
            shown = "empty" if cur is None else f"the value `{cur}`"
            raise _problem(
                f"edit {n}: {_named(here)} is {shown}, not a mapping or a list with `{step}` in it", loc
            )
        if last:
            if edit.remove:
                del cur[step]
            else:
                cur[step] = _rt(edit.value)
            return
        loc = _loc(cur, step, display, loc)
        cur = cur[step]


def _insert(mapping: Any, key: str, value: Any, order: Sequence[str]) -> None:
    before = insert_index(list(mapping), key, order)
    if before is None:
        mapping[key] = value
    else:
        mapping.insert(before, key, value)


def _rt(value: Any) -> Any:
    """A new value as round-trip data, so that a dump writes it as the splice would."""
    if isinstance(value, str):
        return value if plain_ok(value, flow=True) else DoubleQuotedScalarString(value)
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _rt(v)
        return out
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq(_rt(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


# --- the fallback: ruamel's round-trip dump ---------------------------------------------------


def _dump(text: str, data: Any) -> str | None:
    """``data`` dumped with the document's indentation, or None if it cannot be."""
    try:
        root = compose(text)
        y = rt_yaml()
        mapping = mapping_step(root) if root is not None else 2
        sequence, offset = sequence_indent(root) if root is not None else (mapping + 2, mapping)
        y.indent(mapping=mapping, sequence=sequence, offset=offset)
        out = io.StringIO()
        y.dump(data, out)
        return out.getvalue()
    except (YAMLError, RecursionError, ValueError, TypeError):
        return None
