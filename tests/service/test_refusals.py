"""Every refusal of the HTTP service as a table: the request, its status and the engine's code.

Each row is a wrong request a client can make; the answer must be a problem
(``application/problem+json``) with the stable code, never a traceback or a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.service.app import create_app
from engine.service.problems import STATUS
from engine.service.state import Service, ServiceConfig

from .conftest import NOW
from .test_routes import T0, post


def _setup(c: TestClient) -> None:
    post(c, "/v1/accounts/alice/subscribe", {"plan": "career", "at": T0})
    post(c, "/v1/accounts/alice/send", {"to": "carol", "at": "2026-01-16", "message_id": "m1"})


@pytest.fixture(scope="module")
def table() -> Iterator[tuple[TestClient, Any]]:
    """One service for the whole table, set up once, and alice's history right after the set-up.

    Every row starts from exactly that history (asserted) and must leave it so: each meets the
    state a fresh service would give it, without a service built per row (some 6 s in all)."""
    svc = Service(ServiceConfig(db="memory"), clock=lambda: NOW)
    app = create_app(service=svc)
    with TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1") as c:
        _setup(c)
        yield c, c.get("/v1/accounts/alice/history").json()


def _chunks(n: int) -> Iterator[bytes]:
    yield b'{"credits": 1, "pad": "'
    for _ in range(n):
        yield b"x" * 1024
    yield b'"}'


REFUSALS: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    # (name, method, path, request keywords, status, code)
    ("unknown account", "POST", "/v1/accounts/nobody/send", {"json": {"to": "x"}}, 404, "unknown_account"),
    (
        "unknown message",
        "POST",
        "/v1/messages/nope/respond",
        {"json": {"with": "reply"}},
        404,
        "unknown_message",
    ),
    (
        "subscribed twice",
        "POST",
        "/v1/accounts/alice/subscribe",
        {"json": {"plan": "career", "at": T0}},
        409,
        "account_exists",
    ),
    (
        "time went back",
        "POST",
        "/v1/accounts/alice/send",
        {"json": {"to": "dan", "at": "2026-01-15"}},
        409,
        "time_went_back",
    ),
    (
        "message id taken",
        "POST",
        "/v1/accounts/alice/send",
        {"json": {"to": "dan", "message_id": "m1"}},
        409,
        "message_exists",
    ),
    (
        "credits as text",
        "POST",
        "/v1/accounts/alice/purchase",
        {"json": {"credits": "5"}},
        422,
        "invalid_request",
    ),
    (
        "credits as bool",
        "POST",
        "/v1/accounts/alice/purchase",
        {"json": {"credits": True}},
        422,
        "invalid_request",
    ),
    ("no credits", "POST", "/v1/accounts/alice/purchase", {"json": {"credits": 0}}, 422, "invalid_quantity"),
    (
        "too many credits",
        "POST",
        "/v1/accounts/alice/purchase",
        {"json": {"credits": 10**30}},
        422,
        "invalid_quantity",
    ),
    ("missing field", "POST", "/v1/accounts/alice/purchase", {"json": {}}, 422, "invalid_request"),
    (
        "unknown field",
        "POST",
        "/v1/accounts/bob/subscribe",
        {"json": {"plan": "career", "plna": "x"}},
        422,
        "invalid_request",
    ),
    ("unknown plan", "POST", "/v1/accounts/bob/subscribe", {"json": {"plan": "gold"}}, 422, "unknown_plan"),
    (
        "bad payment",
        "POST",
        "/v1/accounts/alice/payment",
        {"json": {"status": "lost"}},
        422,
        "invalid_payment_status",
    ),
    (
        "bad response type",
        "POST",
        "/v1/messages/m1/respond",
        {"json": {"with": "maybe"}},
        422,
        "unknown_response_type",
    ),
    (
        "bad instant",
        "POST",
        "/v1/accounts/alice/send",
        {"json": {"to": "dan", "at": "yesterday"}},
        422,
        "invalid_time",
    ),
    (
        "instant out of range",
        "POST",
        "/v1/accounts/alice/send",
        {"json": {"to": "dan", "at": "3001-01-01"}},
        422,
        "time_out_of_range",
    ),
    ("self send", "POST", "/v1/accounts/alice/send", {"json": {"to": "alice"}}, 422, "self_connection"),
    ("body a list", "POST", "/v1/accounts/alice/purchase", {"json": [1]}, 422, "invalid_request"),
    (
        "malformed JSON",
        "POST",
        "/v1/accounts/alice/purchase",
        {"content": b'{"credits": ', "headers": {"content-type": "application/json"}},
        400,
        "malformed_json",
    ),
    (
        "not JSON",
        "POST",
        "/v1/accounts/alice/purchase",
        {"content": b"credits=5", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        415,
        "unsupported_media_type",
    ),
    (
        "no content type",
        "POST",
        "/v1/accounts/alice/purchase",
        {"content": b'{"credits": 5}'},
        415,
        "unsupported_media_type",
    ),
    (
        "huge body",
        "POST",
        "/v1/accounts/alice/purchase",
        {"content": b"[" + b"1," * 40_000 + b"1]", "headers": {"content-type": "application/json"}},
        413,
        "body_too_large",
    ),
    (
        "huge chunked body",
        "POST",
        "/v1/accounts/alice/purchase",
        {"content": _chunks(80), "headers": {"content-type": "application/json"}},
        413,
        "body_too_large",
    ),
    (
        "key too long",
        "POST",
        "/v1/accounts/alice/send",
        {"json": {"to": "dan"}, "headers": {"Idempotency-Key": "k" * 401}},
        400,
        "invalid_key",
    ),
    (
        "name with NUL",
        "POST",
        "/v1/accounts/a%00b/subscribe",
        {"json": {"plan": "career"}},
        422,
        "invalid_name",
    ),
    ("no such route", "GET", "/v1/nothing", {}, 404, "not_found"),
    (
        "wrong method",
        "DELETE",
        "/v1/accounts/alice/send",
        {"headers": {"Content-Type": "application/json"}},
        405,
        "method_not_allowed",
    ),
    ("balance bad at", "GET", "/v1/accounts/alice/balance?at=soon", {}, 422, "invalid_time"),
    ("balance unknown", "GET", "/v1/accounts/nobody/balance", {}, 404, "unknown_account"),
    ("history unknown", "GET", "/v1/accounts/nobody/history", {}, 404, "unknown_account"),
    ("decide unknown event", "POST", "/v1/decide/sned", {"json": {}}, 404, "unknown_event"),
    (
        "decide unknown fact",
        "POST",
        "/v1/decide/send",
        {"json": {"facts": {"sender.premum": True}}},
        422,
        "unknown_fact",
    ),
    (
        "decide wrong type",
        "POST",
        "/v1/decide/send",
        {"json": {"facts": {"sender.balance": "3"}}},
        422,
        "invalid_fact",
    ),
    (
        "decide bad choice",
        "POST",
        "/v1/decide/send",
        {"json": {"facts": {"sender.plan": "gold"}}},
        422,
        "invalid_fact",
    ),
]

#: Texts a lenient ISO reader took for some instant (a POST got 409 time_went_back, a balance 200).
LOOSE_TIMES = [
    "2026-01-0100000000000000000000000000000",
    "2026-01-01a12:00",
    "2026-01-01\u00e912:00",
    "2026-01-01_1200",
    "2026-W01-1",
]
REFUSALS += [
    (
        f"send at {t!r}",
        "POST",
        "/v1/accounts/alice/send",
        {"json": {"to": "dan", "at": t}},
        422,
        "invalid_time",
    )
    for t in LOOSE_TIMES
]
REFUSALS += [
    (f"balance at {t!r}", "GET", "/v1/accounts/alice/balance", {"params": {"at": t}}, 422, "invalid_time")
    for t in LOOSE_TIMES
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_a_refusal_is_a_problem_with_the_engines_code(
    table: tuple[TestClient, Any], method: str, path: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    client, set_up = table
    before = client.get("/v1/accounts/alice/history").json()
    assert before == set_up  # the state a fresh service would give this row
    r = client.request(method, path, **kwargs)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["type"].endswith(code) and body["title"] and body["detail"]
    assert client.get("/v1/accounts/alice/history").json() == before  # nothing half-applied


def test_every_status_in_the_table_is_a_client_store_or_upstream_status() -> None:
    assert all(
        s in (400, 401, 403, 404, 405, 409, 413, 414, 415, 429, 431, 500, 502, 503) for s in STATUS.values()
    )
    # 429: only a shared workbench's sign-in, after too many wrong tokens from one address
    assert [c for c, s in STATUS.items() if s == 429] == ["too_many_attempts"]
    assert [c for c, s in STATUS.items() if s == 500] == ["rule_engine_failure", "internal_error"]
    # 502: only the workbench's publish, when the service it reloads does not take the call
    assert sorted(c for c, s in STATUS.items() if s == 502) == ["publish_failed", "publish_token_refused"]
