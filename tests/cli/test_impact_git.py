"""``inmail impact --base git:REV``: the base read from a git revision, in throwaway repositories.

Each test makes its own repository in a temporary folder (the shipped policy, rules and
requirements committed, then an edit committed on top), so a revision is a known file;
git runs with no user or system configuration, so a reviewer's settings cannot change
what a test sees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from engine.cli import main

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

ROOT = Path(__file__).resolve().parents[2]
WINDOW = "response-window.yaml"  # responses inside and outside the credit-back window
BUYING = "buying-credits.yaml"  # a Sales Navigator member tries to buy credits
#: A policy edit that changes decisions of WINDOW: late responses no longer earn the credit back.
POLICY_EDIT = ("window_days: 90 ", "window_days: 30 ")
#: A policy edit that changes what a synthetic year grants: Career members get 8 credits a month.
CAREER_EDIT = ("monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
#: A rules edit that changes a decision of BUYING: the refusal's reason.
RULES_EDIT = ("reason: not_purchasable}", "reason: upgrade_required}")

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def policy_project(folder: Path) -> None:
    """The files of a policy repository: policy, rules, requirements and the example scenarios."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "policies.yaml", folder / "policies.yaml")
    shutil.copytree(ROOT / "rules", folder / "rules")
    (folder / "features").mkdir()
    shutil.copy(ROOT / "features" / "REQUIREMENTS.md", folder / "features" / "REQUIREMENTS.md")
    shutil.copytree(ROOT / "examples" / "scenarios", folder / "examples" / "scenarios")


def new_repo(repo: Path, project: str = ".") -> Path:
    """A repository whose first commit (on main) holds a policy project in ``project``."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    policy_project(repo / project)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the shipped policy")
    return repo / project


def commit_edit(repo: Path, path: Path, change: tuple[str, str], message: str) -> None:
    edit(path, *change)
    git(repo, "commit", "-q", "-am", message)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="inmail")


def report(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def changes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(t["from"], t["to"]) for t in doc["transitions"]]


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where the command makes its temporary folders during the test (to see they are gone after)."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root
    assert list(root.iterdir()) == [], "the revision's files were left behind"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, temp_root: Path) -> Path:
    """A policy repository, the current folder: the shipped policy, then a commit of POLICY_EDIT."""
    repo = tmp_path / "repo"
    new_repo(repo)
    commit_edit(repo, repo / "policies.yaml", POLICY_EDIT, "credit back within 30 days")
    monkeypatch.chdir(repo)
    return repo


def test_the_base_at_the_previous_commit_shows_the_committed_edit(repo: Path) -> None:
    scenario = f"examples/scenarios/{WINDOW}"
    before = run("impact", "--base", "git:HEAD~1", scenario, "--format", "json")
    assert ("credited_back", "not_credited/late_response") in changes(report(before))
    short = git(repo, "rev-parse", "--short", "HEAD~1")
    assert f"base: git:HEAD~1 ({short})" in before.stderr  # JSON on stdout stays one document
    now = run("impact", "--base", "git:HEAD", scenario, "--format", "json")
    assert changes(report(now)) == [] and report(now)["changed"] == 0  # HEAD is the working tree
    table = run("impact", "--base", "git:HEAD~1", scenario, "--fail-on-change")
    assert table.exit_code == 1, table.output
    assert table.stdout.startswith(f"base: git:HEAD~1 ({short})\n")  # above the report


def test_an_uncommitted_edit_is_compared_with_the_last_commit(repo: Path) -> None:
    edit(repo / "policies.yaml", "window_days: 30 ", "window_days: 90 ")  # the edit undone, not committed
    result = run("impact", "--base", "git:HEAD", f"examples/scenarios/{WINDOW}", "--format", "json")
    assert ("not_credited/late_response", "credited_back") in changes(report(result))


def test_the_base_rules_default_to_the_same_revision(repo: Path) -> None:
    commit_edit(repo, repo / "rules" / "purchase.yaml", RULES_EDIT, "another reason")
    scenario = f"examples/scenarios/{BUYING}"
    moved = ("denied/not_purchasable", "denied/upgrade_required")
    assert moved in changes(report(run("impact", "--base", "git:HEAD~2", scenario, "--format", "json")))
    assert moved in changes(report(run("impact", "--base", "git:HEAD~1", scenario, "--format", "json")))
    # rules given as a folder: the working tree's on both sides, so only the policy edit is left
    both = run("impact", "--base", "git:HEAD~2", "--base-rules", "rules", scenario, "--format", "json")
    assert moved not in changes(report(both))
    # the rules alone at a revision, the policy from a file
    shutil.copy(repo / "policies.yaml", repo.parent / "same.yaml")
    alone = run(
        "impact", "--base", "../same.yaml", "--base-rules", "git:HEAD~1", scenario, "--format", "json"
    )
    assert changes(report(alone)) == [moved]
    short = git(repo, "rev-parse", "--short", "HEAD~1")
    assert f"base: rules git:HEAD~1 ({short})" in alone.stderr


def test_a_policy_in_a_subfolder_named_from_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, temp_root: Path
) -> None:
    repo = tmp_path / "repo"
    project = new_repo(repo, "policy/inmail")
    commit_edit(repo, project / "policies.yaml", POLICY_EDIT, "credit back within 30 days")
    monkeypatch.chdir(tmp_path)
    args = ["--policy", str(project / "policies.yaml"), "--rules", str(project / "rules")]
    scenario = str(project / "examples" / "scenarios" / WINDOW)
    result = run("impact", "--base", "git:main~1", *args, scenario, "--format", "json")
    assert ("credited_back", "not_credited/late_response") in changes(report(result))


@pytest.mark.parametrize(
    ("args", "code", "named"),
    [
        pytest.param(["--base", "git:no-such-branch"], "unknown_revision", "`no-such-branch`", id="base"),
        pytest.param(
            ["--base", "git:HEAD", "--base-rules", "git:v9"], "unknown_revision", "`v9`", id="base-rules"
        ),
        pytest.param(["--base", "git:--output=x"], "unknown_revision", "`git:--output=x`", id="an option"),
        pytest.param(["--base", "git:"], "unknown_revision", "`git:`", id="empty"),
        pytest.param(
            ["--base", "git:HEAD", "--policy", "other.yaml"],
            "file_not_found",
            "`HEAD:other.yaml`",
            id="no such policy at the revision",
        ),
        pytest.param(
            ["--base", "git:HEAD", "--base-rules", "git:HEAD", "--rules", "mine"],
            "file_not_found",
            "`HEAD:mine`",
            id="no such rules folder at the revision",
        ),
    ],
)
def test_a_revision_git_cannot_give_is_refused_by_name(
    repo: Path, args: list[str], code: str, named: str
) -> None:
    result = run("impact", *args, f"examples/scenarios/{WINDOW}")
    assert result.exit_code == 2, result.output
    assert f"error: {code}: " in result.stderr and named in result.stderr
    assert "Traceback" not in result.output and not result.stdout


def test_a_folder_outside_any_repository_says_git_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, temp_root: Path
) -> None:
    folder = tmp_path / "plain"
    policy_project(folder)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no repository above it either
    monkeypatch.chdir(folder)
    result = run("impact", "--base", "git:HEAD", f"examples/scenarios/{WINDOW}")
    assert result.exit_code == 2, result.output
    assert "error: git_unavailable: " in result.stderr and "not in a git work tree" in result.stderr
    assert "help: " in result.stderr and "--base OLD.yaml" in result.stderr
    assert "Traceback" not in result.output


def test_without_git_installed_it_says_so(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "rules"))  # a folder with no git in it
    result = run("impact", "--base", "git:HEAD", f"examples/scenarios/{WINDOW}")
    assert result.exit_code == 2, result.output
    assert "error: git_unavailable: git is not installed" in result.stderr
    assert "help: install git" in result.stderr


# --- the CI example: examples/ci/policy-check.yml ---------------------------------------------

WORKFLOW = ROOT / "examples" / "ci" / "policy-check.yml"


def workflow_steps() -> list[dict[str, Any]]:
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = doc["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def command(words: str) -> str:
    """The one ``run:`` of the workflow that runs ``words``."""
    (found,) = [s["run"] for s in workflow_steps() if words in s.get("run", "")]
    return str(found)


def test_the_workflow_fetches_main_runs_the_features_and_comments_the_report() -> None:
    steps = workflow_steps()
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # else origin/main is not there to compare with
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    features = command("pytest")
    assert f"\n{features} " in readme, "the features run as the README runs them"
    impact = command("inmail impact")
    assert "--base git:origin/main" in impact and "--fail-on-change" in impact
    assert impact.endswith("> impact.md")
    comment = steps[-1]
    assert comment["with"]["path"] == "impact.md" and "!cancelled()" in comment["if"]
    names = [s.get("run", "") for s in steps]
    assert names.index(command("inmail validate")) < names.index(features) < names.index(impact)


def shell(script: str, cwd: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """``script`` as a GitHub Actions ``run:`` step runs it (bash, -e, pipefail), with this ``inmail``."""
    here = Path(sys.executable).parent
    if shutil.which("inmail", path=str(here)) is None:
        pytest.skip(f"no `inmail` command beside {sys.executable} (pip install -e .)")
    env = {**GIT_ENV, "PATH": f"{here}{os.pathsep}{os.environ.get('PATH', '')}", "TMPDIR": str(tmp)}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_workflows_commands_pass_main_and_flag_the_pull_requests_edit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    new_repo(repo)
    git(repo, "update-ref", "refs/remotes/origin/main", git(repo, "rev-parse", "HEAD"))
    git(repo, "checkout", "-q", "-b", "credit-back-30-days")
    commit_edit(repo, repo / "policies.yaml", CAREER_EDIT, "Career: 8 credits a month")
    impact = command("inmail impact")
    markdown = "markdown" in run("impact", "--help").stdout
    if not markdown:  # until the markdown report lands, the same command with the JSON one
        impact = impact.replace("--format markdown", "--format json")
    tmp = tmp_path / "tmp"
    tmp.mkdir()

    validated = shell(command("inmail validate"), repo, tmp)
    assert validated.returncode == 0, validated.stderr
    flagged = shell(impact, repo, tmp)
    assert flagged.returncode == 1, flagged.stderr  # --fail-on-change: the edit changes credits
    short = git(repo, "rev-parse", "--short", "origin/main")
    text = (repo / "impact.md").read_text(encoding="utf-8")
    if markdown:
        assert f"git:origin/main ({short})" in text and "Career" in text
    else:
        granted = json.loads(text)["totals"]["career"]["granted"]
        assert granted["new"] > granted["base"], granted
        assert f"base: git:origin/main ({short})" in flagged.stderr

    git(repo, "checkout", "-q", "main")  # main against itself: the gate passes
    passed = shell(impact, repo, tmp)
    assert passed.returncode == 0, passed.stderr
    assert list(tmp.iterdir()) == [], "the revision's files were left behind"
