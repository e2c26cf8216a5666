"""The policy as a form (engine.policy.form): the workbench's Plans and Settings views, from a draft."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.policy import load_policy_text
from engine.policy.form import apply_form_edits, policy_form, timezones
from engine.policy.load import PLAN_KNOBS, SECTIONS
from engine.policy.model import RESPONSE_STATUSES, Policy

TEXT = (Path(__file__).resolve().parents[2] / "policies.yaml").read_text(encoding="utf-8")


def test_the_shipped_policy_as_a_form() -> None:
    form = policy_form(TEXT)
    json.dumps(form, allow_nan=False)  # JSON as the workbench sends it
    policy = load_policy_text(TEXT)
    paths = [s["path"] for s in form["settings"]]
    assert paths == [
        ["timezone"],
        *([section, key] for section, (_, knobs) in SECTIONS.items() for key in knobs),
    ]
    for s in form["settings"]:
        value = policy.setting(".".join(s["path"]))
        assert s["set"] and s["value"] == (list(value) if isinstance(value, tuple) else value), s
        assert s["label"] and s["help"]
    lifetime = form["settings"][1]
    assert lifetime == {
        "path": ["credits", "lifetime_days"],
        "label": "Credit lifetime (days)",
        "help": "how many days a monthly credit can be used before it expires",
        "type": "int",
        "min": 1,
        "max": 36_500,
        "value": 90,
        "default": 90,
        "set": True,
        "line": next(i for i, t in enumerate(TEXT.splitlines(), 1) if t.strip().startswith("lifetime_days:")),
    }
    overflow = next(s for s in form["settings"] if s["path"] == ["cap", "on_overflow"])
    assert overflow["type"] == "enum" and overflow["choices"] == ["forfeit_oldest", "trim_new"]
    assert form["settings"][0]["type"] == "timezone" and form["settings"][0]["value"] == "UTC"
    assert [k["key"] for k in form["plan_keys"]] == list(PLAN_KNOBS)
    assert form["plan_keys"][2] == {
        "key": "cap",
        "label": "Cap",
        "help": "the most credits that can be held (must be >= monthly_allotment)",
        "type": "int",
        "min": 0,
        "max": 1_000_000,
    }
    lines = TEXT.splitlines()
    assert [p["name"] for p in form["plans"]] == list(policy.plans)
    for p in form["plans"]:
        plan = policy.plans[p["name"]]
        assert p["values"] == {k: getattr(plan, k) for k in PLAN_KNOBS}
        assert lines[p["line"] - 1].strip().startswith(f"{p['name']}:")
    assert {r["name"]: r["status"] for r in form["responses"]} == dict(policy.responses)
    assert all(lines[r["line"] - 1].strip().startswith(f"{r['name']}:") for r in form["responses"])
    assert form["response_statuses"] == list(RESPONSE_STATUSES)


def test_a_draft_that_does_not_load_still_makes_a_form() -> None:
    draft = "credits:\n  lifetime_days: soon\nplans:\n  team:\n    premium: true\n    monthly_alotment: 5\n"
    form = policy_form(draft)
    settings = {".".join(s["path"]): s for s in form["settings"]}
    assert settings["credits.lifetime_days"]["value"] == "soon" and settings["credits.lifetime_days"]["set"]
    defaults = {f.name: f.default for f in fields(Policy)}
    assert settings["timezone"] == {**settings["timezone"], "value": defaults["timezone"], "set": False}
    assert settings["reminder.after_days"]["value"] == settings["reminder.after_days"]["default"] == 3
    assert settings["cap.applies_to"]["value"] == ["monthly", "credit_back"]
    assert form["plans"] == [
        {"name": "team", "values": {"premium": True}, "line": 4, "lines": {"premium": 5}}
    ]
    assert form["responses"] == []


@pytest.mark.parametrize("text", ["", "plans: [", "- a list\n", "credits: 5\nplans: 3\n", "x: .inf\n"])
def test_text_that_is_no_policy_gives_the_defaults(text: str) -> None:
    form = policy_form(text)
    json.dumps(form, allow_nan=False)
    assert form["plans"] == [] and not any(s["set"] for s in form["settings"])


def test_time_zones_are_the_ones_the_loader_takes() -> None:
    zones = timezones()
    assert list(zones) == sorted(zones) and "UTC" in zones and "Europe/Paris" in zones
    assert "localtime" not in zones and "Factory" not in zones
    assert policy_form(TEXT)["timezones"] == list(zones)


def test_form_edits_keep_the_policys_section_order_and_refuse_as_invalid_input() -> None:
    section = TEXT[TEXT.index("reminder:") : TEXT.index("purchase:")]
    text = TEXT.replace(section, "")
    out = apply_form_edits(text, [{"path": ["reminder", "after_days"], "value": 5}])
    assert out.index("credit_back:") < out.index("reminder:\n  after_days: 5\n") < out.index("purchase:")
    assert load_policy_text(out).reminder.after_days == 5
    with pytest.raises(InvalidInput) as info:
        apply_form_edits(TEXT, [{"path": ["plans", "career", "cap", "x"], "value": 1}])
    assert info.value.code == "invalid_edit" and "policies.yaml:" in str(info.value)
