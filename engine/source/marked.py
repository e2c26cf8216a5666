"""Safe YAML reading that keeps every value's position in the file.

PyYAML's plain ``safe_load`` loses line numbers, keeps the last of two
duplicate keys silently, and expands aliases without bound. Policy editors
need all three handled, so files are *composed* into nodes and converted
here into small marked values (:class:`YMap`, :class:`YSeq`,
:class:`YScalar`), refusing duplicate keys, non-standard tags, alias bombs,
oversized files and non-mapping documents with precise diagnostics.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.source.diagnostics import Diagnostics, Location
from engine.source.paths import PathProblem, path_kind, short_path

#: Files larger than this are refused before parsing.
MAX_BYTES = 1_000_000
#: Values visited while converting; aliases re-visit nodes, so this bounds expansion.
MAX_NODES = 100_000

_STD = "tag:yaml.org,2002:"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the plain scalars of YAML 1.2's core schema.

    YAML 1.1, which PyYAML implements, reads ``yes``/``no``/``on``/``off`` as
    true/false, ``017`` as octal 15, ``0x10`` as 16, ``1:30`` as 90 and
    ``2026-01-15`` as a date object. A policy editor means none of that, so
    only ``true``/``false``, decimal numbers and ``null`` are read as such;
    every other plain scalar is text (times are read from text by the
    scenario loader, which can then say precisely what is wrong with one).
    """


_Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    ("float", r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?$", "-+.0123456789"),
    ("float", r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+."),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^<<$", "<"),  # recognised so that it can be refused with its own diagnostic
):
    _Loader.add_implicit_resolver(_STD + _tag, re.compile(_pattern), list(_first))
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}


@dataclass(frozen=True)
class YScalar:
    """A scalar with its position; ``raw`` is the text as written."""

    value: Any
    loc: Location
    raw: str = ""

    def plain(self) -> Any:
        return self.value


@dataclass(frozen=True)
class YSeq:
    items: tuple[YNode, ...]
    loc: Location

    def plain(self) -> list[Any]:
        return [i.plain() for i in self.items]

    def __iter__(self) -> Iterator[YNode]:
        return iter(self.items)


@dataclass(frozen=True)
class YMap:
    """A mapping whose keys are strings; ``key_locs`` points at each key."""

    items: dict[str, YNode]
    loc: Location
    key_locs: dict[str, Location] = field(default_factory=dict)

    def plain(self) -> dict[str, Any]:
        return {k: v.plain() for k, v in self.items.items()}

    def get(self, key: str) -> YNode | None:
        return self.items.get(key)

    def key_loc(self, key: str) -> Location:
        return self.key_locs.get(key, self.loc)

    def __contains__(self, key: object) -> bool:
        return key in self.items


YNode = YScalar | YSeq | YMap


def _short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:python/object`` as the author wrote it: ``!!python/object``."""
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


def _loc(file: str, node: yaml.Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


class _Converter:
    def __init__(self, file: str, diags: Diagnostics) -> None:
        self.file = file
        self.diags = diags
        self.visited = 0
        self.too_big = False
        self.constructor = yaml.SafeLoader("")

    def convert(self, node: yaml.Node) -> YNode | None:
        self.visited += 1
        if self.visited > MAX_NODES:
            if not self.too_big:
                self.too_big = True
                self.diags.error(
                    "document_too_large",
                    f"the document expands to more than {MAX_NODES} values (aliases expanding too much?)",
                    _loc(self.file, node),
                )
            return None
        loc = _loc(self.file, node)
        if node.tag not in _ALLOWED_TAGS:
            self.diags.error(
                "forbidden_tag",
                f"the tag `{_short_tag(node.tag)}` is not allowed",
                loc,
                help="write plain values; YAML tags that build objects are refused",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            items = [self.convert(n) for n in node.value]
            return YSeq(tuple(i for i in items if i is not None), loc)
        assert isinstance(node, yaml.ScalarNode)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self.diags.error("invalid_value", f"cannot read `{node.value}`: {exc}", loc)
            return None
        return YScalar(value, loc, str(node.value))

    def _mapping(self, node: yaml.MappingNode, loc: Location) -> YMap | None:
        items: dict[str, YNode] = {}
        key_locs: dict[str, Location] = {}
        for key_node, value_node in node.value:
            key_loc = _loc(self.file, key_node)
            if key_node.tag == _STD + "merge":
                self.diags.error(
                    "forbidden_tag",
                    "merge keys (`<<`) are not allowed",
                    key_loc,
                    help="write the values out in full; merged mappings hide where a value comes from",
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _ALLOWED_TAGS:
                self.diags.error("invalid_key", "keys must be plain names", key_loc)
                continue
            key = str(key_node.value)
            if key in items:
                first = key_locs[key]
                self.diags.error(
                    "duplicate_key",
                    f"the key `{key}` appears twice in this mapping",
                    key_loc,
                    help=f"the first `{key}` is at line {first.line}; keep one of them",
                )
                continue
            value = self.convert(value_node)
            if value is None:
                continue
            items[key] = value
            key_locs[key] = key_loc
        return YMap(items, loc, key_locs)


def _syntax_help(exc: yaml.MarkedYAMLError) -> str | None:
    """Plain words for PyYAML's commonest complaints, and where the broken part began."""
    problem = exc.problem or ""
    context = exc.context or ""
    start = exc.context_mark.line + 1 if exc.context_mark else None
    if "\\t" in problem:  # PyYAML shows the tab as \t
        return "indent with spaces; tab characters cannot indent YAML"
    if "another document" in problem:
        return "a file holds one document: remove the `---` line and what follows, or merge them"
    if "mapping values are not allowed" in problem:
        return "put text that contains `: ` in quotes, or check the indentation of this line"
    if "flow sequence" in context and start:
        return f"the list opened with `[` at line {start} is not closed with `]`"
    if "flow mapping" in context and start:
        return f"the mapping opened with `{{` at line {start} is not closed with `}}`"
    if "block end" in problem and start:
        return f"check the indentation: the keys of the mapping starting at line {start} must line up"
    if "quoted scalar" in context and start:
        return f"the quoted text starting at line {start} has no closing quote"
    if context and start and (exc.problem_mark is None or exc.problem_mark.line + 1 != start):
        return f"the problem began at line {start} ({context})"
    return None


#: Texts parsed cleanly of late: every engine opened, every reload and every workbench click
#: reads the same policy and rules texts again (often a copy under another name), and PyYAML's
#: pure-Python composer was most of the cost of opening an engine. The marked values are frozen
#: and no reader changes them, so one parse serves every caller; the same text under another
#: name is the same values at the same lines under that name (:func:`_renamed`). Only small
#: texts that parsed without a problem are kept (a problem must be found, and reported, afresh),
#: the most recent :data:`PARSED_KEPT`.
PARSED_KEPT = 64
_PARSED_MAX_CHARS = 64 * 1024
_parsed: OrderedDict[str, YNode] = OrderedDict()
_parsed_lock = threading.Lock()


def parse_text(text: str, file: str, diags: Diagnostics) -> YNode | None:
    """Parse YAML text into marked values; problems go to ``diags``."""
    with _parsed_lock:
        node = _parsed.get(text)
        if node is not None:
            _parsed.move_to_end(text)
    if node is not None:
        if node.loc.file == file:
            return node
        try:
            node = _renamed(node, file)
        except RecursionError:  # deeper than this stack allows now: read it again
            node = None
    before = len(diags.items)
    if node is None:
        node = _parse(text, file, diags)
    if node is not None and len(diags.items) == before and len(text) <= _PARSED_MAX_CHARS:
        with _parsed_lock:
            _parsed[text] = node
            _parsed.move_to_end(text)
            while len(_parsed) > PARSED_KEPT:
                _parsed.popitem(last=False)
    return node


def _renamed(node: YNode, file: str) -> YNode:
    """``node`` as read from ``file``: the same values at the same lines, under that name."""
    loc = Location(file, node.loc.line, node.loc.column)
    if isinstance(node, YScalar):
        return YScalar(node.value, loc, node.raw)
    if isinstance(node, YSeq):
        return YSeq(tuple(_renamed(i, file) for i in node.items), loc)
    return YMap(
        {k: _renamed(v, file) for k, v in node.items.items()},
        loc,
        {k: Location(file, at.line, at.column) for k, at in node.key_locs.items()},
    )


def _parse(text: str, file: str, diags: Diagnostics) -> YNode | None:
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        diags.error("file_too_large", f"the file is larger than {MAX_BYTES} bytes", Location(file))
        return None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        problem = exc.problem or exc.context or "invalid YAML"
        diags.error("yaml_syntax", problem, loc, help=_syntax_help(exc))
        return None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        loc = Location(file, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        diags.error(
            "yaml_syntax",
            f"the character {char} is not allowed in YAML",
            loc,
            help="remove it (control characters often come from copying text out of another program)",
        )
        return None
    except yaml.YAMLError as exc:
        diags.error("yaml_syntax", str(exc).splitlines()[0], Location(file))
        return None
    except RecursionError:
        diags.error("document_too_large", "the document nests too deeply", Location(file))
        return None
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _STD + "null" and node.value == ""):
        # Only comments, or a bare `---`: the same mistake for a person either way.
        diags.error("empty_file", "the file is empty", Location(file, 1, 1))
        return None
    try:
        return _Converter(file, diags).convert(node)
    except RecursionError:
        diags.error("document_too_large", "the document nests too deeply", Location(file))
        return None


def read_text(path: str | Path, diags: Diagnostics, display: str | None = None) -> str | None:
    """Read a text file with size and encoding checks; problems go to ``diags``."""
    name = display or str(path)
    p = Path(path)
    try:
        kind = path_kind(p)
    except PathProblem as exc:
        diags.error("unreadable_file", str(exc), Location(short_path(name)))
        return None
    if kind == "folder":
        diags.error("file_not_found", f"`{name}` is a folder, not a file", Location(name))
        return None
    if kind == "other":  # a pipe or a device: reading could block or never end
        diags.error(
            "unreadable_file",
            f"`{name}` is not a regular file",
            Location(name),
            help="give the path of a YAML file",
        )
        return None
    try:
        # Read at most one byte past the limit: the size on disk says nothing for a pipe or
        # a device (`--policy /dev/zero`), and a file may grow while it is read.
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            diags.error("file_too_large", f"the file is larger than {MAX_BYTES} bytes", Location(name))
            return None
        # Universal newlines, as text-mode reading would give, so the digest ignores CRLF.
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError:
        diags.error("file_not_found", f"no such file `{name}`", Location(name))
    except IsADirectoryError:
        diags.error("file_not_found", f"`{name}` is a folder, not a file", Location(name))
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        diags.error(
            "not_utf8",
            f"the byte 0x{data[exc.start]:02x} is not UTF-8 text",
            Location(name, line, column),
            help="save the file as UTF-8 (editors call it `UTF-8` or `Unicode`)",
        )
    except OSError as exc:
        diags.error("unreadable_file", f"cannot read `{name}`: {exc.strerror or exc}", Location(name))
    return None


def read_file(path: str | Path, diags: Diagnostics, display: str | None = None) -> YNode | None:
    """Read and parse a YAML file; a missing or unreadable file is a diagnostic."""
    text = read_text(path, diags, display)
    if text is None:
        return None
    return parse_text(text, display or str(path), diags)


def type_name(node: YNode) -> str:
    """The plain-words name of a node's type, for messages."""
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    v = node.value
    if v is None:
        return "nothing (null)"
    if isinstance(v, bool):
        return f"`{str(v).lower()}` (true/false)"
    if isinstance(v, int):
        return f"the number `{v}`"
    if isinstance(v, float):
        return f"the number `{v}`"
    if isinstance(v, dt.datetime | dt.date):
        return f"the date `{node.raw}`"
    return f"the text `{v}`"
