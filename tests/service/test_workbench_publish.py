"""Publish: the workbench reloads a running ``inmail serve`` on the same folder, with real processes.

The service is started on a copy of the policy folder with a bearer token; the
workbench on the same folder with ``--publish-to`` its URL. A save through the
workbench changes the file; Publish makes the service answer with the new
revision. A wrong token, a refused policy, a workbench without a service and a
service that is down are each a problem with its code, never a 5xx traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine.cli import main
from tests.browser import needs_chromium

from .folders import artifacts, policy_folder
from .server import Server, free_port, fresh, running, workbench

EIGHT = ("monthly_allotment: 5", "monthly_allotment: 8")
TOKEN = "publish-test-token-0123456789"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    work = policy_folder(tmp_path, features=False)
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "wrong").write_text("not-the-token\n")
    return work


@pytest.fixture
def service(folder: Path) -> Iterator[Server]:
    with running(folder, "--db", "memory", "--token-file", str(folder.parent / "token")) as server:
        yield server


def _revision(server: Server) -> str:
    answer = fresh.get(server.url + "/v1/plans", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["revision"])


def _save(base: str, change: tuple[str, str]) -> dict[str, Any]:
    opened = next(
        f for f in fresh.get(base + "/wb/api/files").json()["files"] if f["name"] == "policies.yaml"
    )
    text = opened["text"].replace(*change, 1)
    assert text != opened["text"]
    saved = fresh.post(
        base + "/wb/api/save", json={"file": "policies.yaml", "text": text, "token": opened["token"]}
    )
    assert saved.status_code == 200, saved.text
    return dict(saved.json())


def _problem(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = dict(answer.json())
    assert body["code"] == code, body
    assert TOKEN not in answer.text
    return body


def test_publish_makes_the_service_answer_with_the_saved_revision(folder: Path, service: Server) -> None:
    with workbench(
        folder, "--publish-to", service.url + "/", "--publish-token-file", str(folder.parent / "token")
    ) as base:
        assert fresh.get(base + "/wb/api/publish").json() == {"configured": True, "url": service.url}
        before = _revision(service)
        _save(base, EIGHT)
        assert _revision(service) == before  # saved: the service has not reloaded yet

        published = fresh.post(base + "/wb/api/publish", json={})
        assert published.status_code == 200, published.text
        answer = published.json()
        assert answer["previous"] == before and answer["changed"] is True and answer["url"] == service.url
        assert answer["revision"] != before and _revision(service) == answer["revision"]

        again = fresh.post(base + "/wb/api/publish", json={}).json()  # nothing new: the same revision
        assert again["revision"] == answer["revision"] and again["changed"] is False
        assert _problem(fresh.post(base + "/wb/api/publish", json={"x": 1}), 422, "invalid_request")


def test_a_policy_the_service_refuses_is_a_422_with_its_diagnostics(folder: Path, service: Server) -> None:
    with workbench(
        folder, "--publish-to", service.url, "--publish-token-file", str(folder.parent / "token")
    ) as base:
        before = _revision(service)
        policy = folder / "policies.yaml"
        policy.write_text(
            policy.read_text().replace(*EIGHT, 1).replace("monthly_allotment: 8", "monthly_alotment: 8")
        )
        body = _problem(fresh.post(base + "/wb/api/publish", json={}), 422, "unknown_key")
        assert body["url"] == service.url and body["diagnostics"][0]["code"] == "unknown_key"
        assert body["diagnostics"][0]["line"] > 1
        assert _revision(service) == before  # the service keeps its policy


def test_a_wrong_token_is_refused_and_the_service_keeps_its_policy(folder: Path, service: Server) -> None:
    with workbench(
        folder, "--publish-to", service.url, "--publish-token-file", str(folder.parent / "wrong")
    ) as base:
        before = _revision(service)
        _save(base, EIGHT)
        body = _problem(fresh.post(base + "/wb/api/publish", json={}), 502, "publish_token_refused")
        assert "not-the-token" not in str(body) and service.url in body["detail"]
        assert _revision(service) == before
    with workbench(folder, "--publish-to", service.url) as base:  # no token at all
        _problem(fresh.post(base + "/wb/api/publish", json={}), 502, "publish_token_refused")
        assert _revision(service) == before


def test_without_publish_to_publishing_is_a_conflict(folder: Path) -> None:
    with workbench(folder) as base:
        assert fresh.get(base + "/wb/api/publish").json() == {"configured": False, "url": None}
        _problem(fresh.post(base + "/wb/api/publish", json={}), 409, "no_publish_target")


def test_a_service_that_is_down_is_a_problem_not_a_traceback(folder: Path) -> None:
    with workbench(folder, "--publish-to", f"http://127.0.0.1:{free_port()}") as base:
        body = _problem(fresh.post(base + "/wb/api/publish", json={}), 502, "publish_failed")
        assert "cannot be reached" in body["detail"]


@pytest.mark.parametrize(
    ("options", "code"),
    [
        pytest.param(["--publish-to", "ftp://127.0.0.1:8700"], "invalid_argument", id="not http"),
        pytest.param(["--publish-to", "http://"], "invalid_argument", id="no host"),
        pytest.param(["--publish-to", "http://127.0.0.1:port"], "invalid_argument", id="a port not a number"),
        pytest.param(["--publish-to", "http://127.0.0.1:8700/?x=1"], "invalid_argument", id="a query"),
        pytest.param(["--publish-to", "http://me:secret@127.0.0.1"], "invalid_argument", id="a password"),
        pytest.param(["--publish-token-file", "token"], "invalid_argument", id="a token file alone"),
        pytest.param(
            ["--publish-to", "http://127.0.0.1:8700", "--publish-token-file", "missing"],
            "invalid_token",
            id="no token file",
        ),
    ],
)
def test_a_bad_publish_option_is_refused_before_starting(
    folder: Path, options: list[str], code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder.parent)
    result = CliRunner().invoke(main, ["workbench", str(folder), "--port", str(free_port()), *options])
    assert result.exit_code == 2 and f"error: {code}:" in result.output, result.output
    assert "secret" not in result.output and "Traceback" not in result.output


@needs_chromium
def test_publish_after_a_save_in_the_browser_shows_the_new_revision(
    folder: Path, service: Server, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    from .test_workbench_forms_browser import opened, wait_draft

    shots = artifacts(tmp_path)
    with (
        workbench(
            folder, "--publish-to", service.url, "--publish-token-file", str(folder.parent / "token")
        ) as base,
        opened(base) as page,
    ):
        before = _revision(service)
        expect(page.locator("#publish")).to_have_count(0)  # offered after a save only
        allotment = page.get_by_label("business monthly_allotment")
        allotment.fill("20")
        allotment.press("Enter")
        wait_draft(page, "policies.yaml", "  business:\n    premium: true\n    monthly_allotment: 20 ")
        expect(page.locator("#check")).to_contain_text("Draft valid")
        page.click("#policy-save")
        expect(page.locator("#save-dialog")).to_be_visible()
        page.click("#confirm-save")
        expect(page.locator("#status")).to_contain_text("Saved policies.yaml")
        expect(page.locator("#publish-note")).to_contain_text(f"Publish reloads the service at {service.url}")
        assert _revision(service) == before

        page.get_by_role("button", name="Publish").click()
        expect(page.locator("#publish-note")).to_contain_text("Published: the service at")
        after = _revision(service)
        assert after != before
        note = page.inner_text("#publish-note")
        assert note == (
            f"Published: the service at {service.url} now answers with revision {after} (was {before})"
        )
        expect(page.locator("#status")).to_have_text(note)
        page.screenshot(path=str(shots / "wb-publish.png"))
