"""A service app on a fresh store, and a client to call it with (FastAPI's TestClient, in process)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.service.app import create_app
from engine.service.state import Service, ServiceConfig

#: The service's clock in these tests: a fixed instant, so a call without `at` is reproducible.
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """``make_client(**ServiceConfig fields)`` -> a TestClient on a new app (memory store by default)."""
    made: list[TestClient] = []

    def _make(**config: Any) -> TestClient:
        svc = Service(ServiceConfig(**{"db": "memory", **config}), clock=lambda: NOW)
        client = TestClient(
            create_app(service=svc), raise_server_exceptions=False, base_url="http://127.0.0.1"
        )
        client.__enter__()
        made.append(client)
        return client

    yield _make
    for c in made:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()
