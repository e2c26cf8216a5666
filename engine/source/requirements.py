"""Requirement ids: the ones the project's requirements file declares, none built in.

A rule cites what it implements (``requirement: R09``) and a scenario is tagged with it
(``@R09``): both name an entry of the requirements file, ``features/REQUIREMENTS.md``, which
declares each with a heading ``### R09: title``. The rules loader checks every id a rule
cites against that file (:func:`declared_requirements`), the living documentation makes a
page per entry, the workbench lists them: another project writes other entries, and no code
changes. The file found for a rules folder is the ``features/REQUIREMENTS.md`` beside it,
else the shipped one (:func:`engine.source.paths.requirements_for`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

#: How an id is written: capital letters, then digits (``R09``).
ID_FORM = re.compile(r"^[A-Z]+[0-9]+$")
#: The heading that declares a requirement: ``### R09: Credits roll over, each for 90 days``.
HEADING = re.compile(r"^### ([A-Z]+[0-9]+): (.+)$")


def declared_requirements(path: Path) -> tuple[str, ...] | None:
    """The ids ``path`` declares, in its order; None when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return tuple(dict.fromkeys(m.group(1) for line in text.splitlines() if (m := HEADING.match(line))))


def span(ids: Sequence[str]) -> str:
    """The ids as a help line shows them: ``R01 to R20`` for an unbroken numbered run, else listed."""
    parts = [re.fullmatch(r"(\D+)(\d+)", i) for i in ids]
    if len(ids) > 2 and all(parts) and len({(p.group(1), len(p.group(2))) for p in parts if p}) == 1:
        numbers = sorted(int(p.group(2)) for p in parts if p)
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            first, last = sorted(ids)[0], sorted(ids)[-1]
            return f"{first} to {last}"
    return ", ".join(ids) if ids else "none"
