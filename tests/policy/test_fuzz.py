"""Random edits of the shipped policy never escape as anything but InvalidPolicy.

A policy editor's typo can land anywhere; whatever it is, the loader must answer
with a Policy or with diagnostics, never with another exception. The number of
examples is set by ``INMAIL_FUZZ_N`` (default keeps the suite fast).
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InvalidPolicy
from engine.policy import Policy, load_policy_text

TEXT = (Path(__file__).resolve().parents[2] / "policies.yaml").read_text(encoding="utf-8")
LINES = TEXT.splitlines(keepends=True)
N = int(os.environ.get("INMAIL_FUZZ_N", "150"))

#: Characters that matter to YAML, plus a few that should not be there at all.
SPICE = [*":-[]{},&*!|>'\"#%@`?\t\n 0123456789.~", "\x00", "\x07", "\ufeff", "<<", "!!python/object:x "]


def _check(text: str) -> None:
    try:
        policy = load_policy_text(text, "policies.yaml")
    except InvalidPolicy as exc:
        assert exc.diagnostics, "InvalidPolicy without diagnostics"
        for d in exc.diagnostics:
            assert d.code and d.code == d.code.lower() and " " not in d.code
            d.render()
        return
    assert isinstance(policy, Policy)


edits = st.one_of(
    # insert a character somewhere
    st.tuples(st.just("insert"), st.integers(0, len(TEXT)), st.sampled_from(SPICE)),
    # delete a short span
    st.tuples(st.just("delete"), st.integers(0, len(TEXT)), st.integers(1, 12)),
    # replace a short span with random text
    st.tuples(st.just("replace"), st.integers(0, len(TEXT)), st.text(max_size=8)),
    # duplicate or drop a whole line
    st.tuples(st.just("dup_line"), st.integers(0, len(LINES) - 1), st.just(None)),
    st.tuples(st.just("drop_line"), st.integers(0, len(LINES) - 1), st.just(None)),
)


def _apply(text: str, edit: tuple[str, int, object]) -> str:
    kind, pos, arg = edit
    if kind == "insert":
        return text[:pos] + str(arg) + text[pos:]
    if kind == "delete":
        assert isinstance(arg, int)
        return text[:pos] + text[pos + arg :]
    if kind == "replace":
        return text[:pos] + str(arg) + text[pos + len(str(arg)) :]
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    i = pos % len(lines)
    if kind == "dup_line":
        return "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    return "".join(lines[:i] + lines[i + 1 :])


@settings(max_examples=N, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edits, min_size=1, max_size=4))
def test_random_edits_load_or_raise_invalid_policy(edit_list: list[tuple[str, int, object]]) -> None:
    text = TEXT
    for edit in edit_list:
        text = _apply(text, edit)
    _check(text)


@settings(max_examples=N, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_loads_or_raises_invalid_policy(text: str) -> None:
    _check(text)
