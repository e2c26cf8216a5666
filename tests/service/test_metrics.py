"""``GET /metrics``: what an operator's Prometheus scrapes, summed over every worker of a real server."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from .conftest import MakeClient
from .server import fresh, running

T0 = "2026-01-05T09:00:00Z"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by name and labels (the worker's pid left out: the sums are what is asserted)."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "pid"))
            out[(s.name, labels)] = out.get((s.name, labels), 0.0) + s.value
    return out


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = fresh.get(url + "/metrics")  # a new connection each time: any worker may answer
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text
    return _samples(r.text)


def test_metrics_are_summed_over_the_workers(tmp_path: Path) -> None:
    """Under --workers 2, with the JSON access log on: the sums, and one log line per request."""
    with running(tmp_path, "--db", str(tmp_path / "m.db"), "--access-log", "json", workers=2) as server:
        for i in range(12):  # new connections: the calls spread over both workers
            post = fresh.post(server.url + f"/v1/accounts/m{i}/subscribe", json={"plan": "career", "at": T0})
            assert post.status_code == 200
        for i in range(6):
            body = {"to": f"r{i}", "at": "2026-01-06"}
            for _ in range(2):  # the second is a replay under the key
                r = fresh.post(
                    server.url + f"/v1/accounts/m{i}/send", json=body, headers={"Idempotency-Key": f"s{i}"}
                )
                assert r.status_code == 200
        assert fresh.post(server.url + "/v1/accounts/nobody/send", json={"to": "x"}).status_code == 404
        assert fresh.get(server.url + "/v1/plans", headers={"Host": "evil.example"}).status_code == 403
        assert fresh.post(server.url + "/v1/policy/reload", json={}).status_code == 200
        scrapes = [_scrape(server.url) for _ in range(6)]
        log = server.log()
    got = scrapes[-1]
    subscribed = (("event", "subscribe"), ("outcome", "subscribed"), ("reason", ""))
    assert got[("inmail_decisions_total", subscribed)] == 12
    assert got[("inmail_decisions_total", (("event", "send"), ("outcome", "sent"), ("reason", "")))] == 6
    assert got[("inmail_idempotent_replays_total", ())] == 6
    assert got[("inmail_problems_total", (("code", "unknown_account"), ("status", "404")))] == 1
    assert got[("inmail_problems_total", (("code", "invalid_host"), ("status", "403")))] == 1
    assert got[("inmail_reloads_total", (("result", "accepted"),))] == 1
    send = (("method", "POST"), ("route", "/v1/accounts/{account}/send"), ("status", "2xx"))
    assert got[("inmail_request_duration_seconds_count", send)] == 12
    # each worker says 1 for the revision it answers with (summed here): all of them, one revision
    in_force = {
        labels for name, labels in got if name == "inmail_policy_revision" and got[(name, labels)] >= 1
    }
    assert len(in_force) == 1
    # whichever worker answers the scrape, it gives the sums over both
    assert all(s[("inmail_decisions_total", subscribed)] == 12 for s in scrapes)
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    sends = [x for x in lines if x["route"] == "/v1/accounts/{account}/send"]
    assert len(sends) == 13 and sum(x["status"] == 200 for x in sends) == 12
    assert [x["code"] for x in sends if x["status"] == 404] == ["unknown_account"]
    assert [(x["route"], x["code"]) for x in lines if x["status"] == 403] == [("unmatched", "invalid_host")]
    assert sum(x["route"] == "/metrics" for x in lines) == 6 and all(x["ms"] >= 0 for x in lines)
    assert all(x["client"] == "127.0.0.1" and x["time"].endswith("+00:00") for x in lines)


def test_metrics_need_the_token_when_there_is_one(make_client: MakeClient) -> None:
    c = make_client(token="s3cret-token")
    assert c.get("/metrics").status_code == 401
    r = c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 200 and "inmail_decisions_total" in r.text
    opened = make_client(token="s3cret-token", metrics_open=True)  # --metrics-open: a scraper without it
    assert opened.get("/metrics").status_code == 200
    assert opened.get("/v1/plans").status_code == 401  # only /metrics is opened
    ops = opened.get("/openapi.json", headers={"Authorization": "Bearer s3cret-token"}).json()["paths"]
    assert "security" not in ops["/metrics"]["get"]
