"""What the living documentation is made of, read from the project's own files.

The requirement texts (``features/REQUIREMENTS.md``, written by hand), the
Gherkin scenarios and their tags (``features/*.feature``), the rules and the
requirements they cite (``rules/*.yaml``), a feature run's results
(pytest-bdd's Cucumber JSON) and how often each rule fired in it (the BDD
run's coverage file), and one real trace per rule from running the example
scenarios: nothing on the site is written twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.codes import C
from engine.source.requirements import HEADING as _HEADING
from engine.source.requirements import ID_FORM

_TAGS = re.compile(r"@(\S+)")
_STEP = re.compile(r"^(Given|When|Then|And|But|\*)\s+(.*)$")


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    text: str
    section: str


def read_requirements(path: Path) -> dict[str, Requirement]:
    """``### R09: title`` entries of the catalog, with their hand-written paragraphs: the
    requirements are whatever the file declares (at least one, each once)."""
    out: dict[str, Requirement] = {}
    section, current = "", None
    lines: list[str] = []
    for line in _read(path).splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        m = _HEADING.match(line)
        if (m or line.startswith(("## ", "<!-- links"))) and current is not None:
            out[current[0]] = Requirement(current[0], current[1], " ".join(lines).strip(), current[2])
            current, lines = None, []
        if m:
            if m.group(1) in out:
                raise C.invalid_docs_source(f"{path} declares {m.group(1)} twice")
            current, lines = (m.group(1), m.group(2).strip(), section), []
        elif current is not None and line.strip():
            lines.append(line.strip())
    if current is not None:
        out[current[0]] = Requirement(current[0], current[1], " ".join(lines).strip(), current[2])
    if not out:
        raise C.invalid_docs_source(f"{path} declares no requirement (a heading `### R01: title`)")
    return out


@dataclass
class Scenario:
    """One Gherkin scenario (an outline once, with its example rows)."""

    feature: str  # file name
    feature_title: str
    line: int
    keyword: str
    name: str
    tags: tuple[str, ...]
    steps: list[tuple[str, str]] = field(default_factory=list)
    examples: list[list[str]] = field(default_factory=list)  # header row first

    @property
    def requirements(self) -> tuple[str, ...]:
        """Its tags written as requirement ids (``@R09``); the site reports one no entry declares."""
        return tuple(t for t in self.tags if ID_FORM.match(t))


def read_features(folder: Path) -> list[Scenario]:
    """Every scenario of ``folder/*.feature``, by a reader of the Gherkin subset the features use."""
    out: list[Scenario] = []
    for path in sorted(folder.glob("*.feature")):
        title, tags, current = path.stem, [], None
        for n, raw in enumerate(_read(path).splitlines(), 1):
            line = raw.strip()
            if line.startswith("Feature:"):
                title = line.split(":", 1)[1].strip()
            elif line.startswith("@"):
                tags.extend(_TAGS.findall(line))
            elif line.startswith(("Scenario:", "Scenario Outline:", "Example:")):
                keyword, name = (part.strip() for part in line.split(":", 1))
                current = Scenario(path.name, title, n, keyword, name, tuple(tags))
                out.append(current)
                tags = []
            elif current is not None and (m := _STEP.match(line)):
                current.steps.append((m.group(1), m.group(2)))
            elif current is not None and line.startswith("|"):
                current.examples.append([c.strip() for c in line.strip("|").split("|")])
            elif line.startswith("Rule:"):
                current = None
    return out


def read_results(path: Path | None) -> dict[tuple[str, int], str]:
    """(feature file, scenario line) -> ``passed`` / ``failed`` / ``skipped`` from Cucumber JSON."""
    if path is None:
        return {}
    try:
        doc = json.loads(_read(path))
        out: dict[tuple[str, int], str] = {}
        for feature in doc:
            name = Path(str(feature["uri"])).name
            for element in feature.get("elements", []):
                statuses = {s.get("result", {}).get("status") for s in element.get("steps", [])}
                status = (
                    "failed" if "failed" in statuses else "passed" if statuses == {"passed"} else "skipped"
                )
                key = (name, int(element["line"]))
                if out.get(key) != "failed":  # an outline fails when one of its examples does
                    out[key] = status
        return out
    except (ValueError, KeyError, TypeError) as exc:
        raise C.invalid_results(f"`{path}` is not a Cucumber JSON report ({exc})") from None


def read_coverage(path: Path | None) -> dict[str, int] | None:
    """``event/rule`` -> how many times the rule decided in the feature run (None: not measured)."""
    if path is None:
        return None
    try:
        doc = json.loads(_read(path))
        fires = doc["fires"]
        if not isinstance(fires, Mapping):
            raise TypeError("`fires` is not a mapping")
        return {str(k): int(v) for k, v in fires.items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise C.invalid_results(f"`{path}` is not a feature-run coverage file ({exc})") from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise C.file_not_found(f"cannot read `{path}`: {exc}") from None


@dataclass(frozen=True)
class Trace:
    """One real decision by a rule: the facts its file reads, the verdict, the entries written."""

    scenario: str
    at: str
    facts: tuple[tuple[str, Any], ...]
    outcome: str
    reason: str | None
    entries: tuple[str, ...]
