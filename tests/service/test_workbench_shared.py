"""A shared workbench (``--token-file``): nothing but the sign-in page answers without a session.

In process (TestClient) for the gate's every answer, and once as a real ``inmail workbench --host
0.0.0.0`` for what a colleague's machine would see. Every route of the app is tried without a
session, read from the app itself so that a route added later is tried too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from engine.service.signin import COOKIE, MAX_FAILURES, OPEN_PATHS, SESSION_SECONDS, Sessions

from .folders import policy_folder, snapshot, workbench_client
from .server import free_port, workbench

TOKEN = "s3cret-workbench-token"


def _client(folder: Path, token: str | None = TOKEN) -> TestClient:
    return workbench_client(folder, workbench_token=token)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return policy_folder(tmp_path, features=False)


@pytest.fixture
def wb(folder: Path) -> Iterator[TestClient]:
    with _client(folder) as c:
        yield c


def _sign_in(c: TestClient, name: str = "Ada Lovelace", token: str = TOKEN) -> httpx.Response:
    return c.post("/wb/api/signin", json={"name": name, "token": token})


#: Routes the OpenAPI document does not list: the pages, the documents and the static files.
UNLISTED = [
    ("GET", "/"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("GET", "/wb/static/wb/main.js"),
    ("GET", "/wb/static/vendor/editor.js"),
    ("GET", "/apidocs/swagger-ui.css"),
]


def _paths(c: TestClient) -> list[tuple[str, str]]:
    """Every route of the app (read from its own document, with the token), and the unlisted ones."""
    doc = c.get("/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    listed = [
        (method.upper(), path.replace("{", "").replace("}", ""))
        for path, item in doc["paths"].items()
        for method in item
    ]
    return UNLISTED + listed


def test_without_a_session_every_route_but_the_sign_in_page_is_refused(wb: TestClient, folder: Path) -> None:
    before = snapshot(folder)
    routes = _paths(wb)
    assert ("POST", "/wb/api/save") in routes and ("GET", "/v1/accounts/account/balance") in routes
    assert ("GET", "/metrics") in routes and ("GET", "/openapi.json") in routes
    refused = 0
    for method, path in routes:
        if path in OPEN_PATHS:
            continue
        r = wb.request(
            method, path, json={} if method == "POST" else None, headers={"Accept": "application/json"}
        )
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "unauthorized" and r.headers["www-authenticate"] == "Bearer"
        refused += 1
    assert refused >= 40
    assert snapshot(folder) == before  # a refused save wrote nothing
    # a browser asking for a page is sent to sign in, and back afterwards
    r = wb.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/signin?next=/")
    r = wb.get("/docs", headers={"Accept": "text/html,*/*"}, follow_redirects=False)
    assert r.headers["location"] == "/signin?next=/docs"
    page = wb.get("/signin")
    assert page.status_code == 200 and 'type="password"' in page.text
    assert wb.get("/wb/static/wb/signin.js").status_code == 200
    assert wb.get("/healthz").status_code == 200


def test_signing_in_sets_a_strict_http_only_cookie_and_opens_every_route(wb: TestClient) -> None:
    r = _sign_in(wb)
    assert r.status_code == 200 and r.json() == {"name": "Ada Lovelace", "shared": True}
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(COOKIE + "=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/", f"max-age={SESSION_SECONDS}"} <= flags
    assert TOKEN not in cookie
    assert wb.get("/wb/api/files").status_code == 200
    assert wb.get("/wb/api/me").json() == {"name": "Ada Lovelace", "shared": True}
    assert wb.get("/v1/accounts/nobody/balance").json()["code"] == "unknown_account"
    assert wb.get("/").status_code == 200
    # signing out ends the session on the server, not only in this browser
    sid = wb.cookies[COOKIE]
    assert wb.post("/wb/api/signout", json={}).status_code == 200
    wb.cookies.set(COOKIE, sid)
    assert wb.get("/wb/api/files").status_code == 401


def test_a_script_may_send_the_token_as_a_bearer(wb: TestClient) -> None:
    assert wb.get("/wb/api/files", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert wb.get("/wb/api/files", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
    assert wb.get("/wb/api/files", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert wb.get("/wb/api/me", headers={"Authorization": f"Bearer {TOKEN}"}).json()["name"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "Ada", "token": "wrong"}, "unauthorized"),
        ({"name": "Ada", "token": ""}, "invalid_request"),
        ({"name": "", "token": TOKEN}, "invalid_request"),
        ({"name": "   ", "token": TOKEN}, "invalid_request"),
        ({"name": "Eve <root@evil>", "token": TOKEN}, "invalid_request"),
        ({"name": "Ada\nCo-authored-by: Eve", "token": TOKEN}, "invalid_request"),
        ({"name": "x" * 101, "token": TOKEN}, "invalid_request"),
        ({"name": "Ada", "token": TOKEN, "admin": True}, "invalid_request"),
        ({"name": 7, "token": TOKEN}, "invalid_request"),
    ],
)
def test_a_wrong_sign_in_is_refused_and_makes_no_session(
    wb: TestClient, body: dict[str, Any], code: str
) -> None:
    r = wb.post("/wb/api/signin", json=body)
    assert r.status_code in (401, 422) and r.json()["code"] == code, r.text
    assert "set-cookie" not in r.headers
    assert wb.get("/wb/api/files").status_code == 401


def test_another_sites_page_cannot_sign_in_nor_use_a_session(wb: TestClient) -> None:
    evil = {"Origin": "http://evil.example"}
    r = wb.post("/wb/api/signin", json={"name": "Ada", "token": TOKEN}, headers=evil)
    assert (r.status_code, r.json()["code"]) == (403, "cross_site_request")
    assert _sign_in(wb).status_code == 200
    r = wb.post("/wb/api/signout", json={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = wb.get("/wb/api/files", headers={"Host": "evil.example"})
    assert (r.status_code, r.json()["code"]) == (403, "invalid_host")  # the guard answers first


def test_guessing_the_token_is_slowed_to_a_few_tries_a_minute(wb: TestClient) -> None:
    for _ in range(MAX_FAILURES):
        assert _sign_in(wb, token="guess").status_code == 401
    r = _sign_in(wb)  # even the right token waits: the address is told to slow down, not which is right
    assert (r.status_code, r.json()["code"]) == (429, "too_many_attempts")
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_sessions_expire_and_failures_are_forgotten_after_a_minute() -> None:
    now = [1000.0]
    sessions = Sessions("t", clock=lambda: now[0])
    sid = sessions.start("Ada")
    assert (
        sessions.editor(sid) == "Ada" and sessions.editor("other") is None and sessions.editor(None) is None
    )
    now[0] += SESSION_SECONDS
    assert sessions.editor(sid) is None
    for _ in range(MAX_FAILURES):
        sessions.failed("10.0.0.9")
    assert sessions.wait("10.0.0.9") == pytest.approx(60.0) and sessions.wait("10.0.0.8") == 0
    now[0] += 61
    assert sessions.wait("10.0.0.9") == 0
    assert sessions.token_ok("t") and not sessions.token_ok("T") and not sessions.token_ok("\udcff")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_signed_in_editor_is_the_author_of_their_versions(folder: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True).stdout

    git("init", "-q")
    git(
        "-c",
        "user.name=Owner",
        "-c",
        "user.email=o@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "start",
    )
    with _client(folder) as c:
        assert _sign_in(c, name="Grace Hopper").status_code == 200
        f = next(f for f in c.get("/wb/api/files").json()["files"] if f["name"] == "policies.yaml")
        text = f["text"].replace("monthly_allotment: 5", "monthly_allotment: 6", 1)
        r = c.post(
            "/wb/api/save",
            json={"file": "policies.yaml", "text": text, "token": f["token"], "author": "Someone Else <x@y>"},
        )
        assert r.status_code == 200, r.text
        assert git("log", "-1", "--format=%an <%ae>").strip() == "Grace Hopper <workbench@localhost>"
        assert c.post("/wb/api/undo", json={"file": "policies.yaml"}).status_code == 200
        assert (
            git("log", "-1", "--format=%an|%s").strip() == "Grace Hopper|Undo the last save of policies.yaml"
        )


def test_on_loopback_without_a_token_nobody_signs_in(folder: Path) -> None:
    with _client(folder, token=None) as c:
        assert c.get("/wb/api/me").json() == {"name": None, "shared": False}
        assert c.get("/wb/api/files").status_code == 200
        assert c.get("/signin").status_code == 404


def test_a_workbench_on_every_address_needs_a_token(folder: Path, tmp_path: Path) -> None:
    port = str(free_port())
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "workbench", str(folder), "--host", "0.0.0.0", "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "token_required" in done.stderr and "Traceback" not in done.stderr
    empty = tmp_path / "empty-token"
    empty.write_text("\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "workbench",
            str(folder),
            "--token-file",
            str(empty),
            "--port",
            port,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "invalid_token" in done.stderr


def test_a_real_shared_workbench_answers_401_to_a_request_without_its_token(
    folder: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    with workbench(folder, "--host", "0.0.0.0", "--token-file", str(secret)) as base:
        r = httpx.get(base + "/wb/api/files")
        assert (r.status_code, r.json()["code"]) == (401, "unauthorized")
        r = httpx.post(base + "/wb/api/save", json={"file": "policies.yaml", "text": "", "token": ""})
        assert r.status_code == 401
        assert httpx.get(base + "/v1/policy").status_code == 401
        with httpx.Client(base_url=base) as browser:
            assert browser.post("/wb/api/signin", json={"name": "Ada", "token": TOKEN}).status_code == 200
            assert browser.get("/wb/api/files").status_code == 200
