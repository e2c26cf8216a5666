"""The generated catalogs in features/ are current, and the step vocabulary is all real.

If one of these fails after you changed a feature, a step or a rule, run
``python tests/bdd/gen_bdd_docs.py`` and commit the two rewritten files.
"""

from __future__ import annotations

import gen_bdd_docs
from bdd_steps import STEPS


def test_steps_catalog_is_current() -> None:
    assert gen_bdd_docs.STEPS_MD.exists(), "features/STEPS.md is missing: run tests/bdd/gen_bdd_docs.py"
    assert gen_bdd_docs.STEPS_MD.read_text(encoding="utf-8") == gen_bdd_docs.render_steps(), (
        "features/STEPS.md is stale: run python tests/bdd/gen_bdd_docs.py"
    )


def test_requirements_catalog_is_current() -> None:
    text = gen_bdd_docs.REQUIREMENTS_MD.read_text(encoding="utf-8")
    assert gen_bdd_docs.render_requirements(text) == text, (
        "the links in features/REQUIREMENTS.md are stale: run python tests/bdd/gen_bdd_docs.py"
    )


def test_requirements_catalog_has_every_id_once() -> None:
    blocks = gen_bdd_docs.requirement_blocks(gen_bdd_docs.REQUIREMENTS_MD.read_text(encoding="utf-8"))
    assert sorted(blocks) == list(gen_bdd_docs.REQ_IDS)
    text = gen_bdd_docs.REQUIREMENTS_MD.read_text(encoding="utf-8")
    for rid in gen_bdd_docs.REQ_IDS:
        assert text.count(f"### {rid}:") == 1, f"{rid} needs exactly one hand-written entry"


def test_each_requirement_lists_scenarios_that_carry_its_tag() -> None:
    """Read the links back from the file and check each named scenario really has the tag."""
    blocks = gen_bdd_docs.requirement_blocks(gen_bdd_docs.REQUIREMENTS_MD.read_text(encoding="utf-8"))
    by_place = {(s.feature, s.line): s for s in gen_bdd_docs.scenarios()}
    for rid, block in blocks.items():
        links = [line for line in block.splitlines() if line.startswith("- [")]
        assert links, f"{rid} lists no scenario"
        for line in links:
            target = line[line.index("](") + 2 : line.index(")", line.index("]("))]
            feature, _, anchor = target.partition("#L")
            scenario = by_place.get((feature, int(anchor)))
            assert scenario is not None, f"{rid}: {target} is not a scenario"
            assert rid in scenario.tags, f"{rid}: {scenario.name!r} does not carry @{rid}"


def test_every_feature_step_has_a_definition() -> None:
    _, unmatched = gen_bdd_docs.match_uses(gen_bdd_docs.step_uses())
    assert not unmatched, "steps with no definition (see features/STEPS.md): " + "; ".join(
        f"{u.feature}:{u.line}: {u.kind} {u.text}" for u in unmatched
    )


def test_every_step_definition_is_used() -> None:
    by_step, _ = gen_bdd_docs.match_uses(gen_bdd_docs.step_uses())
    unused = [STEPS[i].phrase for i, uses in by_step.items() if not uses]
    assert not unused, f"step phrases no feature uses (remove them or use them): {unused}"


def test_no_step_text_matches_two_definitions() -> None:
    """pytest-bdd takes the first match; an ambiguous phrase would silently pick one."""
    for use in gen_bdd_docs.step_uses():
        hits = [s.phrase for s in STEPS if use.kind in s.kinds and s.parser.is_matching(use.text)]
        assert len(hits) <= 1, f"{use.feature}:{use.line}: {use.text!r} matches {hits}"
