"""The text side of :mod:`engine.source.roundtrip`: each edit written as a splice of the text.

ruamel's composer gives every node its exact span; an edit replaces, inserts
or deletes text at those spans, in the style the document already has (its
indentation step, the quotes or block style of the value replaced, flow or
block), and touches no other byte. What it cannot do exactly it refuses with
:class:`Unsupported`, and the caller writes the edits another way.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

#: One edit: (path, remove, value).
Job = tuple[tuple[str | int, ...], bool, Any]
#: The collections on the way to a node, each with the index of the entry taken.
_Chain = list[tuple[CollectionNode, int]]


class Unsupported(Exception):
    """A construct the splice does not write exactly (an alias, a compact nested list)."""


def rt_yaml() -> YAML:
    """ruamel's round-trip reader and writer, keeping quotes and never folding a line."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 1 << 30
    return y


def compose(text: str) -> Node | None:
    return rt_yaml().compose(text)


def nested(rest: Sequence[str | int], value: Any) -> Any:
    """``value`` under the missing mappings ``rest`` names."""
    for key in reversed(rest):
        value = {key: value}
    return value


def insert_index(keys: Sequence[Any], key: str, order: Sequence[str]) -> int | None:
    """Where a new ``key`` goes to keep ``order``: before the first later sibling (None: at the end)."""
    if key not in order:
        return None
    rank = order.index(key)
    return next((i for i, k in enumerate(keys) if k in order and order.index(k) > rank), None)


# --- writing values ---------------------------------------------------------------------------

_RESOLVE_11 = yaml.resolver.Resolver()
_RESOLVE_12 = VersionedResolver(version=(1, 2))
_STR_TAG = "tag:yaml.org,2002:str"
_INDICATORS = "-?:,[]{}#&*!|>'\"%@`"
#: YAML 1.1's booleans that PyYAML leaves out; another reader may not.
_ONE_LETTER = frozenset("yYnN")


def plain_ok(s: str, flow: bool) -> bool:
    """Whether ``s`` may be written unquoted and read back, by every reader, as this text."""
    if not s or s != s.strip() or not s.isprintable() or s[0] in _INDICATORS or s.startswith("..."):
        return False
    if ": " in s or " #" in s or s.endswith(":") or s in _ONE_LETTER:
        return False
    if flow and any(c in ",[]{}:?" for c in s):  # PyYAML ends flow plain text at `:` and `?` too
        return False
    old = _RESOLVE_11.resolve(yaml.ScalarNode, s, (True, False))
    new = _RESOLVE_12.resolve(ScalarNode, s, (True, False))
    return str(old) == str(new) == _STR_TAG


def _double(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
    return '"' + "".join(out) + '"'


def _string(s: str, flow: bool, style: str | None = None) -> str:
    if style == "'" and s.isprintable():
        return "'" + s.replace("'", "''") + "'"
    if style not in ("'", '"') and plain_ok(s, flow):
        return s
    return _double(s)


def _inline(value: Any, flow: bool) -> str:
    """``value`` on one line: a scalar, or a flow list or mapping."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value, flow)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_string(k, True)}: {_inline(v, True)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(_inline(v, True) for v in value) + "]"


def _block(mapping: Mapping[str, Any], col: int, step: int, nl: str) -> str:
    """A block mapping whose keys start at ``col``, without a final line break."""
    return nl.join(
        " " * col + _string(k, False) + ":" + _after_colon(v, col, step, nl) for k, v in mapping.items()
    )


def _after_colon(value: Any, col: int, step: int, nl: str) -> str:
    """What follows ``key:`` for ``value``, when the key starts at ``col``."""
    if isinstance(value, Mapping) and value:
        return nl + _block(value, col + step, step, nl)
    return " " + _inline(value, False)


def _item(value: Any, col: int, step: int, nl: str) -> str:
    """What follows ``- `` for ``value``, when the item starts at ``col``."""
    if isinstance(value, Mapping) and value:
        return _block(value, col, step, nl)[col:]
    return _inline(value, False)


# --- the splice -------------------------------------------------------------------------------


def splice_all(text: str, jobs: Sequence[Job], order: Sequence[str]) -> str | None:
    """The text with every edit spliced in, or None when a construct defeats the splice."""
    queue: deque[Job] = deque(jobs)
    try:
        while queue:
            out = _splice(text, *queue.popleft(), order)
            if isinstance(out, str):
                text = out
            else:
                queue.extendleft(reversed(out))
    except (Unsupported, YAMLError, RecursionError, ValueError):
        return None
    return text


def _splice(
    text: str, path: tuple[str | int, ...], remove: bool, value: Any, order: Sequence[str]
) -> str | list[Job]:
    """One edit: the new text, or smaller edits (a mapping or a list set entry by entry)."""
    nl = "\r\n" if "\r\n" in text else "\n"
    root = compose(text)
    if root is None:
        if remove or not isinstance(path[0], str):
            raise Unsupported
        body = _string(path[0], False) + ":" + _after_colon(nested(path[1:], value), 0, 2, nl) + nl
        return text + (nl if text and not text.endswith("\n") else "") + body
    step = mapping_step(root)
    node: Node = root
    chain: _Chain = []
    for depth, key in enumerate(path):
        if isinstance(node, MappingNode) and isinstance(key, str):
            i = next(
                (j for j, (k, _) in enumerate(node.value) if isinstance(k, ScalarNode) and k.value == key),
                None,
            )
            if i is None:
                return _add_key(text, node, chain, key, nested(path[depth + 1 :], value), order, step, nl)
            if node.value[i][1].start_mark.index < node.value[i][0].end_mark.index:
                raise Unsupported  # an alias: its node is the anchor's, elsewhere in the text
        elif isinstance(node, SequenceNode) and isinstance(key, int):
            i = key
            if i == len(node.value):
                return _append_item(text, node, chain, value, step, nl)
        else:
            raise Unsupported
        chain.append((node, i))
        node = _child(node, i)
    if remove:
        return _remove(text, chain, step, nl)
    return _set(text, path, node, chain, value, step, nl)


def _child(node: Node, i: int) -> Node:
    entry = node.value[i]
    return entry[1] if isinstance(node, MappingNode) else entry


def _in_flow(chain: Sequence[tuple[CollectionNode, int]]) -> bool:
    return any(bool(n.flow_style) for n, _ in chain)


def mapping_step(root: Node) -> int:
    """How far the document indents a block mapping under its key (the most common step; else 2)."""
    steps: Counter[int] = Counter()

    def walk(node: Node, depth: int) -> None:
        if depth > 100:
            return
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(value, MappingNode) and value.value and not value.flow_style:
                    first = value.value[0][0]
                    if first.start_mark.line > key.start_mark.line:
                        steps[first.start_mark.column - key.start_mark.column] += 1
                walk(value, depth + 1)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                walk(item, depth + 1)

    walk(root, 0)
    good = [(n, s) for s, n in steps.items() if s > 0]
    return max(good)[1] if good else 2


def _end(text: str, node: Node) -> int:
    """Where ``node``'s own text ends (a block scalar without its trailing blank lines)."""
    if isinstance(node, ScalarNode):
        if node.style in ("|", ">"):
            span = text[node.start_mark.index : node.end_mark.index]
            return node.start_mark.index + len(re.sub(r"(?:\r?\n[ \t]*)+$", "", span))
        return int(node.end_mark.index)
    if not isinstance(node, CollectionNode) or node.flow_style or not node.value:
        return int(node.end_mark.index)
    return _end(text, _child(node, len(node.value) - 1))


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    """Where the line holding ``pos`` ends, before its line break."""
    end = text.find("\n", pos)
    if end < 0:
        return len(text)
    return end - 1 if end and text[end - 1] == "\r" else end


def _next_line(text: str, pos: int) -> int:
    """The start of the line after the one holding ``pos`` (the text's length on its last line)."""
    end = text.find("\n", pos)
    return len(text) if end < 0 else end + 1


def _blank_before(text: str, line_start: int) -> bool:
    return line_start > 0 and text[_line_start(text, line_start - 1) : line_start].strip() == ""


def _above_comments(text: str, line_start: int) -> int:
    """The start of the comment lines directly above a line (they belong to it), else the line's."""
    while line_start > 0:
        above = _line_start(text, line_start - 1)
        if not text[above:line_start].strip().startswith("#"):
            break
        line_start = above
    return line_start


def _insert_after_line(text: str, pos: int, lines: str, nl: str) -> str:
    end = text.find("\n", pos)
    if end < 0:
        return text + nl + lines
    return text[: end + 1] + lines + text[end + 1 :]


def _same(node: ScalarNode, value: Any) -> bool:
    tag, raw = str(node.tag), str(node.value)
    if isinstance(value, bool):
        return tag.endswith(":bool") and raw.lower() == str(value).lower()
    if isinstance(value, int):
        try:
            return tag.endswith(":int") and int(raw.replace("_", ""), 0) == value
        except ValueError:
            return False
    return isinstance(value, str) and tag == _STR_TAG and raw == value


def _set(
    text: str,
    path: tuple[str | int, ...],
    node: Node,
    chain: _Chain,
    value: Any,
    step: int,
    nl: str,
) -> str | list[Job]:
    if isinstance(value, Mapping) and isinstance(node, MappingNode):
        keys = [k.value for k, _ in node.value]
        jobs: list[Job] = [((*path, k), True, None) for k in reversed(keys) if k not in value]
        return jobs + [((*path, k), False, v) for k, v in value.items()]
    if isinstance(value, (list, tuple)) and isinstance(node, SequenceNode):
        old = len(node.value)
        jobs = [((*path, i), False, v) for i, v in enumerate(value)]
        return jobs + [((*path, i), True, None) for i in range(old - 1, len(value) - 1, -1)]
    flow = _in_flow(chain)
    if isinstance(node, ScalarNode) and isinstance(value, (bool, int, str)) and (node.value or node.style):
        if _same(node, value):
            return text
        start = node.start_mark.index
        return text[:start] + _scalar(text, node, value, flow, nl) + text[_end(text, node) :]
    return _replace(text, node, chain, value, flow, step, nl)


def _scalar(text: str, node: ScalarNode, value: bool | int | str, flow: bool, nl: str) -> str:
    """A scalar in place of ``node``, in its style where the new value allows it."""
    if not isinstance(value, str):
        return _inline(value, flow)
    if node.style in ("|", ">"):
        kept = _block_scalar(text, node, value, nl)
        if kept is not None:
            return kept
    return _string(value, flow, node.style)


def _block_scalar(text: str, node: ScalarNode, value: str, nl: str) -> str | None:
    """``value`` as a ``|`` or ``>`` block under the old one's header, or None if it cannot be one."""
    start = node.start_mark.index
    header = text[start : text.find("\n", start)].rstrip("\r")
    indicator = header.split("#")[0].strip()
    if any(c.isdigit() for c in indicator) or "+" in indicator:
        return None
    if "-" in indicator:
        body = value
    elif value.endswith("\n"):
        body = value[:-1]
    else:
        return None
    lines = body.split("\n")
    if not body or body[0] in " \t" or body.endswith("\n") or not all(line.isprintable() for line in lines):
        return None
    if node.style == ">" and len(lines) > 1:
        return None
    content = text[text.find("\n", start) + 1 : _end(text, node)]
    first = next((line for line in content.split("\n") if line.strip()), None)
    if first is None:
        return None
    indent = " " * (len(first) - len(first.lstrip(" ")))
    return header + nl + nl.join(indent + line if line else "" for line in lines)


def _replace(text: str, node: Node, chain: _Chain, value: Any, flow: bool, step: int, nl: str) -> str:
    """A value of another kind (a list for a scalar, a mapping for null) in place of ``node``."""
    empty = isinstance(node, ScalarNode) and not node.value and not node.style
    parent, i = chain[-1]
    if not flow and isinstance(parent, MappingNode):
        key = parent.value[i][0]
        colon = text.index(":", key.end_mark.index) + 1
        end = colon if empty else _end(text, node)
        return text[:colon] + _after_colon(value, key.start_mark.column, step, nl) + text[end:]
    if empty:
        raise Unsupported
    start = node.start_mark.index
    new = _inline(value, True) if flow else _item(value, node.start_mark.column, step, nl)
    return text[:start] + new + text[_end(text, node) :]


def _add_key(
    text: str,
    node: MappingNode,
    chain: _Chain,
    key: str,
    value: Any,
    order: Sequence[str],
    step: int,
    nl: str,
) -> str:
    before = insert_index([k.value for k, _ in node.value], key, order)
    if node.flow_style or _in_flow(chain):
        entry = f"{_string(key, True)}: {_inline(value, True)}"
        if before is not None:
            pos = node.value[before][0].start_mark.index
            return text[:pos] + entry + ", " + text[pos:]
        if not node.value:
            pos = text.index("{", node.start_mark.index) + 1
            return text[:pos] + entry + text[pos:]
        pos = _end(text, node.value[-1][1])
        return text[:pos] + ", " + entry + text[pos:]
    col = node.value[0][0].start_mark.column
    entry = " " * col + _string(key, False) + ":" + _after_colon(value, col, step, nl) + nl
    if before is not None:
        anchor = node.value[before][0].start_mark.index
        if text[_line_start(text, anchor) : anchor].strip():
            raise Unsupported  # the key shares its line (`- key:`)
        at = _above_comments(text, _line_start(text, anchor))
        return text[:at] + entry + (nl if _blank_before(text, at) else "") + text[at:]
    last_key, last_value = node.value[-1]
    blank = _blank_before(text, _above_comments(text, _line_start(text, last_key.start_mark.index)))
    return _insert_after_line(text, _end(text, last_value), (nl if blank else "") + entry, nl)


def _append_item(text: str, node: SequenceNode, chain: _Chain, value: Any, step: int, nl: str) -> str:
    if node.flow_style or _in_flow(chain):
        item = _inline(value, True)
        if not node.value:
            pos = text.index("[", node.start_mark.index) + 1
            return text[:pos] + item + text[pos:]
        pos = _end(text, node.value[-1])
        return text[:pos] + ", " + item + text[pos:]
    dash = node.start_mark.index
    first, last = node.value[0], node.value[-1]
    for item in (first, last):
        before = text[_line_start(text, item.start_mark.index) : item.start_mark.index]
        if before.strip() != "-":
            raise Unsupported  # an item that does not follow its own `- ` (`- - a`, or `-` alone)
    col = first.start_mark.column
    dash_col = dash - _line_start(text, dash)
    line = " " * dash_col + "-" + " " * (col - dash_col - 1) + _item(value, col, step, nl) + nl
    blank = _blank_before(text, _line_start(text, last.start_mark.index))
    return _insert_after_line(text, _end(text, last), (nl if blank else "") + line, nl)


def _spans(text: str, node: Node) -> Iterator[tuple[int, int]]:
    for entry in node.value:
        first, own = (entry[0], entry[1]) if isinstance(node, MappingNode) else (entry, entry)
        yield first.start_mark.index, _end(text, own)


def _remove(text: str, chain: _Chain, step: int, nl: str) -> str:
    parent, i = chain[-1]
    spans = list(_spans(text, parent))
    start, end = spans[i]
    if parent.flow_style or _in_flow(chain[:-1]):
        if len(spans) == 1:
            return text[:start] + text[end:]
        if i < len(spans) - 1:
            return text[:start] + text[spans[i + 1][0] :]
        return text[: spans[i - 1][1]] + text[end:]
    mapping = isinstance(parent, MappingNode)
    if len(spans) == 1 and len(chain) > 1:  # the last entry goes: `key: {}`, not a null `key:`
        empty: dict[str, Any] | list[Any] = {} if mapping else []
        grand, j = chain[-2]
        if not isinstance(grand, MappingNode):
            return _replace(text, parent, chain[:-1], empty, False, step, nl)
        colon = text.index(":", grand.value[j][0].end_mark.index) + 1
        own = text[colon : _line_end(text, colon)]  # a comment on the `key:` line stays
        return text[:colon] + " " + _inline(empty, False) + own + text[_line_end(text, end) :]
    a = _line_start(text, start)
    lead = text[a:start].strip()
    if mapping and lead == "-" and i == 0 and len(spans) > 1:
        return text[:start] + text[spans[1][0] :]  # `- key: v` loses its first key; the next moves up
    if lead != ("" if mapping else "-"):
        raise Unsupported
    b = _next_line(text, end)
    if len(spans) == 1:  # the document's last entry: it becomes an empty mapping or list
        return text[:a] + ("{}" if mapping else "[]") + nl + text[b:]
    after = text[b : _next_line(text, b)]
    if _blank_before(text, a) and after.strip() == "":
        a = _line_start(text, a - 1)  # the blank line that separated it goes with it
    return text[:a] + text[b:]


def sequence_indent(root: Node) -> tuple[int, int]:
    """(item column, dash column) of the first block list under a key, relative to the key."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(value, SequenceNode) and value.value and not value.flow_style:
                    col = key.start_mark.column
                    return value.value[0].start_mark.column - col, value.start_mark.column - col
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return 4, 2
