"""One vocabulary: every policy key has one title, and every door (CLI, docs, schemas, forms) shows it."""

from __future__ import annotations

from engine.cli.validate import PLAN_FIELDS
from engine.policy import load_policy
from engine.policy.form import policy_form
from engine.policy.load import PLAN_KNOBS, SECTIONS
from engine.policy.model import TOP_KEYS
from engine.policy.words import PLAN_COLUMNS, TITLES, key_help, title
from engine.schema.build import policy_schema

#: Every key policies.yaml can hold, dotted; a plan's keys as `plans.<key>`.
KEYS = {
    *TOP_KEYS,
    *(f"{section}.{key}" for section, (_, knobs) in SECTIONS.items() for key in knobs),
    *(f"plans.{key}" for key in PLAN_KNOBS),
}


def test_every_key_has_a_title_and_nothing_else_does() -> None:
    assert set(TITLES) == KEYS
    for key in KEYS:
        words = title(key)
        assert words == words.strip() and words[0].isupper() and len(words) <= 32, key


def test_the_plan_comparisons_columns_are_titled() -> None:
    assert set(PLAN_COLUMNS) == set(PLAN_FIELDS) == set(load_policy().plan_rows()[0])
    assert PLAN_COLUMNS["purchasable"] == "May buy credits"
    assert PLAN_COLUMNS["credit_lifetime_days"] == TITLES["credits.lifetime_days"] == "Credit lifetime (days)"


def test_every_setting_and_plan_key_has_plain_words_in_the_policy_header() -> None:
    words = key_help()
    settings = KEYS - set(TOP_KEYS) | {"timezone", "responses", "plans"}
    assert not settings - set(words), sorted(settings - set(words))


def test_the_schema_and_the_form_use_the_titles() -> None:
    props = policy_schema()["properties"]
    for key in KEYS:
        section, _, knob = key.partition(".")
        if not knob:
            assert props[section]["title"] == TITLES[key]
        elif section == "plans":
            assert props["plans"]["additionalProperties"]["properties"][knob]["title"] == TITLES[key]
        else:
            assert props[section]["properties"][knob]["title"] == TITLES[key]
    form = policy_form("plans: {}\n")
    assert {".".join(s["path"]): s["label"] for s in form["settings"]} == {
        k: v for k, v in TITLES.items() if k == "timezone" or ("." in k and not k.startswith("plans."))
    }
    assert {p["key"]: p["label"] for p in form["plan_keys"]} == {k: TITLES[f"plans.{k}"] for k in PLAN_KNOBS}
