"""What an operator scrapes from ``GET /metrics``: decisions, latency, refusals, store errors, reloads.

Prometheus text, across every worker of a server: ``inmail serve`` gives its
workers one folder (``PROMETHEUS_MULTIPROC_DIR``, set before any worker
starts) where each writes its counters, and a scrape on any worker sums them
(prometheus-client's multiprocess mode). An app made in a process without
that folder (tests, the workbench) counts in a registry of its own.

The names follow Prometheus' conventions: ``_total`` counters, a
``_seconds`` histogram, labels with few values (event kinds, outcomes and
reasons from the rules, the route's template, never an account name).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as _multiprocess

#: Where the workers of one server write their samples (set by ``inmail serve`` for its workers).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Latency buckets, in seconds: a decision takes about a millisecond; a reload, tens.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """One set of metrics; ``shared`` (a server's workers) or in a registry of its own."""

    def __init__(self) -> None:
        self.shared = bool(os.environ.get(MULTIPROC_ENV))
        self._registry: CollectorRegistry | None = None if self.shared else CollectorRegistry()
        where: dict[str, Any] = {"registry": self._registry}
        self.decisions = Counter(
            "inmail_decisions_total",
            "Decided calls by event, outcome and reason (denials included, idempotent replays not).",
            ["event", "outcome", "reason"],
            **where,
        )
        self.replays = Counter(
            "inmail_idempotent_replays_total",
            "Calls answered with the first answer under their key.",
            **where,
        )
        self.latency = Histogram(
            "inmail_request_duration_seconds",
            "Time from a request's head to its answer, by route template, method and status class.",
            ["route", "method", "status"],
            buckets=_BUCKETS,
            **where,
        )
        self.problems = Counter(
            "inmail_problems_total", "Refused requests by the problem's code.", ["code", "status"], **where
        )
        self.store_errors = Counter(
            "inmail_store_errors_total",
            "Calls the store could not take (store_unavailable, store_conflict after its retries).",
            ["code"],
            **where,
        )
        self.reloads = Counter("inmail_reloads_total", "Policy reloads by result.", ["result"], **where)
        self.revision = Gauge(
            "inmail_policy_revision",
            "1 for the policy revision each worker answers with.",
            ["revision"],
            multiprocess_mode="liveall",
            **where,
        )
        self._revision: str | None = None

    def in_force(self, revision: str) -> None:
        """Say which revision answers now (one sample per worker, 1 for the one in force)."""
        if revision == self._revision:
            return
        if self._revision is not None:
            self.revision.labels(self._revision).set(0)
        self.revision.labels(revision).set(1)
        self._revision = revision

    def render(self) -> bytes:
        """The Prometheus text of every worker (shared) or of this registry."""
        if self._registry is not None:
            return bytes(generate_latest(self._registry))
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return bytes(generate_latest(registry))


class Measured:
    """ASGI middleware: each request's latency by route template, and each problem by its code.

    Outermost, so the request guard's refusals are counted too. The route is the template
    (``/v1/accounts/{account}/send``) the router matched, or ``unmatched``: an account name
    never becomes a label. A problem's code is read from its (small) body.
    """

    def __init__(
        self, app: Any, metrics: Metrics, log_clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        #: with ``--access-log json``, the service's clock (the one place it reads the wall clock)
        self.log_clock = log_clock

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        problem: list[bytes] | None = None

        async def watched(message: Any) -> None:
            nonlocal status, problem
            if message["type"] == "http.response.start":
                status = int(message["status"])
                ctype = dict(message.get("headers", [])).get(b"content-type", b"")
                problem = [] if ctype.startswith(b"application/problem+json") else None
            elif message["type"] == "http.response.body" and problem is not None:
                problem.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            m = self.metrics
            m.latency.labels(route, scope["method"], f"{status // 100}xx").observe(
                time.perf_counter() - started
            )
            code = None
            if problem is not None:
                try:
                    code = str(json.loads(b"".join(problem))["code"])
                except (ValueError, KeyError, TypeError):
                    code = "unknown"
                m.problems.labels(code, str(status)).inc()
            if self.log_clock is not None:
                _access_line(self.log_clock(), scope, route, status, code, time.perf_counter() - started)


def _access_line(
    now: dt.datetime, scope: Any, route: str, status: int, code: str | None, seconds: float
) -> None:
    """One JSON line per request on standard error (``--access-log json``), written whole in one call,
    so that the lines of several workers do not mix: when, who, what, how it ended and how long."""
    client = scope.get("client") or ("", 0)
    line = {
        "time": now.isoformat(timespec="milliseconds"),
        "client": client[0],
        "method": scope["method"],
        "path": scope.get("path", ""),
        "route": route,
        "status": status,
        "code": code,
        "ms": round(seconds * 1000, 3),
        "pid": os.getpid(),
    }
    sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stderr.flush()


def worker_exited(pid: int) -> None:
    """Forget a dead worker's gauges (its counters stay in the sums, as Prometheus expects)."""
    if os.environ.get(MULTIPROC_ENV):
        _multiprocess.mark_process_dead(pid)
