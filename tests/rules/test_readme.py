"""rules/README.md stays true: its generated catalog is current and its examples load."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from engine.errors import InvalidRules
from engine.policy import Policy
from engine.rules.book import RuleBook
from engine.rules.doc import END, START, catalog_markdown, main, render

README = Path(__file__).resolve().parents[2] / "rules" / "README.md"


def test_catalog_section_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert render(text) == text, "rules/README.md is stale: run `python -m engine.rules.doc`"
    assert main(["_rulesdoc", "--check", str(README)]) == 0


def test_render_replaces_only_the_section(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text(f"intro\n\n{START}\nOLD-SECTION\n{END}\nafter\n", encoding="utf-8")
    assert main(["_rulesdoc", "--check", str(path)]) == 1
    assert main(["_rulesdoc", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith("intro\n\n") and text.endswith("\nafter\n") and "OLD-SECTION" not in text
    assert catalog_markdown() in text


def _examples() -> list[str]:
    """The `when` examples of the grammar table, and the nested example block."""
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| ", text, flags=re.M)
    found = [r for r in rows if ":" in r and "..." not in r]
    block = re.search(r"```yaml\n(    when:\n.*?)```", text, flags=re.S)
    assert block is not None
    nested = yaml.safe_load(block.group(1))["when"]
    found.append(yaml.safe_dump(nested, default_flow_style=True).strip())
    return found


@pytest.mark.parametrize("example", _examples())
def test_grammar_examples_load(example: str, policy: Policy, rules_dir: Path, tmp_path: Path) -> None:
    when = yaml.safe_load(example if example.startswith("{") else "{" + example + "}")
    errors = []
    for event in ("send", "respond"):
        work = tmp_path / event
        shutil.copytree(rules_dir, work)
        doc = {
            "event": event,
            "rules": [
                {
                    "id": "example",
                    "requirement": "R01",
                    "description": "example",
                    "when": when,
                    "then": {"outcome": "denied", "reason": "no_credits"}
                    if event == "send"
                    else {"outcome": "not_credited", "reason": "late_response"},
                },
                {
                    "id": "otherwise",
                    "requirement": "R01",
                    "description": "otherwise",
                    "then": {"outcome": "sent" if event == "send" else "credited_back"},
                },
            ],
        }
        (work / f"{event}.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
        try:
            RuleBook.load(work, policy).close()
            return
        except InvalidRules as exc:
            errors.append(str(exc))
    pytest.fail("\n".join(errors))
