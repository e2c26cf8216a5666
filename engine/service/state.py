"""One worker's share of the service: its Engine, its policy generation, its decision log.

Each worker process opens its own :class:`~engine.core.engine.Engine` on the
shared store (SQLite file or PostgreSQL URL): no worker holds the truth, the
store does. What the workers do share besides the store is the revision
accepted last (:mod:`engine.service.revisions`): a reload is read and checked
once, by the worker that got ``POST /v1/policy/reload`` or by the supervisor
on SIGHUP, and published; before each call every worker looks whether a newer
one was published and swaps in exactly those texts, never the files as they
are by then. A worker starts on the revision published last, too.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.codes import C
from engine.core.engine import Engine
from engine.errors import EngineError, StoreUnavailable
from engine.events import EventKind
from engine.model import Decision
from engine.service.revisions import Accepted, Revisions, Stamp, read_files
from engine.source.paths import resolve_policy, resolve_rules

if TYPE_CHECKING:
    from engine.service.metrics import Metrics

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
    revisions: str | None = None  # the server's private folder of accepted revisions (service.revisions)
    max_body: int = 65_536
    host: str = "127.0.0.1"  # the bind address: a Host the request guard accepts
    allowed_hosts: tuple[str, ...] = ()  # more names the server answers to (--allowed-host)
    cors_origins: tuple[str, ...] = ()  # origins whose pages may call it (--cors-origin)
    access_log: bool = False  # one JSON line per request on standard error (--access-log json)
    metrics_open: bool = False  # /metrics answers without the token (--metrics-open)

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
        #: where diagnostics and ``GET /v1/policy`` say the policy and rules come from
        self.policy_path = resolve_policy(config.policy)
        self.rules_dir = resolve_rules(config.rules)
        self._revisions = Revisions(config.revisions) if config.revisions is not None else None
        self._seen: Stamp = None  # the pointer as this worker last looked at it
        self._applied: str | None = None  # the snapshot this worker loaded (or published) last
        found = None
        if self._revisions is not None:  # a server: start on the revision accepted last, not the files
            self._seen = self._revisions.stamp()
            found = self._revisions.latest()
        # A server's store was made by its supervisor: a worker (re)started while the store is gone
        # must not make an empty one in its place (the other workers would take it for a backup).
        create = self._revisions is None
        if found is None:
            self.engine = Engine.open(
                db=config.db, policy=self.policy_path, rules=self.rules_dir, create=create, clock=clock
            )
        else:
            pointer, accepted = found
            policy, book = accepted.load(self.policy_path, self.rules_dir)
            self.engine = Engine.open(db=config.db, policy=policy, rules=book, create=create, clock=clock)
            self._applied = pointer.snapshot
        self.decisions = DecisionLog(config.decision_log)
        # imported here, not above: prometheus-client picks its way of counting when first imported,
        # and `inmail serve` says where the workers share their samples only just before it starts them
        from engine.service.metrics import Metrics

        self.metrics: Metrics = Metrics()
        self.metrics.in_force(self.engine.revision)

    def close(self) -> None:
        self.engine.close()
        self.decisions.close()

    # --- reload ---------------------------------------------------------------------------------

    def follow_reloads(self) -> None:
        """Swap in the revision accepted last, if it is not the one this worker has (one ``stat``).

        The texts are the accepted ones, not the files (which may have changed since). A
        revision that fails here (``plan_in_use``: an account got on a plan it drops after it
        was accepted) leaves this worker on its revision, said in the log, until the next
        reload; a store that does not answer is tried again at the next call.
        """
        if self._revisions is None:
            return
        stamp = self._revisions.stamp()
        if stamp == self._seen:
            return
        try:
            found = self._revisions.latest()
        except (OSError, ValueError, KeyError, EngineError) as exc:
            log.warning("worker %d: cannot read the accepted revision: %s", os.getpid(), exc)
            return
        if found is not None and found[0].snapshot != self._applied:
            pointer, accepted = found
            if accepted.revision != self.engine.revision:
                try:
                    policy, book = accepted.load(self.policy_path, self.rules_dir)
                    self.engine.reload(policy, book)
                except StoreUnavailable:
                    return
                except EngineError as exc:
                    log.error(
                        "worker %d stays on revision %s: the accepted revision %s does not load here: %s: %s",
                        os.getpid(),
                        self.engine.revision,
                        accepted.revision,
                        exc.code,
                        exc,
                    )
            self._applied = pointer.snapshot
            self.metrics.in_force(self.engine.revision)
        self._seen = stamp

    def reload(self) -> tuple[str, str]:
        """Read and check the policy files once, publish them to the other workers, swap them in.

        Invalid files raise and change nothing (here or elsewhere): the others hear of a
        revision only once this worker has checked it against the store.
        """
        previous = self.engine.revision
        try:
            policy, book = read_files(self.policy_path, self.rules_dir)
        except EngineError:
            self.metrics.reloads.labels("refused").inc()
            raise
        revisions = self._revisions

        def publish(revision: str) -> None:
            if revisions is None:
                return
            try:
                self._applied = revisions.publish(Accepted.of(book)).snapshot
            except OSError as exc:
                raise C.internal_error(
                    f"cannot hand the revision to the other workers: {exc.strerror or exc}"
                ) from None

        try:
            revision = self.engine.reload(policy, book, publish=publish)
        except EngineError:
            self.metrics.reloads.labels("refused").inc()
            raise
        self.metrics.reloads.labels("accepted").inc()
        self.metrics.in_force(revision)
        return previous, revision

    # --- calls ----------------------------------------------------------------------------------

    async def call(
        self, kind: EventKind, args: Mapping[str, Any], at: str | None, key: str | None
    ) -> tuple[Decision, bool]:
        """Make one engine call of ``kind`` (``args`` by argument name, as :meth:`Engine.call` takes
        them); return its Decision and whether it is an idempotent replay.

        The engine owns a call without ``at`` (it was opened with this service's clock): a retry
        under a known key happens at the first call's instant and gets the first answer, a new
        call at the clock's, read once the key is known unused; one read of the key per try. A
        transaction that clashed with another worker's is tried again: the engine wrote nothing
        for it. That covers concurrent retries of one request too: both find the key unused, one
        commits it, the other's insert clashes, and its next try finds the first call and replays
        it. So is a call without ``at`` that another worker's call on the same account overtook
        (``time_went_back`` by a hair): it happens now, and now is later than that call.
        """
        started = time.perf_counter_ns()
        for attempt in range(_TRIES):
            try:
                decision = self.engine.call(kind, args, at=at, key=key)
                break
            except StoreUnavailable as exc:
                if exc.code != C.store_conflict or attempt == _TRIES - 1:
                    self.metrics.store_errors.labels(exc.code).inc()
                    raise
                await asyncio.sleep(0.005 * 2**attempt)
            except EngineError as exc:
                if at is not None or exc.code != C.time_went_back or attempt == _TRIES - 1:
                    raise
        latency = (time.perf_counter_ns() - started) // 1000
        replayed = decision.replayed
        if replayed:
            self.metrics.replays.inc()
        else:
            self.metrics.decisions.labels(kind.name, decision.outcome, decision.reason or "").inc()
        self.decisions.write(
            {
                "decision_id": decision.id,
                "time": self.clock().isoformat(),
                "event": kind.name,
                "arguments": {**args, "at": decision.at.isoformat()},
                "key": key,
                "outcome": decision.outcome,
                "reason": decision.reason,
                "rules": list(decision.rules),
                "requirements": list(decision.requirements),
                "revision": decision.revision,
                "latency_us": latency,
                "replayed": replayed,
            }
        )
        return decision, replayed
