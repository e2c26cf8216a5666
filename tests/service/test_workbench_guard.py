"""Every route of a real ``inmail workbench`` refuses other hosts and other sites, and writes nothing then.

The routes are read from the workbench's own OpenAPI document, so a route added later is attacked
too: each under three DNS-rebound names (403 ``invalid_host``), and each POST from another site's
page with a JSON body (403 ``cross_site_request``), a body that would otherwise save, edit or run.
The folder is compared byte for byte before and after the whole table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .folders import policy_folder, snapshot
from .server import workbench

ROOT = Path(__file__).resolve().parents[2]
REBOUND = ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io:{port}"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return policy_folder(tmp_path_factory.mktemp("wb-guard"), features=False)


@pytest.fixture(scope="module")
def base(folder: Path) -> Iterator[str]:
    with workbench(folder) as url:
        yield url


def _routes(base: str) -> list[tuple[str, str]]:
    doc = httpx.get(base + "/openapi.json").json()
    return [("GET", "/")] + [
        (method.upper(), path)
        for path, item in doc["paths"].items()
        if path.startswith("/wb/api/")
        for method in item
    ]


def _body(base: str, path: str) -> bytes:
    """A body the route would act on: a save of the saved text (with its token), an edit, a run."""
    files = {f["name"]: f for f in httpx.get(base + "/wb/api/files").json()["files"]}
    policy = files["policies.yaml"]
    bodies = {
        "/wb/api/save": {"file": "policies.yaml", "text": policy["text"] + "\n", "token": policy["token"]},
        "/wb/api/undo": {"file": "policies.yaml"},
        "/wb/api/edit": {"file": "policies.yaml", "text": policy["text"], "edits": []},
        "/wb/api/table": {"file": "rules/send.yaml"},
        "/wb/api/run": {"scenario": "title: x\n"},
        "/wb/api/impact": {"scenarios": ["examples/scenarios/career-first-quarter.yaml"]},
        "/wb/api/decide": {"event": "send"},
        "/wb/api/defaults": {"event": "send"},
    }
    return json.dumps(bodies.get(path, {})).encode()


def test_every_route_refuses_rebound_hosts_and_other_sites_and_nothing_is_written(
    base: str, folder: Path
) -> None:
    before = snapshot(folder)
    port = base.rsplit(":", 1)[1]
    routes = _routes(base)
    assert ("POST", "/wb/api/save") in routes and ("POST", "/wb/api/edit") in routes
    refused: list[str] = []
    for method, path in routes:
        body = _body(base, path) if method == "POST" else None
        for host in REBOUND:
            headers = {"Host": host.format(port=port), "Content-Type": "application/json"}
            r = httpx.request(method, base + path, headers=headers, content=body)
            assert (r.status_code, r.json()["code"]) == (403, "invalid_host"), (method, path, host, r.text)
            refused.append(f"{method} {path} as {host}")
        if method == "POST":
            for origin in ("http://evil.example", f"http://127.0.0.1:{port}.evil.example", "null"):
                headers = {"Origin": origin, "Content-Type": "application/json"}
                r = httpx.request(method, base + path, headers=headers, content=body)
                assert (r.status_code, r.json()["code"]) == (403, "cross_site_request"), (
                    path,
                    origin,
                    r.text,
                )
            site = {"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}
            r = httpx.request(method, base + path, headers=site, content=body)
            assert r.status_code == 403, (path, r.text)
            assert "access-control-allow-origin" not in r.headers
    assert snapshot(folder) == before
    assert len(refused) >= 3 * 15
    # and the same save from the page itself goes through: the refusals above were the guard's
    r = httpx.post(
        base + "/wb/api/save",
        content=_body(base, "/wb/api/save"),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert snapshot(folder) != before
