"""`inmail validate` and `inmail plans` as a policy editor uses them."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine import __version__
from engine.cli import main
from engine.cli.validate import PLAN_FIELDS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "policies.yaml"
EXAMPLE = ROOT / "examples" / "policies" / "linkedin-2026.yaml"
HAS_RULEBOOK = importlib.util.find_spec("engine.rules.book") is not None


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="inmail")


def plan_json(policy: Path) -> dict[str, dict[str, object]]:
    result = run("plans", "--policy", str(policy), "--format", "json")
    assert result.exit_code == 0, result.output
    return {r["plan"]: r for r in json.loads(result.stdout)}


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not found")


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture
def typo_policy(tmp_path: Path) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    bad = text.replace("monthly_allotment: 5 ", "monthly_alotment: 5 ", 1)
    assert bad != text
    path = tmp_path / "policies.yaml"
    path.write_text(bad, encoding="utf-8")
    return path


class TestValidate:
    def test_shipped_policy_is_valid_in_one_line(self) -> None:
        result = run("validate", "--policy", str(SHIPPED))
        no_traceback(result)
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert len(lines) == 1
        summary = r"^\S*policies\.yaml: valid \(5 plans\b.*revision [0-9a-f]{12}\)?$"
        assert re.match(summary, lines[0]), lines[0]

    @pytest.mark.skipif(not HAS_RULEBOOK, reason="rules compiler not built yet")
    def test_summary_counts_rules(self) -> None:
        result = run("validate", "--policy", str(SHIPPED), "--rules", str(ROOT / "rules"))
        assert result.exit_code == 0, result.output
        assert re.search(r"rules: valid \(\d+ rules in \d+ files", result.stdout)

    def test_typo_exits_2_naming_the_line_and_the_right_key(self, typo_policy: Path) -> None:
        result = run("validate", "--policy", str(typo_policy))
        no_traceback(result)
        assert result.exit_code == 2
        line = line_of(typo_policy.read_text(encoding="utf-8"), "monthly_alotment")
        assert f"{typo_policy}:{line}:5: unknown_key: unknown key `monthly_alotment`" in result.stderr
        assert "help: did you mean `monthly_allotment`?" in result.stderr
        assert "error: 1 problem found" in result.stderr
        assert result.stdout == ""

    def test_every_problem_is_listed(self, tmp_path: Path) -> None:
        text = SHIPPED.read_text(encoding="utf-8")
        text = text.replace("cap: 45", "cap: 4").replace("lot: new", "lot: newest")
        path = tmp_path / "p.yaml"
        path.write_text(text, encoding="utf-8")
        result = run("validate", "--policy", str(path))
        assert result.exit_code == 2
        assert "cap_below_allotment" in result.stderr and "invalid_choice" in result.stderr
        assert "error: 2 problems found" in result.stderr

    def test_missing_policy_file(self, tmp_path: Path) -> None:
        result = run("validate", "--policy", str(tmp_path / "nope.yaml"))
        no_traceback(result)
        assert result.exit_code == 2
        assert "file_not_found" in result.stderr

    def test_python_tag_is_refused_not_run(self, tmp_path: Path) -> None:
        marker = tmp_path / "ran"
        path = tmp_path / "p.yaml"
        path.write_text(f"timezone: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
        result = run("validate", "--policy", str(path))
        assert result.exit_code == 2
        assert "forbidden_tag" in result.stderr
        assert not marker.exists()

    @pytest.mark.skipif(not HAS_RULEBOOK, reason="rules compiler not built yet")
    def test_missing_rules_folder(self, tmp_path: Path) -> None:
        result = run("validate", "--policy", str(SHIPPED), "--rules", str(tmp_path / "nope"))
        no_traceback(result)
        assert result.exit_code == 2
        assert result.stderr.strip()

    @pytest.mark.skipif(not HAS_RULEBOOK, reason="rules compiler not built yet")
    def test_bad_rule_fails_with_its_file_and_line(self, tmp_path: Path) -> None:
        rules = tmp_path / "rules"
        shutil.copytree(ROOT / "rules", rules)
        send = rules / "send.yaml"
        text = send.read_text(encoding="utf-8")
        assert "sender.premium" in text
        send.write_text(text.replace("sender.premium", "sender.premum", 1), encoding="utf-8")
        result = run("validate", "--policy", str(SHIPPED), "--rules", str(rules))
        no_traceback(result)
        assert result.exit_code == 2
        assert f"{send}:{line_of(send.read_text(encoding='utf-8'), 'sender.premum')}:" in result.stderr

    @pytest.mark.skipif(not HAS_RULEBOOK, reason="rules compiler not built yet")
    def test_warnings_are_printed_but_do_not_fail(self, tmp_path: Path) -> None:
        rules = tmp_path / "rules"
        shutil.copytree(ROOT / "rules", rules)
        purchase = rules / "purchase.yaml"
        text = purchase.read_text(encoding="utf-8")
        anchor = "  - id: purchase-needs-valid-card\n"
        assert anchor in text
        again = (
            "  - id: purchase-needs-premium-again\n    requirement: R02\n"
            "    description: The same check twice.\n    when: {account.premium: false}\n"
            "    then: {outcome: denied, reason: upgrade_required}\n\n"
        )
        purchase.write_text(text.replace(anchor, again + anchor), encoding="utf-8")
        result = run("validate", "--policy", str(SHIPPED), "--rules", str(rules))
        no_traceback(result)
        assert result.exit_code == 0, result.output
        assert re.search(
            r"purchase\.yaml:\d+:\d+: warning: \w+: rule `purchase-needs-premium-again`", result.stderr
        ), result.stderr
        assert "1 warning)" in result.stdout


class TestWhichPolicy:
    def test_local_policies_yaml_is_picked_up(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        text = SHIPPED.read_text(encoding="utf-8")
        text = text.replace("monthly_allotment: 5 ", "monthly_allotment: 7 ", 1)
        (tmp_path / "policies.yaml").write_text(text, encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        result = run("validate")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("policies.yaml: valid (5 plans")
        rows = json.loads(run("plans", "--format", "json").stdout)
        assert {r["plan"]: r["monthly_allotment"] for r in rows}["career"] == 7

    def test_local_typo_is_reported_against_the_local_file(
        self, typo_policy: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(typo_policy.parent)
        result = run("validate")
        assert result.exit_code == 2
        assert re.search(r"^policies\.yaml:\d+:5: unknown_key", result.stderr, re.M), result.stderr

    def test_packaged_policy_without_a_local_one(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        result = run("validate")
        assert result.exit_code == 0, result.output
        assert "policies.yaml: valid (5 plans" in result.stdout
        assert not result.stdout.startswith("policies.yaml")  # shown with its full path

    def test_explicit_policy_wins_over_the_local_one(
        self, typo_policy: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(typo_policy.parent)
        result = run("validate", "--policy", str(SHIPPED))
        assert result.exit_code == 0, result.output


class TestPlans:
    def test_table_compares_plans_side_by_side(self) -> None:
        result = run("plans", "--policy", str(SHIPPED))
        no_traceback(result)
        assert result.exit_code == 0, result.output
        out = result.stdout
        for header in (
            "Plan",
            "Premium",
            "Monthly allotment",
            "Cap",
            "Credit lifetime (days)",
            "May buy credits",
        ):
            assert header in out
        rows = {
            cells[0]: cells[1:]
            for line in out.splitlines()
            if len(cells := line.split()) >= 7 and cells[0] in {"basic", "career", "sales_navigator"}
        }
        assert rows["basic"] == ["no", "0", "0", "90", "days", "no"]
        assert rows["career"] == ["yes", "5", "15", "90", "days", "yes"]
        assert rows["sales_navigator"] == ["yes", "20", "60", "90", "days", "no"]
        order = [
            line.split()[0]
            for line in out.splitlines()
            if line.split()[:1]
            and line.split()[0] in {"basic", "career", "business", "sales_navigator", "recruiter_lite"}
        ]
        assert order == ["basic", "career", "business", "sales_navigator", "recruiter_lite"]

    def test_json_is_a_list_with_stable_keys(self) -> None:
        result = run("plans", "--policy", str(SHIPPED), "--format", "json")
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert [tuple(r) for r in rows] == [PLAN_FIELDS] * 5
        assert rows[1] == {
            "plan": "career",
            "premium": True,
            "monthly_allotment": 5,
            "cap": 15,
            "credit_lifetime_days": 90,
            "purchasable": True,
        }

    def test_invalid_policy_exits_2(self, typo_policy: Path) -> None:
        result = run("plans", "--policy", str(typo_policy))
        no_traceback(result)
        assert result.exit_code == 2
        assert "monthly_allotment" in result.stderr and result.stdout == ""

    def test_unknown_format_is_a_usage_error(self) -> None:
        result = run("plans", "--format", "xml")
        assert result.exit_code == 2
        assert "xml" in result.output


class TestExamplePolicy:
    def test_it_validates(self) -> None:
        result = run("validate", "--policy", str(EXAMPLE))
        assert result.exit_code == 0, result.output

    def test_plans_shows_the_2026_numbers(self) -> None:
        rows = plan_json(EXAMPLE)
        assert (rows["sales_navigator"]["monthly_allotment"], rows["sales_navigator"]["cap"]) == (50, 150)
        assert (rows["recruiter_lite"]["monthly_allotment"], rows["recruiter_lite"]["cap"]) == (30, 120)
        shipped = plan_json(SHIPPED)
        for name in ("basic", "career", "business"):
            assert rows[name] == shipped[name]

    def test_table_shows_the_edit(self) -> None:
        out = run("plans", "--policy", str(EXAMPLE)).stdout
        assert re.search(r"sales_navigator\s+yes\s+50\s+150\s", out)
        assert re.search(r"recruiter_lite\s+yes\s+30\s+120\s", out)


class TestHelpAndVersion:
    @pytest.mark.parametrize("command", [[], ["validate"], ["plans"]])
    def test_help(self, command: list[str]) -> None:
        result = run(*command, "--help")
        assert result.exit_code == 0
        assert result.stdout.startswith("Usage: inmail")

    def test_group_help_lists_the_commands(self) -> None:
        out = run("--help").stdout
        assert "validate" in out and "plans" in out

    def test_options_are_documented(self) -> None:
        assert "--policy" in run("validate", "--help").stdout
        assert "--rules" in run("validate", "--help").stdout
        assert "--format [table|json]" in run("plans", "--help").stdout

    def test_version(self) -> None:
        result = run("--version")
        assert result.exit_code == 0
        assert result.stdout.strip() == f"inmail, version {__version__}"
