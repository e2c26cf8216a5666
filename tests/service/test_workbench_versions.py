"""Versions of the workbench's folder (TestClient): every save a commit, history, diff, restore."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.browser import CHROMIUM, FLAGS, needs_chromium

from .folders import artifacts, policy_folder, workbench_client
from .server import workbench

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FIVE = "monthly_allotment: 5"


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout


def _client(folder: Path) -> TestClient:
    return workbench_client(folder)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = policy_folder(tmp_path, features=False)
    _git(folder, "init", "-q")
    _git(folder, "config", "user.name", "Repo Owner")
    _git(folder, "config", "user.email", "owner@example.com")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "first")
    return folder


@pytest.fixture
def wb(repo: Path) -> Iterator[TestClient]:
    with _client(repo) as c:
        yield c


def _save(c: TestClient, text: str, **extra: Any) -> Any:
    f = next(f for f in c.get("/wb/api/files").json()["files"] if f["name"] == "policies.yaml")
    return c.post("/wb/api/save", json={"file": "policies.yaml", "text": text, "token": f["token"], **extra})


def _text(c: TestClient) -> str:
    return str(
        next(f for f in c.get("/wb/api/files").json()["files"] if f["name"] == "policies.yaml")["text"]
    )


def test_each_save_is_a_commit_of_that_file_only(wb: TestClient, repo: Path) -> None:
    original = _text(wb)
    (repo / "notes.txt").write_text("mine, not the workbench's\n")
    _git(repo, "add", "notes.txt")  # staged by the person: stays staged, not committed
    (repo / "scratch.txt").write_text("untracked\n")
    assert _save(wb, original.replace(FIVE, "monthly_allotment: 6", 1), note="Six a month").status_code == 200
    assert (
        _save(wb, original.replace(FIVE, "monthly_allotment: 7", 1), note="Seven a month").status_code == 200
    )
    log = _git(repo, "log", "--format=%s|%an", "-n3").splitlines()
    assert log == ["Seven a month|Repo Owner", "Six a month|Repo Owner", "first|Repo Owner"]
    assert _git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["policies.yaml"]
    assert _git(repo, "show", "--name-only", "--format=", "HEAD~1").split() == ["policies.yaml"]
    assert "A  notes.txt" in _git(repo, "status", "--porcelain")
    assert (repo / "scratch.txt").is_file()

    h = wb.get("/wb/api/history").json()
    assert h["git"] is True
    assert [c["note"] for c in h["commits"]] == ["Seven a month", "Six a month", "first"]
    assert h["commits"][0]["files"] == ["policies.yaml"] and h["commits"][0]["when"][:2] == "20"

    new, old = h["commits"][0]["rev"], h["commits"][1]["rev"]
    d = wb.post("/wb/api/history/diff", json={"from": old, "to": new}).json()
    assert "-    monthly_allotment: 6" in d["diff"] and "+    monthly_allotment: 7" in d["diff"]
    assert d["plans"]["from"][1]["monthly_allotment"] == 6 and d["plans"]["to"][1]["monthly_allotment"] == 7

    r = wb.post("/wb/api/history/restore", json={"rev": h["commits"][1]["short"]})
    assert r.status_code == 200, r.text
    assert r.json()["files"] == ["policies.yaml"]
    assert (repo / "policies.yaml").read_text() == original.replace(FIVE, "monthly_allotment: 6", 1)
    assert _git(repo, "log", "--format=%s", "-n1").strip() == f"Restore {old[:7]}"
    assert len(wb.get("/wb/api/history").json()["commits"]) == 4


def test_a_save_without_a_note_says_which_file_and_takes_the_author_given(wb: TestClient, repo: Path) -> None:
    text = _text(wb).replace(FIVE, "monthly_allotment: 6", 1)
    assert _save(wb, text, author="Pat Product <pat@example.com>").status_code == 200
    assert _git(repo, "log", "--format=%s|%an|%ae", "-n1").strip() == (
        "Edit policies.yaml in the workbench|Pat Product|pat@example.com"
    )
    assert wb.post("/wb/api/undo", json={"file": "policies.yaml"}).status_code == 200
    assert _git(repo, "log", "--format=%s", "-n1").strip() == "Undo the last save of policies.yaml"
    assert _git(repo, "status", "--porcelain") == ""


def test_a_save_of_a_rules_file_commits_it(wb: TestClient, repo: Path) -> None:
    f = next(f for f in wb.get("/wb/api/files").json()["files"] if f["name"] == "rules/send.yaml")
    text = f["text"].replace("description:", "description: (edited)", 1)
    body = {"file": "rules/send.yaml", "text": text, "token": f["token"], "note": "Clearer send rule"}
    assert wb.post("/wb/api/save", json=body).status_code == 200
    assert _git(repo, "show", "--name-only", "--format=%s", "HEAD").split("\n")[:3] == [
        "Clearer send rule",
        "",
        "rules/send.yaml",
    ]


def test_a_save_git_refuses_is_put_back(wb: TestClient, repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    before = (repo / "policies.yaml").read_text()
    r = _save(wb, before.replace(FIVE, "monthly_allotment: 6", 1))
    assert r.status_code == 409 and r.json()["code"] == "commit_failed"
    assert (repo / "policies.yaml").read_text() == before
    assert _git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("rev", ["HEAD", "abc", "--all", "0" * 40, "g" * 7])
def test_a_bad_revision_is_refused(wb: TestClient, rev: str) -> None:
    r = wb.post("/wb/api/history/restore", json={"rev": rev})
    assert r.status_code == 422 and r.json()["code"] == "unknown_revision"
    d = wb.post("/wb/api/history/diff", json={"from": rev, "to": rev})
    assert d.status_code == 422


def test_outside_git_saves_work_and_history_offers_to_start(tmp_path: Path) -> None:
    folder = policy_folder(tmp_path, features=False)
    with _client(folder) as c:
        assert c.get("/wb/api/history").json() == {"git": False, "commits": []}
        text = _text(c).replace(FIVE, "monthly_allotment: 6", 1)
        assert _save(c, text).status_code == 200
        assert not (folder / ".git").exists()
        started = c.post("/wb/api/history/init", json={}).json()
        assert started["git"] is True and len(started["commits"]) == 1
        files = _git(folder, "show", "--name-only", "--format=", "HEAD").split()
        assert "policies.yaml" in files and all(f == "policies.yaml" or f.startswith("rules/") for f in files)
        assert "examples" in _git(folder, "status", "--porcelain")  # nothing else committed


@needs_chromium
def test_the_history_tab_lists_a_save_compares_and_restores(repo: Path) -> None:
    """In a real browser: a save with a note is listed; two commits compared; the first restored."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with workbench(repo) as base, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        sync_api.expect(page.locator("#check")).to_contain_text("Draft valid")
        assert page.locator("#save-note").count() == 1
        status = page.evaluate(
            """async (five) => {
                const files = await (await fetch('/wb/api/files')).json();
                const f = files.files.find((x) => x.name === 'policies.yaml');
                const r = await fetch('/wb/api/save', {method: 'POST',
                    headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({file: f.name, text: f.text.replace(five, 'monthly_allotment: 9'),
                                          token: f.token, note: 'Nine a month'})});
                return r.status;
            }""",
            FIVE,
        )
        assert status == 200
        page.click("#tab-history")
        items = page.locator("#history-list li.commit")
        sync_api.expect(items.first).to_contain_text("Nine a month")
        sync_api.expect(items).to_have_count(2)
        page.locator("#history-list input[type=checkbox]").nth(0).check()
        page.locator("#history-list input[type=checkbox]").nth(1).check()
        sync_api.expect(page.locator("#history-diff pre")).to_contain_text("+    monthly_allotment: 9")
        sync_api.expect(page.locator("#history-diff table")).to_have_count(2)
        # coloured like the Save dialog's diff; the plan tables titled like the form, changes marked
        sync_api.expect(page.locator("#history-diff pre span.add")).to_have_text(
            "+    monthly_allotment: 9       # R10"
        )
        sync_api.expect(page.locator("#history-diff table").first).to_contain_text("Monthly allotment")
        sync_api.expect(page.locator("#history-diff td.changed")).to_have_count(2)  # career's, on each side
        # the impact of one version against the other, over the folder's scenarios, with its chart
        page.click("#history-run-impact")
        sync_api.expect(page.locator("#history-impact #impact-headline li").first).to_be_visible(
            timeout=30_000
        )
        assert "Career" in page.inner_text("#history-impact #impact-headline")
        sync_api.expect(page.locator("#history-impact svg.per-plan")).to_have_count(1)
        page.screenshot(path=str(artifacts(repo.parent) / "wb-history-compare.png"), full_page=True)
        items.nth(1).locator("button.restore").click()
        page.locator("dialog.ask button", has_text="Restore").click()
        sync_api.expect(items).to_have_count(3)
        sync_api.expect(items.first).to_contain_text("Restore")
        browser.close()
        assert errors == []
    assert FIVE in (repo / "policies.yaml").read_text()
