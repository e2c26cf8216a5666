"""Comment-preserving edits (engine.source.roundtrip): a form edit changes the edited value and nothing else.

A product manager edits policies.yaml and rules/*.yaml by hand and through the
workbench's forms; the forms must not reflow the file. The examples show the
edits the workbench makes; the property takes any value of any shipped file,
changes it, and checks that only that value's line changed and that the text
reads back as the old data with the one new value.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.policy import load_policy_text
from engine.policy.model import TOP_KEYS
from engine.source import roundtrip
from engine.source.diagnostics import Diagnostics
from engine.source.marked import YMap, YNode, YSeq, parse_text
from engine.source.roundtrip import EditRefused, apply_edits

ROOT = Path(__file__).resolve().parents[2]
POLICY = (ROOT / "policies.yaml").read_text(encoding="utf-8")
SEND = (ROOT / "rules" / "send.yaml").read_text(encoding="utf-8")
#: Every shipped file a person edits: the policy, example policies (and scenarios) with plans, the rules.
FILES = {
    p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
    for p in [
        ROOT / "policies.yaml",
        *sorted(p for p in (ROOT / "examples").rglob("*.yaml") if "plans:" in p.read_text(encoding="utf-8")),
        *sorted((ROOT / "rules").glob("*.yaml")),
    ]
}
PLAN = {"premium": True, "monthly_allotment": 5, "cap": 15, "purchasable": False}


def _diff(old: str, new: str) -> list[str]:
    """The changed lines, ``-`` old and ``+`` new, without context."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(old.splitlines(True), new.splitlines(True), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def _edit(text: str, *edits: dict[str, Any], **kw: Any) -> str:
    return apply_edits(text, list(edits), display="policies.yaml", **kw)


def _marked(text: str, path: Sequence[str | int]) -> Any:
    """The value at ``path`` as the engine's own loader reads it."""
    node: YNode | None = parse_text(text, "t.yaml", Diagnostics())
    for step in path:
        if isinstance(node, YMap):
            node = node.items[str(step)]
        else:
            assert isinstance(node, YSeq) and isinstance(step, int)
            node = node.items[step]
    assert node is not None
    return node.plain()


# --- examples: the edits the workbench makes ---------------------------------------------------


def test_set_a_plan_value_changes_one_line_and_keeps_its_comment() -> None:
    out = _edit(POLICY, {"path": ["plans", "career", "cap"], "value": 20})
    assert _diff(POLICY, out) == [
        "-    cap: 15                     # R11",
        "+    cap: 20                     # R11",
    ]
    assert load_policy_text(out).plans["career"].cap == 20


def test_add_a_plan_in_block_style_at_the_siblings_indentation() -> None:
    out = _edit(POLICY, {"path": ["plans", "team"], "value": PLAN})
    assert out.startswith(POLICY)
    assert out[len(POLICY) :] == (
        "  team:\n    premium: true\n    monthly_allotment: 5\n    cap: 15\n    purchasable: false\n"
    )
    assert list(load_policy_text(out).plans)[-1] == "team"


def test_remove_a_plan_takes_its_lines_only() -> None:
    out = _edit(POLICY, {"path": ["plans", "career"], "remove": True})
    removed = _diff(POLICY, out)
    assert removed[0] == "-  career:" and len(removed) == 5 and all(r.startswith("-") for r in removed)
    assert "career" not in load_policy_text(out).plans


def test_a_missing_section_is_created_at_the_end_or_in_the_policys_order() -> None:
    section = POLICY[POLICY.index("credits:") : POLICY.index("renewal:")]
    text = POLICY.replace(section, "")
    assert "credits:" not in text
    at_end = _edit(text, {"path": ["credits", "lifetime_days"], "value": 30})
    assert at_end == text + "\ncredits:\n  lifetime_days: 30\n"
    in_order = _edit(text, {"path": ["credits", "lifetime_days"], "value": 30}, order=TOP_KEYS)
    assert in_order.replace("credits:\n  lifetime_days: 30\n\n", "", 1) == text
    assert in_order.index("credits:") < in_order.index("renewal:")
    assert load_policy_text(in_order).credits.lifetime_days == 30


def test_a_new_key_goes_at_the_end_of_its_mapping_before_the_blank_line() -> None:
    out = _edit(POLICY, {"path": ["responses", "no_thanks"], "value": "declined"})
    assert "  not_interested: declined      # R16\n  no_thanks: declined\n\nplans:" in out
    assert load_policy_text(out).responses["no_thanks"] == "declined"


def test_set_in_a_rules_file_inside_flow_mappings() -> None:
    out = apply_edits(SEND, [{"path": ["rules", 4, "when", "sender.balance", "below"], "value": 2}])
    assert _diff(SEND, out) == ["-      sender.balance: {below: 1}", "+      sender.balance: {below: 2}"]
    out = apply_edits(SEND, [{"path": ["rules", 1, "when", "sender.premium"], "value": True}])
    assert _diff(SEND, out) == ["-    when: {sender.premium: false}", "+    when: {sender.premium: true}"]


def test_folded_descriptions_survive_an_unrelated_edit_byte_for_byte() -> None:
    for name, text in FILES.items():
        if not name.startswith("rules/"):
            continue
        out = apply_edits(text, [{"path": ["rules", 0, "id"], "value": "renamed-rule"}])
        assert len(_diff(text, out)) == 2, name


def test_a_folded_description_keeps_its_style_when_the_new_text_allows() -> None:
    out = apply_edits(SEND, [{"path": ["rules", 0, "description"], "value": "Shorter words.\n"}])
    assert _diff(SEND, out) == [
        "-      A message to a 1st-degree connection is an ordinary message. It needs no",
        "-      credit and no Premium plan, and it does not block or remind.",
        "+      Shorter words.",
    ]
    out = apply_edits(SEND, [{"path": ["rules", 0, "description"], "value": "No final line break"}])
    assert "    description: No final line break\n    when:" in out


def test_lists_add_and_remove_items_in_their_own_style() -> None:
    out = _edit(POLICY, {"path": ["cap", "applies_to"], "value": ["monthly", "credit_back", "purchase"]})
    assert (
        "  applies_to: [monthly, credit_back, purchase]   # not stated" in out
        and len(_diff(POLICY, out)) == 2
    )
    out = apply_edits(SEND, [{"path": ["rules", 6], "remove": True}])
    assert out.endswith("    then: {outcome: denied, reason: no_credits}\n")
    out = apply_edits(
        SEND,
        [{"path": ["rules", 7], "value": {"id": "x", "description": "why", "then": {"outcome": "sent"}}}],
    )
    assert out.endswith("\n\n  - id: x\n    description: why\n    then:\n      outcome: sent\n")


def test_removing_the_last_key_leaves_an_empty_mapping_not_null() -> None:
    out = _edit(POLICY, {"path": ["credits", "lifetime_days"], "remove": True})
    assert "\ncredits: {}\n" in out
    assert load_policy_text(out).credits.lifetime_days == 90  # the default


def test_edits_apply_in_order_and_a_mapping_value_merges_key_by_key() -> None:
    out = _edit(
        POLICY,
        {"path": ["plans", "team"], "value": PLAN},
        {"path": ["plans", "team", "cap"], "value": 30},
        {"path": ["plans", "career"], "value": {**PLAN, "cap": 16}},
    )
    policy = load_policy_text(out)
    assert policy.plans["team"].cap == 30 and policy.plans["career"].cap == 16
    assert "    monthly_allotment: 5        # R10\n    cap: 16                     # R11" in out


def test_the_documents_own_indentation_is_kept() -> None:
    text = "plans:\n    basic:\n        premium: false\nlist:\n-   a\n"
    out = apply_edits(
        text, [{"path": ["plans", "team"], "value": {"premium": True}}, {"path": ["list", 1], "value": "b"}]
    )
    assert out == (
        "plans:\n    basic:\n        premium: false\n    team:\n        premium: true\nlist:\n-   a\n-   b\n"
    )


def test_windows_line_endings_are_kept() -> None:
    text = "a: 1\r\nb:\r\n  c: 2\r\n"
    assert apply_edits(text, [{"path": ["b", "d"], "value": 3}]) == "a: 1\r\nb:\r\n  c: 2\r\n  d: 3\r\n"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("UTC", "UTC"),
        ("Europe/Paris", "Europe/Paris"),
        ("yes", '"yes"'),
        ("on", '"on"'),
        ("y", '"y"'),
        ("123", '"123"'),
        ("1:30", '"1:30"'),
        ("2026-01-15", '"2026-01-15"'),
        ("null", '"null"'),
        ("a: b", '"a: b"'),
        ("x # y", '"x # y"'),
        ("- x", '"- x"'),
        ("", '""'),
        ("tab\there", '"tab\\there"'),
        ('say "hi"', 'say "hi"'),
        ('"hi" first', '"\\"hi\\" first"'),
        (True, "true"),
        (False, "false"),
        (7, "7"),
        (["a", "yes", 1], '[a, "yes", 1]'),
    ],
    ids=repr,
)
def test_new_values_read_back_as_given_by_every_reader(value: Any, written: str) -> None:
    out = apply_edits("key: old\n", [{"path": ["key"], "value": value}])
    assert out == f"key: {written}\n"
    assert _marked(out, ["key"]) == value
    assert yaml.safe_load(out)["key"] == value  # YAML 1.1, as PyYAML reads it


def test_quoted_values_keep_their_quotes() -> None:
    assert apply_edits(
        "a: 'x'\nb: \"y\"\n", [{"path": ["a"], "value": "it's"}, {"path": ["b"], "value": "z"}]
    ) == ("a: 'it''s'\nb: \"z\"\n")


def test_an_alias_falls_back_to_the_round_trip_dump_and_still_reads_right() -> None:
    out = apply_edits("a: &x 1\nb: *x\n", [{"path": ["b"], "value": 2}])
    assert YAML(typ="safe").load(out) == {"a": 1, "b": 2}


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "edits", "code", "where", "words"),
    [
        (
            "a: [1, 2\nb: 3\n",
            [{"path": ["a"], "value": 1}],
            "yaml_syntax",
            "policies.yaml:2:2",
            "not valid YAML",
        ),
        (
            "a: 1\na: 2\n",
            [{"path": ["a"], "value": 1}],
            "duplicate_key",
            "policies.yaml:2:1",
            "duplicate key",
        ),
        (
            POLICY,
            [{"path": ["cap", "applies_to", 5], "value": "x"}],
            "invalid_edit",
            "policies.yaml:42:15",
            "no item 5",
        ),
        (
            POLICY,
            [{"path": ["cap", "applies_to", "x"], "value": "x"}],
            "invalid_edit",
            "policies.yaml:42:15",
            "is a list",
        ),
        (
            POLICY,
            [{"path": ["plans", "career", "cap", "x"], "value": 1}],
            "invalid_edit",
            "policies.yaml:69:10",
            "the value `15`",
        ),
        (POLICY, [{"path": ["plans", 0], "value": 1}], "invalid_edit", "policies.yaml:61:3", "is a mapping"),
        (
            POLICY,
            [{"path": ["plans", "carer"], "remove": True}],
            "invalid_edit",
            "policies.yaml:61:3",
            "no `plans.carer`",
        ),
        (POLICY, [{"path": ["x", 0], "value": 1}], "invalid_edit", "policies.yaml:1:1", "no item 0"),
        (
            POLICY,
            [{"path": ["plans", "career", "cap"], "value": 1.5}],
            "invalid_edit",
            "policies.yaml",
            "a float",
        ),
        (
            POLICY,
            [{"path": ["plans", "career", "cap"], "value": None}],
            "invalid_edit",
            "policies.yaml",
            "null",
        ),
        (
            POLICY,
            [{"path": ["plans", "team"], "value": {"cap": [[1]]}}],
            "invalid_edit",
            "policies.yaml",
            "a list holding",
        ),
        (POLICY, [{"path": ["plans", "career"]}], "invalid_edit", "policies.yaml", "neither sets"),
        (POLICY, [{"path": ["plans"], "value": 1, "remove": True}], "invalid_edit", "policies.yaml", "both"),
        (POLICY, [{"path": ["plans"], "remove": False}], "invalid_edit", "policies.yaml", "`remove` must be"),
        (POLICY, [{"path": [], "value": 1}], "invalid_edit", "policies.yaml", "non-empty list"),
        (POLICY, [{"path": ["a", True], "value": 1}], "invalid_edit", "policies.yaml", "non-empty list"),
        (POLICY, [{"path": ["a"], "valeu": 1}], "invalid_edit", "policies.yaml", "unknown key `valeu`"),
        (POLICY, ["plans.career.cap=3"], "invalid_edit", "policies.yaml", "not a mapping"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None,
)
def test_refusals_are_diagnostics_that_point_at_the_text(
    text: str, edits: list[Any], code: str, where: str, words: str
) -> None:
    with pytest.raises(EditRefused) as info:
        apply_edits(text, edits, display="policies.yaml")
    (d,) = info.value.diagnostics
    assert d.code == code and str(d.loc) == where and words in d.message, d.render()


def test_a_misspelt_key_to_remove_gets_a_did_you_mean() -> None:
    with pytest.raises(EditRefused) as info:
        apply_edits(POLICY, [{"path": ["plans", "carer"], "remove": True}])
    assert info.value.diagnostics[0].help == "did you mean `career`?"


def test_all_or_nothing_a_bad_later_edit_refuses_the_good_earlier_ones() -> None:
    with pytest.raises(EditRefused, match="edit 2"):
        apply_edits(
            POLICY, [{"path": ["plans", "career", "cap"], "value": 20}, {"path": ["plans", 3], "value": 1}]
        )


def test_refusals_are_never_tracebacks_for_hostile_texts() -> None:
    for text in [
        "\t- a",
        "a: *nope",
        "---\na: 1\n---\nb: 2\n",
        "[" * 300,
        "a: !!python/object:os.system x\n",
    ]:
        try:
            apply_edits(text, [{"path": ["a"], "value": 1}])
        except EditRefused as exc:
            assert exc.diagnostics and exc.diagnostics[0].code in ("yaml_syntax", "invalid_edit")


# --- the property: any value of any shipped file, changed, changes only its own line(s) -----------


def _scalars(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _scalars(v, (*path, str(k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _scalars(v, (*path, i))
    elif isinstance(data, (bool, int, str)):
        yield path, data


def _rt(text: str) -> Any:
    return YAML(typ="rt").load(text)


def _norm(value: Any) -> tuple[str, Any]:
    return (type(value).__mro__[-2].__name__ if not isinstance(value, bool) else "bool", value)


def _all_values(text: str) -> dict[tuple[str | int, ...], tuple[str, Any]]:
    return {p: _norm(v) for p, v in _scalars(_rt(text))}


SCALARS = {name: sorted(_all_values(text), key=repr) for name, text in FILES.items()}
TRICKY = string.ascii_letters + string.digits + " _-./:#'\",[]{}!&*?|>%@`~"


def _span(text: str, path: Sequence[str | int]) -> tuple[int, int, int]:
    """(first line, last line, column where the value ends on its last line), 0-based."""
    node: Node = YAML(typ="rt").compose(text)
    for step in path:
        if isinstance(node, MappingNode):
            node = next(v for k, v in node.value if k.value == step)
        else:
            assert isinstance(node, SequenceNode) and isinstance(step, int)
            node = node.value[step]
    assert isinstance(node, ScalarNode)
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        end = start + len(re.sub(r"(?:\n[ \t]*)+$", "", text[start:end]))
    return text.count("\n", 0, start), text.count("\n", 0, end), end - text.rfind("\n", 0, end) - 1


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, tuple[str | int, ...], Any]:
    name = draw(st.sampled_from(sorted(FILES)))
    path = draw(st.sampled_from(SCALARS[name]))
    old = _all_values(FILES[name])[path][1]
    if isinstance(old, bool):
        new: Any = not old
    elif isinstance(old, int):
        new = draw(st.integers(-1000, 10**6).filter(lambda n: n != old))
    else:
        new = draw(st.text(alphabet=TRICKY, min_size=1, max_size=24))
        if old.endswith("\n") and draw(st.booleans()):
            new += "\n"  # a folded description's text, with its final line break
        if new == old:
            new += "x"
    return name, path, new


@settings(max_examples=150, deadline=None)
@given(edits())
def test_any_value_changed_changes_only_its_own_lines(edit: tuple[str, tuple[str | int, ...], Any]) -> None:
    name, path, new = edit
    text = FILES[name]
    with patch.object(roundtrip, "_dump", lambda *_: None):  # the splice alone must do it
        out = apply_edits(text, [{"path": list(path), "value": new}], display=name)
    # (1) it reads back as the old data with the one new value, in ruamel, in the engine's loader, in PyYAML
    before, after = _all_values(text), _all_values(out)
    assert after.pop(path) == _norm(new)
    before.pop(path)
    assert after == before
    assert _marked(out, path) == new
    node: Any = yaml.safe_load(out)
    for step in path:
        node = node[step]
    assert node == new and type(node) is type(new)
    # (2) only the value's own lines changed; every comment line is still there
    first, last, end_col = _span(text, path)
    old_lines, new_lines = text.splitlines(), out.splitlines()
    changes = [
        op for op in difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes() if op[0] != "equal"
    ]
    assert changes and all(first <= i1 and i2 <= last + 1 for _, i1, i2, _, _ in changes), changes
    if first == last:
        ((_, i1, i2, j1, j2),) = changes
        assert (i2 - i1, j2 - j1) == (1, 1)
        assert new_lines[j1].endswith(old_lines[i1][end_col:])  # the comment after the value stays
    rest = iter(new_lines)  # every comment line is still there, in order (a new value may add `#` text)
    assert all(any(line == kept for kept in rest) for line in old_lines if line.lstrip().startswith("#"))


@pytest.mark.parametrize("name", ["policies.yaml", "rules/send.yaml"])
def test_removing_any_entry_takes_only_its_lines(name: str) -> None:
    text = FILES[name]
    data = _rt(text)
    entries: list[tuple[str | int, ...]] = []

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        children = (
            node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        )
        for k, v in children:
            entries.append((*path, k))
            walk(v, (*path, k))

    walk(data, ())
    for path in entries:
        with patch.object(roundtrip, "_dump", lambda *_: None):  # read back right, by the splice alone
            out = apply_edits(text, [{"path": list(path), "remove": True}])
        old_lines, new_lines = text.splitlines(), out.splitlines()
        changes = [
            op for op in difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes() if op[0] != "equal"
        ]
        # one block of lines goes; at most one line is rewritten (`key: {}` when the last key goes)
        assert len(changes) == 1 and changes[0][4] - changes[0][3] <= 1, (path, changes)
