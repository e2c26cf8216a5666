"""Good policies and their edge cases: defaults, overrides, settings lookup, immutability."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.errors import InvalidPolicy
from engine.policy import Policy, known_paths, load_policy, load_policy_text, merge_nodes
from engine.source.diagnostics import Diagnostics
from engine.source.marked import YMap, parse_text
from engine.source.paths import packaged_policy_path

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = "plans:\n  solo: {premium: true, monthly_allotment: 2, cap: 2, purchasable: false}\n"


def override(text: str, file: str = "scenario.yaml") -> YMap:
    diags = Diagnostics()
    node = parse_text(text, file, diags)
    assert not diags.items and isinstance(node, YMap)
    return node


def codes(exc: InvalidPolicy) -> list[str]:
    return [d.code for d in exc.diagnostics]


class TestShippedPolicy:
    def test_plans_match_the_design_table(self) -> None:
        policy = load_policy()
        table = {
            name: (p.premium, p.monthly_allotment, p.cap, p.purchasable) for name, p in policy.plans.items()
        }
        assert table == {
            "basic": (False, 0, 0, False),
            "career": (True, 5, 15, True),
            "business": (True, 15, 45, True),
            "sales_navigator": (True, 20, 60, False),
            "recruiter_lite": (True, 30, 90, False),
        }

    def test_knobs_match_the_design(self) -> None:
        policy = load_policy(ROOT / "policies.yaml")
        assert policy.timezone == "UTC"
        assert policy.credits.lifetime_days == 90
        assert policy.renewal.grant_on_start is True
        assert policy.cap.on_overflow == "forfeit_oldest"
        assert policy.cap.applies_to == ("monthly", "credit_back")
        assert (policy.credit_back.window_days, policy.credit_back.lot) == (90, "new")
        assert policy.reminder.after_days == 3
        assert policy.purchase.credit_lifetime_days == 365
        assert dict(policy.responses) == {
            "reply": "replied",
            "interested": "accepted",
            "maybe_later": "accepted",
            "not_interested": "declined",
        }

    def test_default_path_is_the_packaged_policy_and_shows_as_policies_yaml(self) -> None:
        policy = load_policy()
        assert policy.source == "policies.yaml"
        assert policy.digest == load_policy(packaged_policy_path()).digest

    def test_plans_keep_their_position(self) -> None:
        career = load_policy().plans["career"]
        assert career.loc is not None and career.loc.file == "policies.yaml" and career.loc.line > 1


class TestDefaults:
    def test_omitted_sections_take_the_design_defaults(self) -> None:
        policy = load_policy_text(MINIMAL)
        assert policy.timezone == "UTC"
        assert policy.credits.lifetime_days == 90
        assert policy.renewal.grant_on_start is True
        assert policy.cap.on_overflow == "forfeit_oldest"
        assert policy.cap.applies_to == ("monthly", "credit_back")
        assert (policy.credit_back.window_days, policy.credit_back.lot) == (90, "new")
        assert policy.reminder.after_days == 3
        assert policy.purchase.credit_lifetime_days == 365
        assert policy.responses["maybe_later"] == "accepted"

    def test_an_empty_section_keeps_its_defaults(self) -> None:
        policy = load_policy_text("credits: {}\ncredit_back: {lot: original}\n" + MINIMAL)
        assert policy.credits.lifetime_days == 90
        assert (policy.credit_back.window_days, policy.credit_back.lot) == (90, "original")

    def test_a_cap_equal_to_the_allotment_and_zero_plans_are_fine(self) -> None:
        free = "  free: {premium: false, monthly_allotment: 0, cap: 0, purchasable: false}\n"
        policy = load_policy_text(MINIMAL + free)
        assert policy.plans["solo"].cap == policy.plans["solo"].monthly_allotment == 2
        assert list(policy.plans) == ["solo", "free"]

    def test_responses_replace_the_defaults_as_a_whole(self) -> None:
        policy = load_policy_text("responses: {reply: replied, thumbs_up: accepted}\n" + MINIMAL)
        assert dict(policy.responses) == {"reply": "replied", "thumbs_up": "accepted"}

    def test_an_empty_cap_list_caps_nothing(self) -> None:
        assert load_policy_text("cap: {applies_to: []}\n" + MINIMAL).cap.applies_to == ()

    @pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"])
    def test_time_zones_by_name(self, zone: str) -> None:
        assert load_policy_text(f"timezone: {zone}\n" + MINIMAL).timezone == zone


class TestOverrides:
    def test_override_changes_one_value_and_keeps_the_rest(self) -> None:
        base = load_policy()
        policy = load_policy(override=override("plans: {career: {monthly_allotment: 6}}\n"))
        assert policy.plans["career"].monthly_allotment == 6
        assert policy.plans["career"].cap == base.plans["career"].cap
        assert policy.plans["business"] == base.plans["business"]

    def test_override_errors_point_at_the_override_file(self) -> None:
        text = "title: x\npolicy:\n  plans:\n    career: {monthly_allotment: -1}\n"
        node = override(text).items["policy"]
        assert isinstance(node, YMap)
        with pytest.raises(InvalidPolicy) as info:
            load_policy(override=node, override_text=text)
        [d] = info.value.diagnostics
        assert d.code == "negative_number"
        assert d.loc is not None and (d.loc.file, d.loc.line, d.loc.column) == ("scenario.yaml", 4, 33)

    def test_override_typo_points_at_the_override_key(self) -> None:
        node = override("credit_back:\n  windows_days: 30\n")
        with pytest.raises(InvalidPolicy) as info:
            load_policy(override=node)
        [d] = info.value.diagnostics
        assert d.code == "unknown_key" and d.help == "did you mean `window_days`?"
        assert d.loc is not None and (d.loc.file, d.loc.line) == ("scenario.yaml", 2)

    def test_override_adding_an_incomplete_plan_names_the_missing_keys(self) -> None:
        node = override("plans:\n  team: {premium: true, cap: 10}\n")
        with pytest.raises(InvalidPolicy) as info:
            load_policy(override=node)
        assert codes(info.value) == ["missing_key", "missing_key"]
        assert {d.loc.file for d in info.value.diagnostics if d.loc} == {"scenario.yaml"}

    def test_override_replaces_lists_instead_of_merging_them(self) -> None:
        policy = load_policy(override=override("cap: {applies_to: [monthly]}\n"))
        assert policy.cap.applies_to == ("monthly",)

    def test_override_changes_the_digest(self) -> None:
        plain = load_policy()
        text = "reminder: {after_days: 2}\n"
        changed = load_policy(override=override(text), override_text=text)
        assert changed.digest != plain.digest
        assert load_policy(override=override(text), override_text=text).digest == changed.digest

    def test_merge_nodes_is_deep_and_does_not_touch_its_inputs(self) -> None:
        base = override("a: {b: 1, c: {d: 2}}\n", "base.yaml")
        top = override("a: {c: {e: 3}}\n")
        merged = merge_nodes(base, top)
        assert merged.plain() == {"a": {"b": 1, "c": {"d": 2, "e": 3}}}
        assert base.plain() == {"a": {"b": 1, "c": {"d": 2}}}
        assert merged.key_loc("a").file == "scenario.yaml"


class TestSetting:
    @pytest.mark.parametrize(
        ("path", "value"),
        [
            ("credit_back.window_days", 90),
            ("credits.lifetime_days", 90),
            ("cap.applies_to", ("monthly", "credit_back")),
            ("timezone", "UTC"),
            ("plans.career.cap", 15),
            ("plans.sales_navigator.purchasable", False),
            ("responses.not_interested", "declined"),
        ],
    )
    def test_lookup(self, path: str, value: object) -> None:
        assert load_policy().setting(path) == value

    @pytest.mark.parametrize(
        "path",
        [
            "credit_back.nope",
            "nope",
            "",
            "source",
            "digest",
            "plans.career.loc",
            "plans.gold.cap",
            "credits.lifetime_days.more",
            "responses.shrug",
        ],
    )
    def test_unknown_paths_raise_key_error_naming_the_path(self, path: str) -> None:
        with pytest.raises(KeyError) as info:
            load_policy().setting(path)
        assert info.value.args == (path,)

    def test_every_known_path_resolves(self) -> None:
        policy = load_policy()
        for path in known_paths():
            policy.setting(path)


class TestImmutability:
    def test_policy_and_plans_are_frozen(self) -> None:
        policy = load_policy()
        with pytest.raises(dataclasses.FrozenInstanceError):
            policy.timezone = "Europe/Paris"  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            policy.plans["career"].cap = 99  # type: ignore[misc]
        with pytest.raises(TypeError):
            policy.plans["gold"] = policy.plans["career"]  # type: ignore[index]
        with pytest.raises(TypeError):
            policy.responses["shrug"] = "declined"  # type: ignore[index]

    def test_default_responses_are_not_shared_mutable_state(self) -> None:
        a = load_policy_text(MINIMAL)
        b = load_policy_text(MINIMAL)
        assert a.responses == b.responses
        assert isinstance(a, Policy)


class TestFiles:
    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidPolicy) as info:
            load_policy(tmp_path / "nope.yaml")
        assert codes(info.value) == ["file_not_found"]

    def test_folder_instead_of_file(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidPolicy) as info:
            load_policy(tmp_path)
        assert codes(info.value) == ["file_not_found"]

    def test_not_utf8(self, tmp_path: Path) -> None:
        file = tmp_path / "policies.yaml"
        file.write_bytes(b"timezone: \xff\xfe\n")
        with pytest.raises(InvalidPolicy) as info:
            load_policy(file)
        assert codes(info.value) == ["not_utf8"]
        loc = info.value.diagnostics[0].loc
        assert loc is not None and (loc.line, loc.column) == (1, 11)

    def test_display_name_is_used_in_diagnostics(self, tmp_path: Path) -> None:
        file = tmp_path / "p.yaml"
        file.write_text("plans: 3\n", encoding="utf-8")
        with pytest.raises(InvalidPolicy) as info:
            load_policy(file, display="mine.yaml")
        assert str(info.value).startswith("mine.yaml:1:8: wrong_type:")

    def test_same_text_same_digest(self, tmp_path: Path) -> None:
        a = load_policy_text(MINIMAL, "a.yaml")
        b = load_policy_text(MINIMAL, "b.yaml")
        c = load_policy_text(MINIMAL + "# a comment\n", "a.yaml")
        assert a.digest == b.digest != c.digest

    @pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
    def test_an_endless_device_is_never_read(self) -> None:
        with pytest.raises(InvalidPolicy) as info:
            load_policy("/dev/zero")
        assert codes(info.value) == ["unreadable_file"]

    def test_windows_line_endings_read_like_unix_ones(self, tmp_path: Path) -> None:
        unix, windows = tmp_path / "unix.yaml", tmp_path / "windows.yaml"
        unix.write_bytes(MINIMAL.encode())
        windows.write_bytes(MINIMAL.replace("\n", "\r\n").encode())
        assert load_policy(unix).digest == load_policy(windows).digest


def test_a_text_parsed_under_two_names_reads_as_each() -> None:
    """The parse cache keys on the text alone: the same text under another name comes back with
    that name in every location, and a problem is still found afresh."""
    text = "plans:\n  career: {monthly_allotment: 5}\n"
    a = parse_text(text, "a.yaml", Diagnostics())
    b = parse_text(text, "b.yaml", Diagnostics())
    assert isinstance(a, YMap) and isinstance(b, YMap)
    inner_a, inner_b = a.items["plans"], b.items["plans"]
    assert isinstance(inner_a, YMap) and isinstance(inner_b, YMap)
    assert (a.loc.file, inner_a.items["career"].loc.file, inner_a.key_loc("career").file) == ("a.yaml",) * 3
    assert (b.loc.file, inner_b.items["career"].loc.file, inner_b.key_loc("career").file) == ("b.yaml",) * 3
    assert inner_b.items["career"].loc.line == inner_a.items["career"].loc.line == 2
    bad = Diagnostics()
    assert parse_text("plans: [\n", "c.yaml", bad) is None or bad.has_errors()
    again = Diagnostics()
    parse_text("plans: [\n", "d.yaml", again)
    assert again.has_errors() and again.items[0].loc.file == "d.yaml"
