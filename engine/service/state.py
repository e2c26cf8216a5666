"""One worker's share of the service: its Engine, its policy generation, its decision log.

Each worker process opens its own :class:`~engine.core.engine.Engine` on the
shared store (SQLite file or PostgreSQL URL): no worker holds the truth, the
store does. What the workers do share besides the store is a *reload signal*,
a small file whose modification time moves when any worker (or the
supervisor, on SIGHUP) has validated and loaded a changed policy; every
worker checks it before a call and reloads the same files. A policy that
turns invalid between the two reloads leaves that worker on the one it had.

A worker makes one engine call at a time, on its event loop thread: the
Engine is not meant for concurrent calls from threads, and the parallelism
of a service is its workers.

This is also the one place of the service that reads the wall clock: a call
without ``at`` happens now, and the decision log stamps each line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.core.engine import Engine
from engine.errors import EngineError, StoreUnavailable
from engine.model import Decision

log = logging.getLogger("inmail.service")

#: Environment variable that hands a worker its settings (uvicorn starts workers by import string).
CONFIG_ENV = "INMAIL_SERVICE_CONFIG"

#: Tries of a call whose transaction clashed with another worker's (``store_conflict``).
_TRIES = 4


@dataclass(frozen=True)
class ServiceConfig:
    """Everything a worker needs, as plain data (it travels to workers as JSON)."""

    db: str = "memory"
    policy: str | None = None
    rules: str | None = None
    token: str | None = None
    decision_log: str | None = None  # a file to append to, or "-" for standard output
    reload_signal: str | None = None  # the file whose mtime announces a reload to every worker
    max_body: int = 65_536
    host: str = "127.0.0.1"  # the bind address: a Host the request guard accepts
    allowed_hosts: tuple[str, ...] = ()  # more names the server answers to (--allowed-host)
    cors_origins: tuple[str, ...] = ()  # origins whose pages may call it (--cors-origin)

    def to_env(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls) -> ServiceConfig:
        text = os.environ.get(CONFIG_ENV)
        if not text:
            raise RuntimeError(f"{CONFIG_ENV} is not set: start the service with `inmail serve`")
        fields = json.loads(text)
        for name in ("allowed_hosts", "cors_origins"):  # JSON has lists; the config keeps tuples
            fields[name] = tuple(fields.get(name, ()))
        return cls(**fields)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DecisionLog:
    """One JSON line per decision, appended with a single ``write`` (whole lines from every worker)."""

    def __init__(self, target: str | None) -> None:
        self._fd: int | None = None
        self._own = False
        if target == "-":
            self._fd = 1
        elif target:
            self._fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._own = True

    def write(self, record: dict[str, Any]) -> None:
        if self._fd is None:
            return
        try:
            os.write(self._fd, (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode())
        except OSError as exc:  # a full disk must not fail the call that was already decided
            log.warning("decision log: %s", exc)

    def close(self) -> None:
        if self._own and self._fd is not None:
            os.close(self._fd)
        self._fd = None


class Service:
    """The engine behind the routes, and the bookkeeping each call shares."""

    def __init__(self, config: ServiceConfig, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.config = config
        self.clock = clock
        self.engine = Engine.open(db=config.db, policy=config.policy, rules=config.rules)
        self.decisions = DecisionLog(config.decision_log)
        self._seen = self._signal_stamp()

    def close(self) -> None:
        self.engine.close()
        self.decisions.close()

    # --- reload ---------------------------------------------------------------------------------

    def _signal_stamp(self) -> int | None:
        path = self.config.reload_signal
        if path is None:
            return None
        try:
            return os.stat(path).st_mtime_ns
        except OSError:
            return None

    def follow_reloads(self) -> None:
        """Load the files again if another worker (or SIGHUP) announced a reload since the last call."""
        stamp = self._signal_stamp()
        if stamp == self._seen:
            return
        self._seen = stamp
        try:
            self.engine.reload(self.config.policy, self.config.rules)
        except EngineError as exc:  # changed again, and invalid now: keep the policy in force
            log.warning("reload announced, but the files do not load: %s", exc.code)

    def reload(self) -> tuple[str, str]:
        """Load and swap in the policy files (raises, changing nothing, when invalid); tell the others."""
        previous = self.engine.revision
        revision = self.engine.reload(self.config.policy, self.config.rules)
        self._seen = announce_reload(self.config.reload_signal)
        return previous, revision

    # --- calls ----------------------------------------------------------------------------------

    async def call(self, event: str, arguments: dict[str, Any], at: str | None, key: str | None,
                   run: Callable[[Engine, Any, str | None], Decision]) -> tuple[Decision, bool]:
        """Make one engine call; return its Decision and whether it is an idempotent replay.

        A retry under a known key without ``at`` takes the first call's instant, not the clock's:
        it repeats the same call, so it gets the first answer (any other difference is still
        ``idempotency_key_reused``). A transaction that clashed with another worker's is tried
        again: the engine wrote nothing for it. So is a call without ``at`` that another worker's
        call on the same account overtook (``time_went_back`` by a hair): it happens now, and now
        is later than that call. And so is a call without ``at`` whose key another request took
        while this one read the clock (concurrent retries of one request, each with its own
        instant): the key decides, not the clock, so the next try finds the first call under the
        key, takes its instant and replays its answer; a key taken by a *different* request is
        still refused on that try.
        """
        started = time.perf_counter_ns()
        for attempt in range(_TRIES):
            first = None
            try:
                first = self.engine.recorded(key) if key is not None else None
                when: Any = at if at is not None else (first.at if first is not None else self.clock())
                decision = run(self.engine, when, key)
                break
            except StoreUnavailable as exc:
                if exc.code != "store_conflict" or attempt == _TRIES - 1:
                    raise
                await asyncio.sleep(0.005 * 2 ** attempt)
            except EngineError as exc:
                raced = (at is None and first is None
                         and exc.code in ("time_went_back", "idempotency_key_reused"))
                if not raced or attempt == _TRIES - 1:
                    raise
        latency = (time.perf_counter_ns() - started) // 1000
        replayed = first is not None
        self.decisions.write({
            "decision_id": decision.id, "time": self.clock().isoformat(), "event": event,
            "arguments": {**arguments, "at": decision.at.isoformat()}, "key": key,
            "outcome": decision.outcome, "reason": decision.reason, "rules": list(decision.rules),
            "requirements": list(decision.requirements), "revision": decision.revision,
            "latency_us": latency, "replayed": replayed})
        return decision, replayed


def announce_reload(path: str | None) -> int | None:
    """Move the reload signal's modification time forward (strictly), so every worker notices."""
    if path is None:
        return None
    try:
        before = os.stat(path).st_mtime_ns
    except OSError:
        before = 0
    stamp = max(time.time_ns(), before + 1_000)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{stamp}\n")
    os.utime(path, ns=(stamp, stamp))
    return stamp
