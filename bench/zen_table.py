"""Translate a rules file into a zen-engine (GoRules JDM) decision table, for the benchmark.

The table has one input column per fact the rules read and one row per rule,
with hit policy ``first`` - the same "first match decides" semantics as the
engine. Only the flat condition forms used by ``rules/send.yaml`` are
translated (equality and comparisons on a fact); anything else is refused so
the benchmark never compares different rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

_OPS = {"below": "<", "at_most": "<=", "above": ">", "at_least": ">="}


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def _cell(condition: Any) -> str:
    if isinstance(condition, dict):
        parts = []
        for op, value in condition.items():
            if op in _OPS:
                parts.append(f"{_OPS[op]} {_literal(value)}")
            elif op == "is":
                parts.append(_literal(value))
            elif op == "not":
                parts.append(f"!= {_literal(value)}")
            else:
                raise ValueError(f"operator {op!r} is not translated for zen")
        if len(parts) != 1:
            raise ValueError("one operator per cell")
        return parts[0]
    return _literal(condition)


def jdm_from_rules(path: Path) -> dict[str, Any]:
    """Build the JDM graph (input -> decision table -> output) for one rules file."""
    doc = yaml.safe_load(path.read_text())
    facts: list[str] = []
    for rule in doc["rules"]:
        for fact in rule.get("when") or {}:
            if fact in ("all", "any", "not"):
                raise ValueError("nested conditions are not translated for zen")
            if fact not in facts:
                facts.append(fact)
    inputs = [{"id": f"i{n}", "name": f, "field": f} for n, f in enumerate(facts)]
    rows = []
    for n, rule in enumerate(doc["rules"]):
        when = rule.get("when") or {}
        row = {"_id": f"r{n}", "o0": json.dumps(rule["id"])}
        for col in inputs:
            row[col["id"]] = _cell(when[col["name"]]) if col["name"] in when else ""
        rows.append(row)
    table = {
        "hitPolicy": "first",
        "inputs": inputs,
        "outputs": [{"id": "o0", "name": "rule", "field": "rule"}],
        "rules": rows,
    }
    pos = {"x": 0, "y": 0}
    return {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "Request", "position": pos},
            {
                "id": "dt",
                "type": "decisionTableNode",
                "name": doc["event"],
                "position": pos,
                "content": table,
            },
            {"id": "out", "type": "outputNode", "name": "Response", "position": pos},
        ],
        "edges": [
            {"id": "e0", "sourceId": "in", "targetId": "dt", "type": "edge"},
            {"id": "e1", "sourceId": "dt", "targetId": "out", "type": "edge"},
        ],
    }


def nested(facts: dict[str, Any]) -> dict[str, Any]:
    """``{"sender.premium": True}`` -> ``{"sender": {"premium": True}}`` (zen reads dotted paths)."""
    out: dict[str, Any] = {}
    for name, value in facts.items():
        head, _, tail = name.partition(".")
        out.setdefault(head, {})[tail] = value
    return out
