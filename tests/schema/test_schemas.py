"""The editor schemas: current with the loaders' tables, and agreeing with the loaders.

- Drift: the shipped ``engine/schema/*.json`` are what the tables give now.
- Every valid shipped or example file validates against its schema.
- Every case of the bad-file corpora that the loader refuses for a shape
  reason (an unknown key, a wrong type, a value out of range, a bad choice)
  is refused by the schema too; the few it cannot express are listed here
  with the reason.

Files are read with the engine's own YAML reader (YAML 1.2: ``2026-01-15`` is
text, as in yaml-language-server), so the schema sees what an editor sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from engine.schema import KINDS, render, schema, schema_path
from engine.source.diagnostics import Diagnostics
from engine.source.marked import parse_text
from tests.policy.test_cases import ALL as POLICY_CASES
from tests.policy.test_cases import case_text as policy_text

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "cases"

#: Codes for a problem of shape: a key, a type, a range, a fixed choice.
SHAPE = {
    "unknown_key",
    "wrong_type",
    "invalid_choice",
    "out_of_range",
    "not_an_integer",
    "negative_number",
    "invalid_name",
    "missing_key",
    "invalid_quantity",
    "unknown_outcome",
    "unknown_reason",
    "unknown_fact",
    "type_mismatch",
    "unknown_operator",
    "invalid_operator",
    "unknown_effect",
    "invalid_rule_id",
    "invalid_requirement",
    "invalid_payment_status",
    "empty_timeline",
    "multiple_events",
}

#: Shape problems a schema cannot see, by case note, and why.
BEYOND_SCHEMA = {
    "text not among the fact's choices": "plan names come from the policy being edited",
    "policy reference of the wrong type": "what `policy.x` holds is in another file",
    "plan reference of the wrong type": "what `plan.x` holds is in another file",
    "requirement id out of range": "requirement ids are those features/REQUIREMENTS.md declares",
    "requirement id badly written": "requirement ids are those features/REQUIREMENTS.md declares",
}


def _plain(text: str, name: str) -> Any:
    diags = Diagnostics()
    node = parse_text(text, name, diags)
    assert node is not None and not diags.has_errors(), diags.items
    return node.plain()


def _validator(kind: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_the_shipped_schema_is_current(kind: str) -> None:
    shipped = schema_path(kind).read_text(encoding="utf-8")
    assert shipped == render(schema(kind)), f"{schema_path(kind)} is stale: run `python -m engine.schema`"
    jsonschema.Draft7Validator.check_schema(schema(kind))


def _valid_files() -> list[Any]:
    files = [
        ("policy", REPO / "policies.yaml"),
        *(("policy", p) for p in (REPO / "examples" / "policies").glob("*.yaml")),
        *(("rules", p) for p in (REPO / "rules").glob("*.yaml")),
        *(("scenario", p) for p in (REPO / "examples" / "scenarios").glob("*.yaml")),
    ]
    return [pytest.param(kind, path, id=str(path.relative_to(REPO))) for kind, path in sorted(files)]


@pytest.mark.parametrize(("kind", "path"), _valid_files())
def test_every_shipped_file_is_valid_under_its_schema(kind: str, path: Path) -> None:
    errors = list(_validator(kind).iter_errors(_plain(path.read_text(encoding="utf-8"), str(path))))
    assert errors == [], [e.message for e in errors]


def test_every_file_names_its_schema_in_its_first_line() -> None:
    for _, path in ((p.values[0], p.values[1]) for p in _valid_files()):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1].strip()).resolve()
        assert target.is_file() and target.parent == schema_path("policy").parent, (path, target)


def _bad_cases() -> list[Any]:
    out: list[Any] = []
    for p in POLICY_CASES:
        group, case = p.values
        if not case.get("valid") and case["want"]["code"] in SHAPE:
            out.append(
                pytest.param("policy", policy_text(case), case["note"], id=f"policy {group}: {case['note']}")
            )
    for path in sorted((CASES / "scenario").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            if case["want"]["code"] in SHAPE:
                out.append(
                    pytest.param(
                        "scenario", case["scenario"], case["note"], id=f"scenario {path.stem}: {case['note']}"
                    )
                )
    for path in sorted((CASES / "rules" / "bad").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            if not case.get("warning") and not case.get("delete") and case["code"] in SHAPE:
                out.append(
                    pytest.param("rules", case["text"], case["note"], id=f"rules {path.stem}: {case['note']}")
                )
    return out


BAD = _bad_cases()


def test_the_corpora_give_the_schemas_enough_to_refuse() -> None:
    kinds = {p.values[0] for p in BAD}
    assert kinds == set(KINDS) and len(BAD) >= 40, len(BAD)


@pytest.mark.parametrize(("kind", "text", "note"), BAD)
def test_a_shape_the_loader_refuses_the_schema_refuses(kind: str, text: str, note: str) -> None:
    diags = Diagnostics()
    node = parse_text(text, "case.yaml", diags)
    if node is None or diags.has_errors():
        pytest.skip("the YAML itself is refused before any shape is read")
    refused = list(_validator(kind).iter_errors(node.plain()))
    if note in BEYOND_SCHEMA:
        assert refused == [], f"now the schema refuses it: drop it from BEYOND_SCHEMA ({BEYOND_SCHEMA[note]})"
    else:
        assert refused, "the loader refuses this, the schema lets it through"


def test_the_command_prints_the_schemas_and_where_they_are() -> None:
    import json

    from click.testing import CliRunner

    from engine.cli import main

    run = CliRunner()
    full = run.invoke(main, ["schema", "policy"])
    assert full.exit_code == 0 and full.stdout == schema_path("policy").read_text(encoding="utf-8")
    send = run.invoke(main, ["schema", "rules", "--event", "send"])
    assert send.exit_code == 0 and json.loads(send.stdout) == schema("rules", "send")
    assert json.loads(send.stdout)["properties"]["event"] == {"const": "send"}
    where = run.invoke(main, ["schema", "scenario", "--path"])
    assert where.exit_code == 0 and Path(where.stdout.strip()) == schema_path("scenario")
