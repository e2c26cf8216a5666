"""Every route of the HTTP service, its answers and its refusals, through FastAPI's TestClient."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import NOW, MakeClient

ROOT = Path(__file__).resolve().parents[2]
T0 = "2026-01-15T09:00:00Z"


def post(c: TestClient, path: str, body: Any = None, **headers: str) -> Any:
    """A POST as a client of ours makes it: JSON, even with no body (the request guard asks for that)."""
    if body is None:
        return c.post(path, content=b"", headers={"Content-Type": "application/json", **headers})
    return c.post(path, json=body, headers=headers)


def test_a_members_first_months_over_http(client: TestClient) -> None:
    r = post(client, "/v1/accounts/alice/subscribe", {"plan": "career", "at": T0})
    assert r.status_code == 200
    d = r.json()
    assert (d["outcome"], d["balance"], d["rule"], d["requirements"]) == (
        "subscribed",
        5,
        "start-subscription",
        ["R07", "R08"],
    )
    assert d["system_events"][0]["event"] == "renew"
    assert d["rules"] == ["monthly-allotment", "start-subscription"]
    revision = client.get("/v1/policy").json()["revision"]
    assert d["revision"] == revision and d["decision_id"] == 1

    connected = post(client, "/v1/accounts/alice/connect", {"with": "bob", "at": T0}).json()
    assert connected["outcome"] == "connected"
    sent = post(
        client, "/v1/accounts/alice/send", {"to": "carol", "at": "2026-01-15T10:00:00Z", "message_id": "m1"}
    ).json()
    assert (sent["outcome"], sent["balance"], sent["message"], sent["decision_id"]) == ("sent", 4, "m1", 3)
    assert [e["kind"] for e in sent["entries"]] == ["consume"]
    assert (
        post(client, "/v1/accounts/alice/send", {"to": "bob", "at": "2026-01-15T10:00:00Z"}).json()["outcome"]
        == "sent_free"
    )
    back = post(client, "/v1/messages/m1/respond", {"with": "interested", "at": "2026-01-20"}).json()
    assert (back["outcome"], back["status"], back["balance"]) == ("credited_back", "accepted", 5)
    bought = post(client, "/v1/accounts/alice/purchase", {"credits": 10, "at": "2026-01-21"}).json()
    assert (bought["outcome"], bought["balance"]) == ("purchased", 15)
    assert (
        post(client, "/v1/accounts/alice/payment", {"status": "expired", "at": "2026-01-22"}).json()[
            "outcome"
        ]
        == "payment_updated"
    )
    denied = post(client, "/v1/accounts/alice/send", {"to": "dave", "at": "2026-01-22"}).json()
    assert (denied["outcome"], denied["reason"]) == ("denied", "update_payment_required")
    assert (
        post(client, "/v1/accounts/alice/change-plan", {"plan": "business", "at": "2026-01-23"}).json()[
            "outcome"
        ]
        == "plan_changed"
    )

    balance = client.get("/v1/accounts/alice/balance", params={"at": "2026-01-23"}).json()
    assert balance["credits"] == 15 and sum(lot["remaining"] for lot in balance["lots"]) == 15
    history = client.get("/v1/accounts/alice/history").json()
    assert [e["kind"] for e in history["entries"]] == ["grant", "consume", "credit_back", "purchase"]

    canceled = post(client, "/v1/accounts/alice/cancel").json()  # no body: at is the server's clock
    assert (canceled["outcome"], canceled["at"], canceled["balance"]) == ("canceled", NOW.isoformat(), 0)


def test_a_read_of_the_balance_defaults_to_the_servers_clock_and_writes_nothing(client: TestClient) -> None:
    post(client, "/v1/accounts/alice/subscribe", {"plan": "career", "at": T0})
    now = client.get("/v1/accounts/alice/balance").json()
    assert now["at"] == NOW.isoformat() and now["credits"] == 5 + 5  # February's renewal is due by March 1
    assert [e["kind"] for e in client.get("/v1/accounts/alice/history").json()["entries"]] == ["grant"]


# --- refusals ------------------------------------------------------------------------------------


def test_a_suggestion_comes_with_the_problem(client: TestClient) -> None:
    r = post(client, "/v1/decide/send", {"facts": {"sender.premum": True}})
    assert "sender.premium" in r.json()["help"]


# --- idempotency ---------------------------------------------------------------------------------


def test_a_retry_under_its_key_gets_the_first_answer_and_changes_nothing(client: TestClient) -> None:
    post(client, "/v1/accounts/alice/subscribe", {"plan": "career", "at": T0})
    first = post(client, "/v1/accounts/alice/send", {"to": "carol"}, **{"Idempotency-Key": "k1"})
    again = post(client, "/v1/accounts/alice/send", {"to": "carol"}, **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    kinds = [e["kind"] for e in client.get("/v1/accounts/alice/history").json()["entries"]]
    assert kinds.count("consume") == 1
    other = post(client, "/v1/accounts/alice/send", {"to": "dave"}, **{"Idempotency-Key": "k1"})
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")


def test_a_retry_with_an_explicit_at_equal_to_the_first_is_the_same_request(client: TestClient) -> None:
    post(client, "/v1/accounts/alice/subscribe", {"plan": "career", "at": T0}, **{"Idempotency-Key": "s"})
    again = post(
        client, "/v1/accounts/alice/subscribe", {"plan": "career", "at": T0}, **{"Idempotency-Key": "s"}
    )
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    moved = post(
        client,
        "/v1/accounts/alice/subscribe",
        {"plan": "career", "at": "2026-01-16"},
        **{"Idempotency-Key": "s"},
    )
    assert moved.status_code == 409


# --- auth ----------------------------------------------------------------------------------------


def _v1_routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [
        (
            method.upper(),
            path.replace("{account}", "alice").replace("{message}", "m1").replace("{event}", "send"),
        )
        for path, item in spec["paths"].items()
        if path.startswith("/v1")
        for method in item
    ]


def test_with_a_token_every_v1_route_needs_it_and_health_does_not(make_client: MakeClient) -> None:
    c = make_client(token="s3cret-token")
    routes = _v1_routes(c)
    assert len(routes) == 14
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-token"}):
            r = c.request(method, path, json={}, headers=headers)
            assert (r.status_code, r.json()["code"]) == (401, "unauthorized"), (method, path, headers)
            assert r.headers["www-authenticate"] == "Bearer"
    assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
    ok = c.post(
        "/v1/accounts/alice/subscribe",
        json={"plan": "career"},
        headers={"Authorization": "Bearer s3cret-token"},
    )
    assert ok.status_code == 200


def test_path_like_names_are_only_names(client: TestClient) -> None:
    r = post(client, "/v1/accounts/%2e%2e/subscribe", {"plan": "career", "at": T0})
    assert r.status_code == 200 and r.json()["account"] == ".."
    assert client.get("/v1/accounts/%2e%2e/balance", params={"at": T0}).json()["credits"] == 5
    for path in (
        "/v1/accounts/../x/subscribe",
        "/v1/accounts/..%2Fx/subscribe",
        "/v1/accounts/%2F/subscribe",
    ):
        r = post(client, path, {"plan": "career", "at": T0})
        assert r.status_code in (404, 422) and r.headers["content-type"] == "application/problem+json"


# --- what-if, policy, reload, decision log -------------------------------------------------------


def test_decide_answers_from_the_rules_without_state(client: TestClient) -> None:
    r = post(client, "/v1/decide/send", {"facts": {"sender.balance": 0}}).json()
    assert (r["outcome"], r["reason"], r["facts"]["sender.balance"]) == ("denied", "no_credits", 0)
    assert r["description"] and r["rule"] in client.get("/v1/policy").json()["rules"]["send"]
    assert post(client, "/v1/decide/send").json()["outcome"] == "sent"


def test_plans_and_policy_describe_what_is_in_force(client: TestClient) -> None:
    plans = client.get("/v1/plans").json()
    assert [p["plan"] for p in plans["plans"]][:2] == ["basic", "career"]
    policy = client.get("/v1/policy").json()
    assert policy["settings"]["credit_back"]["window_days"] == 90
    assert policy["responses"]["reply"] == "replied"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "policies.yaml", tmp_path / "policies.yaml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path


def test_reload_takes_a_valid_change_and_refuses_an_invalid_one(
    make_client: MakeClient, folder: Path
) -> None:
    c = make_client(policy=str(folder / "policies.yaml"), rules=str(folder / "rules"))
    before = c.get("/v1/policy").json()["revision"]
    text = (folder / "policies.yaml").read_text()
    (folder / "policies.yaml").write_text(text.replace("monthly_allotment: 5", "monthly_alotment: 5", 1))
    r = post(c, "/v1/policy/reload")
    assert (r.status_code, r.json()["code"]) == (422, "unknown_key")
    diag = r.json()["diagnostics"][0]
    assert diag["file"].endswith("policies.yaml") and diag["line"] > 0 and "monthly_allotment" in diag["help"]
    assert c.get("/v1/policy").json()["revision"] == before  # the running policy stays

    (folder / "policies.yaml").write_text(text.replace("monthly_allotment: 5", "monthly_allotment: 6", 1))
    r = post(c, "/v1/policy/reload")
    assert r.status_code == 200 and r.json()["changed"] and r.json()["previous"] == before
    d = post(c, "/v1/accounts/alice/subscribe", {"plan": "career", "at": T0}).json()
    assert (d["revision"], d["balance"]) == (r.json()["revision"], 6)


def test_the_decision_log_has_a_line_per_decision(make_client: MakeClient, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    c = make_client(decision_log=str(log))
    key = {"Idempotency-Key": "k"}
    ids = [
        post(c, "/v1/accounts/alice/subscribe", {"plan": "career", "at": T0}).json()["decision_id"],
        post(c, "/v1/accounts/alice/send", {"to": "bob"}, **key).json()["decision_id"],
        post(c, "/v1/accounts/alice/send", {"to": "bob"}, **key).json()["decision_id"],
    ]
    post(c, "/v1/accounts/alice/purchase", {"credits": 0})  # refused: not a decision
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [x["decision_id"] for x in lines] == ids == [1, 2, 2]
    assert [x["replayed"] for x in lines] == [False, False, True]
    send = lines[1]
    assert {
        "decision_id",
        "time",
        "event",
        "arguments",
        "outcome",
        "reason",
        "rules",
        "requirements",
        "revision",
        "latency_us",
    } <= set(send)
    assert send["arguments"] == {
        "sender": "alice",
        "recipient": "bob",
        "message_id": None,
        "at": NOW.isoformat(),
    }
    assert send["event"] == "send" and send["outcome"] == "sent" and isinstance(send["latency_us"], int)


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for path in (
        "/v1/accounts/{account}/subscribe",
        "/v1/accounts/{account}/send",
        "/v1/messages/{message}/respond",
        "/v1/accounts/{account}/purchase",
        "/v1/accounts/{account}/cancel",
        "/v1/accounts/{account}/change-plan",
        "/v1/accounts/{account}/payment",
        "/v1/accounts/{account}/connect",
        "/v1/accounts/{account}/balance",
        "/v1/accounts/{account}/history",
        "/v1/decide/{event}",
        "/v1/policy",
        "/v1/plans",
        "/v1/policy/reload",
        "/healthz",
        "/readyz",
    ):
        assert path in spec["paths"], path
    assert "Idempotency-Key" in json.dumps(spec["paths"]["/v1/accounts/{account}/send"])
    assert "swagger" in client.get("/docs").text.lower()


def test_a_call_without_at_overtaken_by_another_workers_call_happens_a_moment_later() -> None:
    import datetime as dt

    from engine.service.app import create_app
    from engine.service.state import Service, ServiceConfig

    ticks = iter([NOW - dt.timedelta(seconds=1), NOW + dt.timedelta(seconds=1)])  # the other worker was first
    svc = Service(ServiceConfig(db="memory"), clock=lambda: next(ticks, NOW + dt.timedelta(seconds=2)))
    with TestClient(create_app(service=svc), base_url="http://127.0.0.1") as c:
        post(c, "/v1/accounts/alice/subscribe", {"plan": "career", "at": NOW.isoformat()})
        r = post(c, "/v1/accounts/alice/send", {"to": "carol"})
        assert r.status_code == 200 and r.json()["at"] == (NOW + dt.timedelta(seconds=1)).isoformat()
        late = post(c, "/v1/accounts/alice/send", {"to": "dan", "at": "2026-01-01"})  # explicit: refused
        assert (late.status_code, late.json()["code"]) == (409, "time_went_back")


def test_a_call_reads_its_idempotency_key_once(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine owns "no ``at``" (the first call's instant on a retry, else the clock's), so the
    service does not look the key up before the call: one read of the key per HTTP call."""
    from engine.store.memory import MemoryUnit

    reads: list[str] = []
    recorded = MemoryUnit.recorded
    monkeypatch.setattr(MemoryUnit, "recorded", lambda self, key: reads.append(key) or recorded(self, key))
    headers = {"Idempotency-Key": "s-1"}
    assert (
        client.post("/v1/accounts/alice/subscribe", json={"plan": "career"}, headers=headers).status_code
        == 200
    )
    assert reads == ["s-1"]
    first = client.post("/v1/accounts/alice/send", json={"to": "carol"}, headers={"Idempotency-Key": "k-1"})
    again = client.post("/v1/accounts/alice/send", json={"to": "carol"}, headers={"Idempotency-Key": "k-1"})
    assert reads == ["s-1", "k-1", "k-1"]
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
