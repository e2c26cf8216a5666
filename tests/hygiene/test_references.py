"""Docstrings and comments under engine/ name only modules, names and files that exist.

A reference that outlives a rename (``engine/facts.py``, ``MsgRec.row``,
``engine.service.render``) sends a reader to nothing. This reads every module's
comments and strings with the tokenizer and resolves, from the source alone (no
import): Sphinx roles (``:mod:``, ``:func:``, ``:class:``, ``:meth:``, ``:data:``,
``:attr:``, ``:exc:``), double-backticked ``engine.`` paths, and paths of the
project's files (``docs/semantics.md``). A name is looked up where it is written
(the module's own names and imports, a class's members), then, as Sphinx does, in
every engine module; a name outside the engine (the standard library, a
dependency) is not checked.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"

ROLE = re.compile(r":(?:mod|func|class|meth|data|attr|exc|obj):`~?([A-Za-z_][\w.]*)`")
DOTTED = re.compile(r"``(engine(?:\.[A-Za-z_]\w*)+)(?:\(\))?``")
FILE = re.compile(
    r"\b((?:engine|bench|docs|features|rules|tests|examples)/[\w./-]+\.(?:py|md|yaml|json|feature))\b"
)


class _Module:
    """What a module defines, from its syntax tree: its names, its classes' members, its imports."""

    def __init__(self, path: Path) -> None:
        self.path = path
        rel = path.relative_to(ROOT).with_suffix("").parts
        self.name = ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        self.names: set[str] = set()
        self.members: dict[str, set[str]] = {}
        self.imports: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                self.members[node.name] = _members(node)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.names.add(node.id)
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    self.imports[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    self.imports[a.asname or a.name.split(".")[0]] = a.name


def _members(cls: ast.ClassDef) -> set[str]:
    """A class's methods, class attributes, ``self.x`` attributes and ``__slots__``."""
    out: set[str] = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in ("self", "cls"):
                out.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.add(node.value)  # a __slots__ entry (a stray string only makes the check lenient)
    return out


MODULES = {m.name: m for m in (_Module(p) for p in sorted(ENGINE.rglob("*.py")))}


def _in(mod: _Module, parts: list[str], depth: int = 0) -> bool:
    """Whether ``parts`` (a name, then attributes) resolves in ``mod``."""
    if not parts:
        return True
    head, rest = parts[0], parts[1:]
    if head in mod.members:
        return not rest or rest[0] in mod.members[head]
    if head in mod.imports:
        target = mod.imports[head].split(".")
        return target[0] != "engine" or depth > 5 or _resolves([*target, *rest], mod, depth + 1)
    if f"{mod.name}.{head}" in MODULES:
        return _in(MODULES[f"{mod.name}.{head}"], rest, depth)
    return head in mod.names and len(rest) <= 1


def _resolves(parts: list[str], here: _Module, depth: int = 0) -> bool:
    if parts[0] == "engine":
        for i in range(len(parts), 0, -1):
            if ".".join(parts[:i]) in MODULES:
                return _in(MODULES[".".join(parts[:i])], parts[i:], depth)
        return False
    if _in(here, parts, depth):
        return True
    try:
        if importlib.util.find_spec(parts[0]) is not None:
            return True  # the standard library or a dependency: not ours to check
    except (ImportError, ValueError):
        pass
    if len(parts) == 1 and any(parts[0] in ms for m in MODULES.values() for ms in m.members.values()):
        return True  # a method named in its class's own docstrings (``:meth:`reload```)
    return any(parts[0] in m.names and _in(m, parts) for m in MODULES.values())


def _texts(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    return [
        (tok.start[0], tok.string)
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type in (tokenize.COMMENT, tokenize.STRING)
    ]


def test_docstrings_and_comments_name_what_exists() -> None:
    missing = []
    for mod in MODULES.values():
        where = mod.path.relative_to(ROOT)
        for line, text in _texts(mod.path):
            for name in ROLE.findall(text) + DOTTED.findall(text):
                if not _resolves(name.split("."), mod):
                    missing.append(f"{where}:{line}: `{name}` names nothing")
            for file in FILE.findall(text):
                if not (ROOT / file).exists():
                    missing.append(f"{where}:{line}: `{file}` is not a file of the project")
    assert not missing, "stale references (renamed or removed since?):\n" + "\n".join(missing)
