"""The request guard against a real ``inmail serve`` and ``inmail workbench``: every attack it refuses.

Each case is a request a web page on another site (or a DNS-rebound name)
could make a browser send, or one no honest client sends. A refused request
must change nothing: the victim's ledger and the event log are checked after
the whole table has run. Cases are data: the table is the list of attacks.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .server import Server, running, workbench

T0 = "2026-01-05T09:00:00Z"
APP = "http://app.example"  # the one origin the server is started with (--cors-origin)
ALIAS = "inmail.test"  # the one extra name it answers to (--allowed-host)
JSON = {"Content-Type": "application/json"}
EVIL = {"Origin": "http://evil.example"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("guard")
    with running(
        folder, "--db", str(folder / "inmail.db"), "--allowed-host", ALIAS, "--cors-origin", APP
    ) as s:
        with httpx.Client(base_url=s.url) as c:
            for name in ("victim", "friend"):
                r = c.post(f"/v1/accounts/{name}/subscribe", json={"plan": "career", "at": T0})
                assert r.status_code == 200, r.text
        yield s


def _port(s: Server) -> int:
    return int(s.url.rsplit(":", 1)[1])


# (id, method, path, headers, body, status, code): {port} in a header is the server's port
ATTACKS: list[tuple[str, str, str, dict[str, str], bytes | None, int, str]] = [
    # a page on another site posts to the service: a simple request needs no preflight
    (
        "csrf: text/plain, empty, from evil",
        "POST",
        "/v1/accounts/victim/cancel",
        {**EVIL, "Content-Type": "text/plain", "Content-Length": "0"},
        b"",
        403,
        "cross_site_request",
    ),
    (
        "csrf: empty form post",
        "POST",
        "/v1/accounts/victim/cancel",
        {**EVIL, "Content-Type": "application/x-www-form-urlencoded"},
        b"",
        403,
        "cross_site_request",
    ),
    (
        "csrf: multipart form post",
        "POST",
        "/v1/accounts/victim/purchase",
        {**EVIL, "Content-Type": "multipart/form-data; boundary=x"},
        b"--x--\r\n",
        403,
        "cross_site_request",
    ),
    (
        "csrf: no-cors fetch",
        "POST",
        "/v1/accounts/victim/cancel",
        {**EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Content-Type": "text/plain"},
        b"{}",
        403,
        "cross_site_request",
    ),
    (
        "csrf: JSON from another origin",
        "POST",
        "/v1/accounts/victim/cancel",
        {**EVIL, **JSON},
        b"{}",
        403,
        "cross_site_request",
    ),
    (
        "csrf: another port of this machine",
        "POST",
        "/v1/accounts/victim/cancel",
        {"Origin": "http://127.0.0.1:9", "Sec-Fetch-Site": "same-site", **JSON},
        b"",
        403,
        "cross_site_request",
    ),
    (
        "csrf: origin null (sandboxed page, file:)",
        "POST",
        "/v1/accounts/victim/cancel",
        {"Origin": "null", **JSON},
        b"",
        403,
        "cross_site_request",
    ),
    (
        "csrf: Sec-Fetch-Site without Origin",
        "POST",
        "/v1/accounts/victim/cancel",
        {"Sec-Fetch-Site": "cross-site", **JSON},
        b"",
        403,
        "cross_site_request",
    ),
    (
        "csrf: an origin that only starts like ours",
        "POST",
        "/v1/accounts/victim/cancel",
        {"Origin": "http://127.0.0.1:{port}.evil.example", **JSON},
        b"",
        403,
        "cross_site_request",
    ),
    (
        "csrf: reload from evil",
        "POST",
        "/v1/policy/reload",
        {**EVIL, "Content-Type": "text/plain"},
        b"",
        403,
        "cross_site_request",
    ),
    # no browser is needed for these, but nothing that changes state may come without JSON
    (
        "no Content-Type, no body",
        "POST",
        "/v1/accounts/victim/cancel",
        {},
        None,
        415,
        "unsupported_media_type",
    ),
    (
        "text/plain, empty",
        "POST",
        "/v1/accounts/victim/cancel",
        {"Content-Type": "text/plain"},
        b"",
        415,
        "unsupported_media_type",
    ),
    (
        "form post, same origin",
        "POST",
        "/v1/policy/reload",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"",
        415,
        "unsupported_media_type",
    ),
    # DNS rebinding: a name the attacker owns, resolved to 127.0.0.1
    ("host: evil.example", "GET", "/v1/plans", {"Host": "evil.example"}, None, 403, "invalid_host"),
    (
        "host: evil.example:port",
        "GET",
        "/v1/plans",
        {"Host": "evil.example:{port}"},
        None,
        403,
        "invalid_host",
    ),
    (
        "host: localhost.evil.example",
        "GET",
        "/v1/plans",
        {"Host": "localhost.evil.example"},
        None,
        403,
        "invalid_host",
    ),
    (
        "host: 127.0.0.1.nip.io",
        "GET",
        "/v1/plans",
        {"Host": "127.0.0.1.nip.io:{port}"},
        None,
        403,
        "invalid_host",
    ),
    (
        "host: a write",
        "POST",
        "/v1/accounts/intruder/subscribe",
        {"Host": "evil.example", **JSON},
        b'{"plan": "career"}',
        403,
        "invalid_host",
    ),
    ("host: health too", "GET", "/readyz", {"Host": "evil.example"}, None, 403, "invalid_host"),
    ("host: user info", "GET", "/v1/plans", {"Host": "127.0.0.1@evil.example"}, None, 403, "invalid_host"),
    ("host: empty", "GET", "/v1/plans", {"Host": ""}, None, 403, "invalid_host"),
    # larger than any honest client sends: problem+json, not the parser's plain text
    ("a header of 20 KB", "GET", "/v1/plans", {"X-Padding": "x" * 20_000}, None, 431, "headers_too_large"),
    ("a URL of 10 KB", "GET", "/v1/accounts/" + "a" * 10_000 + "/balance", {}, None, 414, "uri_too_long"),
    (
        "an idempotency key of 5 KB",
        "POST",
        "/v1/accounts/victim/send",
        {"Idempotency-Key": "k" * 5_000, **JSON},
        b'{"to": "x"}',
        400,
        "invalid_key",
    ),
    (
        "a query parameter twice",
        "GET",
        "/v1/accounts/victim/balance?at=2026-01-06&at=2026-09-01",
        {},
        None,
        400,
        "invalid_request",
    ),
    (
        "a path that is not UTF-8",
        "POST",
        "/v1/accounts/%ff%fe/subscribe",
        JSON,
        b'{"plan": "career"}',
        400,
        "invalid_request",
    ),
    # bodies are strict JSON
    (
        "a key twice",
        "POST",
        "/v1/accounts/victim/change-plan",
        JSON,
        b'{"plan": "basic", "plan": "career"}',
        400,
        "invalid_request",
    ),
    (
        "a key twice, deeper",
        "POST",
        "/v1/decide/send",
        JSON,
        b'{"facts": {"sender.premium": true, "sender.premium": false}}',
        400,
        "invalid_request",
    ),
    (
        "credits twice",
        "POST",
        "/v1/accounts/victim/purchase",
        JSON,
        b'{"credits": 1, "credits": 50}',
        400,
        "invalid_request",
    ),
    ("NaN", "POST", "/v1/accounts/victim/purchase", JSON, b'{"credits": NaN}', 400, "malformed_json"),
    (
        "nested 10,000 deep",
        "POST",
        "/v1/decide/send",
        JSON,
        b"[" * 10_000 + b"]" * 10_000,
        400,
        "malformed_json",
    ),
    (
        "not UTF-8",
        "POST",
        "/v1/accounts/victim/purchase",
        JSON,
        b'{"credits": "\xff"}',
        400,
        "malformed_json",
    ),
]


def _fill(value: str, port: int) -> str:
    return value.replace("{port}", str(port))


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "code"),
    [pytest.param(*case[1:], id=case[0]) for case in ATTACKS],
)
def test_an_attack_is_refused_with_a_problem(
    server: Server,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    code: str,
) -> None:
    headers = {k: _fill(v, _port(server)) for k, v in headers.items()}
    r = httpx.request(method, server.url + path, headers=headers, content=body)
    assert (r.status_code, r.headers["content-type"]) == (status, "application/problem+json"), r.text
    assert r.json()["code"] == code
    assert "access-control-allow-origin" not in r.headers


def test_the_victim_is_untouched_after_every_attack(server: Server) -> None:
    """Run after the table (file order): not one of those requests reached the ledger or the log."""
    with httpx.Client(base_url=server.url) as c:
        assert c.get("/v1/accounts/victim/balance", params={"at": "2026-01-06"}).json()["credits"] == 5
        assert [e["kind"] for e in c.get("/v1/accounts/victim/history").json()["entries"]] == ["grant"]
        assert c.get("/v1/accounts/intruder/history").status_code == 404


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}", f"{ALIAS}:{{port}}", "127.0.0.1"],
)
def test_the_names_the_server_answers_to(server: Server, host: str) -> None:
    r = httpx.get(server.url + "/v1/plans", headers={"Host": _fill(host, _port(server))})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:{port}", APP])
def test_a_page_of_the_server_itself_or_of_the_named_origin_may_post(server: Server, origin: str) -> None:
    origin = _fill(origin, _port(server))
    host = origin.removeprefix("http://") if origin != APP else f"127.0.0.1:{_port(server)}"
    r = httpx.post(
        server.url + "/v1/decide/send",
        json={"facts": {}},
        headers={
            "Origin": origin,
            "Host": host,
            "Sec-Fetch-Site": "same-origin" if origin != APP else "cross-site",
        },
    )
    assert r.status_code == 200, r.text


def test_cors_headers_only_for_the_named_origin(server: Server) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ours = httpx.options(server.url + "/v1/accounts/friend/send", headers={"Origin": APP, **preflight})
    assert ours.headers.get("access-control-allow-origin") == APP
    theirs = httpx.options(server.url + "/v1/accounts/friend/send", headers={**EVIL, **preflight})
    assert "access-control-allow-origin" not in theirs.headers
    read = httpx.get(server.url + "/v1/plans", headers=EVIL)
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers
    sent = httpx.post(
        server.url + "/v1/accounts/friend/send", json={"to": "x", "at": "2026-01-06"}, headers={"Origin": APP}
    )
    assert sent.status_code == 200 and sent.headers["access-control-allow-origin"] == APP


def _raw(server: Server, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "request_head",
    [
        pytest.param(b"GET /v1/plans HTTP/1.0\r\n\r\n", id="no Host (HTTP/1.0)"),
        pytest.param(
            b"GET /v1/plans HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
            id="Host twice",
        ),
    ],
)
def test_a_request_without_one_host_is_refused(server: Server, request_head: bytes) -> None:
    answer = _raw(server, request_head)
    assert answer.split(b"\r\n", 1)[0].split(b" ")[1] in (b"400", b"403") and b"/v1/plans" not in answer[:20]
    assert b'"plans"' not in answer


def test_a_head_beyond_the_parsers_limit_is_the_one_plain_text_refusal(server: Server) -> None:
    """Past 64 KiB of headers uvicorn's parser answers before any app code runs (README says so)."""
    r = httpx.get(server.url + "/v1/plans", headers={"X-Padding": "x" * 70_000})
    assert r.status_code in (400, 431)
    assert httpx.get(server.url + "/v1/plans").status_code == 200  # and the server goes on


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("wb") / "policy"
    folder.mkdir()
    with workbench(folder) as base:
        yield base


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "code"),
    [
        pytest.param(
            "GET", "/", {"Host": "evil.example:8710"}, None, "invalid_host", id="page, rebound host"
        ),
        pytest.param(
            "GET",
            "/wb/api/files",
            {"Host": "localhost.evil.example"},
            None,
            "invalid_host",
            id="files, rebound host",
        ),
        pytest.param(
            "POST",
            "/wb/api/save",
            {"Host": "evil.example", **JSON},
            b'{"file": "policies.yaml", "text": "", "token": ""}',
            "invalid_host",
            id="save, rebound host",
        ),
        pytest.param(
            "POST",
            "/wb/api/save",
            {**EVIL, "Content-Type": "text/plain"},
            b'{"file": "policies.yaml", "text": "", "token": ""}',
            "cross_site_request",
            id="save, from evil",
        ),
        pytest.param(
            "POST",
            "/wb/api/undo",
            {"Content-Type": "text/plain"},
            b'{"file": "policies.yaml"}',
            "unsupported_media_type",
            id="undo, text/plain",
        ),
    ],
)
def test_the_workbench_has_the_same_guard(
    wb: str, method: str, path: str, headers: dict[str, str], body: bytes | None, code: str
) -> None:
    r = httpx.request(method, wb + path, headers=headers, content=body)
    assert r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["code"] == code


def test_options_are_checked_before_the_server_starts(tmp_path: Path) -> None:
    from .server import serve_command, side_by_side

    cases = [
        (["--allowed-host", "evil.example/x"], "invalid_argument"),
        (["--cors-origin", "app.example"], "invalid_argument"),
        (["--cors-origin", "ftp://app.example"], "invalid_argument"),
    ]
    done = side_by_side([(serve_command("--db", "memory", *args), tmp_path) for args, _ in cases])
    for (_, code), proc in zip(cases, done, strict=True):
        assert proc.returncode == 2 and f"{code}:" in proc.stderr, proc.stderr
