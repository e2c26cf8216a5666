"""The catalog of error codes (engine.CODES) is the only source of codes, checked on the source itself.

"Stable codes" is a promise: a code misspelt at one raise site is a new code
nobody documented, and the same code raised with two classes is caught by one
``except`` and missed by another. So raise sites build their exception through
the catalog, and these tests read engine/ with ``ast`` to keep it that way:
no exception is built with a code of its own, no code is a string literal
(except in engine/source, below the catalog, where each literal must be a
catalog code), every catalog code is given somewhere or marked reserved, and
the README's table is the catalog's.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine import errors
from engine.codes import RESERVED, C
from engine.codes.table import block, current

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
CATALOG = ENGINE / "codes"
#: Below the catalog in the import layers: its diagnostics name codes as literals, checked here.
BELOW = ENGINE / "source"
SOURCES = sorted(p for p in ENGINE.rglob("*.py") if CATALOG not in p.parents)
CODES = set(C.__members__)
#: The classes an exception of a code is built as: only the catalog builds them.
BUILT = {c.exc.__name__ for c in C if c.kind == "error" and c.exc is not None}
#: Functions whose first argument is a code (a problem, a refusal, a diagnostic, an unreadable instant).
CODE_FIRST = {"problem", "_Refused", "Refusal", "Diagnostic", "InstantError"}
#: String literals that spell a code but are not one (keys of the store's meta table, a pydantic-like
#: error type in the body of an `invalid_request`): (file, text).
NOT_CODES = {
    ("store/sql.py", "schema_version"),
    ("store/sql.py", "log_incomplete"),
    ("store/_sql_reads.py", "log_incomplete"),
    ("service/guard.py", "duplicate_key"),
}
C_METHODS = {"lookup", "__members__"}


def _name(p: Path) -> str:
    return p.relative_to(ENGINE).as_posix()


def _docstrings(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, kinds)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }


def _called(node: ast.Call) -> str | None:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _diagnostic_call(node: ast.Call) -> bool:
    """``d.error(code, ...)`` / ``d.warning(code, ...)`` on a collector, not on a logger."""
    f = node.func
    if not (isinstance(f, ast.Attribute) and f.attr in ("error", "warning") and node.args):
        return False
    return not (isinstance(f.value, ast.Name) and f.value.id in ("log", "logger", "logging"))


def _literals(node: ast.expr) -> list[ast.Constant]:
    """The string literals a code argument may be (``"a" if x else "b"`` is two)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def _code_argument(node: ast.Call) -> ast.expr | None:
    if _called(node) in CODE_FIRST or _diagnostic_call(node):
        kw = next((k.value for k in node.keywords if k.arg == "code"), None)
        return kw if kw is not None else (node.args[0] if node.args else None)
    return None


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_codes_come_from_the_catalog(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    below = BELOW in path.parents
    wrong: list[str] = []
    for node in ast.walk(tree):
        where = f"{_name(path)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and _called(node) in BUILT and path.name != "errors.py":
            wrong.append(
                f"{where}: build it through the catalog, `raise C.<code>(message)`, not {_called(node)}()"
            )
        if isinstance(node, ast.Call) and (arg := _code_argument(node)) is not None:
            if isinstance(arg, ast.JoinedStr):
                wrong.append(f"{where}: a code built from pieces; name a member of engine.codes.C")
            for lit in _literals(arg):
                if not below:
                    wrong.append(f"{where}: the code `{lit.value}` as text; write `C.{lit.value}`")
                elif lit.value not in CODES:
                    wrong.append(f"{where}: `{lit.value}` is not in the catalog (engine/codes)")
        if (
            below
            and isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets)
        ):
            wrong.extend(
                f"{where}: `{lit.value}` is not in the catalog (engine/codes)"
                for lit in _literals(node.value)
                if lit.value not in CODES
            )
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "C"
            and node.attr not in CODES | C_METHODS
        ):
            wrong.append(f"{where}: C.{node.attr} is not a code of the catalog")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "C"
            and node.func.attr in CODES
            and C[node.func.attr].kind != "error"
        ):
            wrong.append(
                f"{where}: `{node.func.attr}` is a {C[node.func.attr].kind} code: no exception carries it"
            )
        if (
            not below
            and path.name != "errors.py"
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in CODES
            and id(node) not in docs
            and (_name(path), node.value) not in NOT_CODES
        ):
            wrong.append(f"{where}: the code `{node.value}` as text; write `C.{node.value}`")
    assert not wrong, "codes are named through engine.codes.C:\n" + "\n".join(sorted(set(wrong)))


def _given() -> set[str]:
    """Every code the engine names: ``C.<code>`` anywhere, and engine/source's literal diagnostics."""
    given: set[str] = set()
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        below = BELOW in path.parents
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "C":
                given.add(node.attr)
            if below and isinstance(node, ast.Call) and (arg := _code_argument(node)) is not None:
                given.update(str(lit.value) for lit in _literals(arg))
            if (
                below
                and isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets)
            ):
                given.update(str(lit.value) for lit in _literals(node.value))
    return given & CODES


def test_every_code_is_given_somewhere_or_reserved() -> None:
    given = _given()
    unused = CODES - given - RESERVED
    assert not unused, f"codes nothing gives: give them, mark them reserved, or drop them: {sorted(unused)}"
    assert not RESERVED & given, f"reserved codes the engine gives after all: {sorted(RESERVED & given)}"


def test_each_code_has_one_class_and_builds_exactly_it() -> None:
    for code in C:
        if code.kind != "error":
            assert code.exc in (None, errors.InvalidInput), code
            with pytest.raises(TypeError):
                code("no exception carries this code")
            continue
        assert code.exc is not None
        exc = code("a message")
        assert type(exc) is code.exc and exc.code == code and type(exc.code) is str
        assert exc.exit_code == code.exit and isinstance(exc, errors.EngineError)


def test_each_classs_own_default_code_is_its_own_in_the_catalog() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.EngineError)]
    for cls in classes:
        default = cls.__dict__.get("code")
        if default is not None:
            assert C[default].exc is cls, f"{cls.__name__}.code = {default!r} belongs to {C[default].exc}"
    owners: dict[str, set[type[errors.EngineError]]] = {}
    for code in C:
        if code.exc is not None:
            owners.setdefault(str(code), set()).add(code.exc)
    assert all(len(classes) == 1 for classes in owners.values())


def test_codes_are_snake_case_and_spelt_as_named() -> None:
    for code in C:
        assert code.name == code.value == str(code)
        assert code.value.replace("_", "").isalnum() and code.value == code.value.lower()
        assert code.meaning and "\n" not in code.meaning and len(code.meaning) <= 90
        assert code.kind in ("error", "diagnostic", "cli", "http", "check")


def test_the_catalog_is_public_as_engine_CODES() -> None:
    assert engine.CODES is C and "CODES" in engine.__all__
    assert engine.CODES.unknown_account.exc is engine.InvalidCall
    assert engine.CODES.lookup("unknown_account") is C.unknown_account and C.lookup("no_such_code") is None


def test_invalid_call_no_longer_lists_its_codes_by_hand() -> None:
    doc = errors.InvalidCall.__doc__ or ""
    named = sorted(c for c in CODES if f"``{c}``" in doc)
    assert not named, f"InvalidCall's docstring lists codes by hand: {named}"
    assert "engine.CODES" in doc


def test_the_readme_table_of_codes_is_the_catalogs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert current(readme) == block(), (
        "the README's table of codes is stale: run `python -m engine.codes README.md`"
    )


def test_python_dash_m_engine_codes_prints_the_table() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "engine.codes"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == block().strip() and not out.stderr
