"""Impact reports as jobs (TestClient): started at once, followed call by call, cancelled, compared
between two versions of the folder; every refusal said before anything runs."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.service import impact_jobs
from engine.service.impact_jobs import MAX_RUNNING, Jobs

from .folders import policy_folder, workbench_client

SCENARIOS = ["examples/scenarios/career-first-quarter.yaml"]


def _client(folder: Path) -> TestClient:
    return workbench_client(folder)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return policy_folder(tmp_path, features=False)


@pytest.fixture
def wb(folder: Path) -> Iterator[TestClient]:
    with _client(folder) as c:
        yield c


def _finish(c: TestClient, job: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = c.get(f"/wb/api/impact/jobs/{job}").json()
        if answer["state"] != "running" or time.monotonic() > deadline:
            return dict(answer)
        time.sleep(0.05)


def _draft(c: TestClient, old: str, new: str) -> dict[str, str]:
    text = next(f for f in c.get("/wb/api/files").json()["files"] if f["name"] == "policies.yaml")["text"]
    assert old in text
    return {"policies.yaml": text.replace(old, new, 1)}


def test_a_job_gives_the_report_the_plain_route_gives_and_counts_its_calls(wb: TestClient) -> None:
    files = _draft(wb, "monthly_allotment: 5", "monthly_allotment: 8")
    body = {"files": files, "scenarios": SCENARIOS}
    r = wb.post("/wb/api/impact/jobs", json=body)
    assert r.status_code == 202 and r.json()["state"] == "running", r.text
    done = _finish(wb, r.json()["job"])
    assert done["state"] == "done" and done["problem"] is None
    assert done["report"] == wb.post("/wb/api/impact", json=body).json()
    assert done["calls"] > 0 and done["report"]["headline"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"scenarios": ["nope.yaml"]}, 404, "unknown_scenario"),
        ({"scenarios": []}, 404, "unknown_scenario"),
        ({"store": True}, 409, "no_store"),
        ({"scenarios": SCENARIOS, "files": {"../etc/passwd": "x"}}, 422, "invalid_file"),
        ({"scenarios": "career-first-quarter.yaml"}, 422, "invalid_request"),
    ],
)
def test_what_cannot_run_is_refused_before_a_job_starts(
    wb: TestClient, body: dict[str, Any], status: int, code: str
) -> None:
    r = wb.post("/wb/api/impact/jobs", json=body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_a_draft_that_does_not_load_fails_its_job_with_the_diagnostics(wb: TestClient) -> None:
    files = _draft(wb, "monthly_allotment: 5", "monthly_allotment: lots")
    job = wb.post("/wb/api/impact/jobs", json={"files": files, "scenarios": SCENARIOS}).json()["job"]
    done = _finish(wb, job)
    assert done["state"] == "failed" and done["report"] is None
    assert done["problem"]["diagnostics"] and done["problem"]["code"]


def test_an_unknown_job_is_404(wb: TestClient) -> None:
    for r in (wb.get("/wb/api/impact/jobs/0123"), wb.post("/wb/api/impact/jobs/0123/cancel", json={})):
        assert (r.status_code, r.json()["code"]) == (404, "unknown_job")


def _slow(**kwargs: Any) -> Any:
    """A comparison of 100,000 calls at a millisecond each: long enough to be cancelled midway."""
    for n in range(1, 100_001):
        time.sleep(0.001)
        kwargs["progress"](n)
    raise AssertionError("not cancelled")


def test_cancel_stops_a_running_comparison_at_its_next_call_and_frees_its_place(
    wb: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(impact_jobs, "compare_policies", _slow)
    body = {"scenarios": SCENARIOS}
    jobs = [wb.post("/wb/api/impact/jobs", json=body).json()["job"] for _ in range(MAX_RUNNING)]
    r = wb.post("/wb/api/impact/jobs", json=body)
    assert (r.status_code, r.json()["code"]) == (409, "impact_busy")
    while wb.get(f"/wb/api/impact/jobs/{jobs[0]}").json()["calls"] < 20:
        time.sleep(0.01)
    assert wb.post(f"/wb/api/impact/jobs/{jobs[0]}/cancel", json={}).status_code == 200
    stopped = _finish(wb, jobs[0], timeout=10)
    assert stopped["state"] == "cancelled" and stopped["report"] is None
    calls = stopped["calls"]
    time.sleep(0.2)
    assert wb.get(f"/wb/api/impact/jobs/{jobs[0]}").json()["calls"] == calls  # it does not go on
    assert wb.post("/wb/api/impact/jobs", json=body).status_code == 202  # its place is free again
    for job in jobs[1:]:
        wb.post(f"/wb/api/impact/jobs/{job}/cancel", json={})


def test_finished_jobs_are_forgotten_after_ten_minutes() -> None:
    now = [0.0]
    jobs = Jobs(clock=lambda: now[0])
    job = jobs.start(lambda progress: {"ok": True})
    for _ in range(200):
        if job.state == "done":
            break
        time.sleep(0.01)
    assert jobs.get(job.id).report == {"ok": True}
    now[0] += impact_jobs.KEEP_SECONDS + 1
    jobs.start(lambda progress: {})
    with pytest.raises(Exception, match="no impact report"):
        jobs.get(job.id)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_two_versions_are_compared_like_a_draft_against_the_saved_files(folder: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    who = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    git(*who, "commit", "-q", "-m", "first")
    first = git("rev-parse", "HEAD")
    with _client(folder) as c:
        files = _draft(c, "monthly_allotment: 5", "monthly_allotment: 8")
        draft = c.post("/wb/api/impact", json={"files": files, "scenarios": SCENARIOS}).json()
        (folder / "policies.yaml").write_text(files["policies.yaml"])
        git(*who, "commit", "-q", "-am", "career 8")
        second = git("rev-parse", "HEAD")
        r = c.post("/wb/api/history/impact", json={"from": first[:7], "to": second, "scenarios": SCENARIOS})
        assert r.status_code == 202, r.text
        done = _finish(c, r.json()["job"])
        assert done["state"] == "done", done
        assert done["report"]["headline"] == draft["headline"] and done["report"]["totals"] == draft["totals"]
        same = _finish(
            c,
            c.post(
                "/wb/api/history/impact", json={"from": second, "to": second, "scenarios": SCENARIOS}
            ).json()["job"],
        )
        assert same["report"]["changed"] == 0 and same["report"]["accounts"] == {}
        r = c.post("/wb/api/history/impact", json={"from": "deadbeef", "to": second, "scenarios": SCENARIOS})
        assert (r.status_code, r.json()["code"]) == (422, "unknown_revision")
