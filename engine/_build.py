"""Which build of the engine this is: plain Python, or with its hot modules compiled by mypyc.

The optional compiled build (``HATCH_BUILD_HOOK_ENABLE_MYPYC=1 pip install .``,
see the README) puts an extension module beside each compiled source file,
and Python imports the extension in preference to the source. In a checkout
that is a trap: edit ``engine/ledger/lots.py`` after building and the old,
compiled code keeps running. So in a checkout (``pyproject.toml`` beside
``engine/``) the package refuses to import when a compiled module is older
than its source, and says how to fix it. An installed package is not
checked: its sources do not change, and a wheel's file times do not say
which file was built first.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def compiled_modules(here: Path = _HERE) -> list[Path]:
    """The sources under ``engine/`` (``here``) that have a compiled module beside them."""
    found = []
    for suffix in EXTENSION_SUFFIXES:
        for ext in here.glob(f"*/*{suffix}"):
            source = ext.with_name(ext.name[: -len(suffix)] + ".py")
            if source.exists():
                found.append(source)
    return sorted(found)


def check_compiled(here: Path = _HERE) -> bool:
    """Whether compiled modules are in use; ImportError if one is older than its source."""
    modules = compiled_modules(here)
    if not (here.parent / "pyproject.toml").exists():  # installed: sources do not change there
        return bool(modules)  # (and a wheel's file times say nothing about which was built first)
    stale = []
    for source in modules:
        for suffix in EXTENSION_SUFFIXES:
            ext = source.with_name(source.stem + suffix)
            if ext.exists() and ext.stat().st_mtime < source.stat().st_mtime:
                stale.append(source)
    if stale:
        names = ", ".join(str(p.relative_to(here.parent)) for p in stale)
        raise ImportError(
            f"the compiled modules of {names} are older than their sources, so they would "
            f"run old code; rebuild (HATCH_BUILD_HOOK_ENABLE_MYPYC=1 pip install .) or delete "
            f"them (find {here} -name '*.so' -delete)"
        )
    return bool(modules)


#: Whether this is the optional compiled build (README, "Benchmarks"); checked when ``engine`` is imported.
COMPILED = check_compiled()
