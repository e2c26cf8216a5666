"""Start the service: check everything first, then uvicorn with one or several workers.

Every mistake a person can make starting a server is found before a socket
is opened, and reported like any other bad input (a code, a message, exit
2): an invalid policy, a store that cannot be opened, a non-loopback host
without a token, several workers on an in-memory store, a port in use, a
decision log that cannot be written.

Reloads: ``POST /v1/policy/reload`` on any worker, or SIGHUP to the server.
Either way the files are read and checked (against the store too) once, and
what was checked is published as the revision every worker swaps in at its
next call (:mod:`engine.service.revisions`). With one worker, SIGHUP reloads
it (on its event loop, between calls, not inside one); with several, the
supervisor (uvicorn's, with its SIGHUP turned from "restart the workers" into
"reload the policy") does the checking and publishing. An invalid change is
printed and the running policy stays. The revision checked at start is the
first one published: a worker that starts later starts on the revision in
force, whatever the files say by then.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import signal
import socket
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from engine.codes import C
from engine.core.engine import Engine
from engine.errors import EngineError, InvalidInput
from engine.service.guard import PARSER_LIMIT, check_origin, split_host
from engine.service.revisions import Accepted, Revisions, read_files
from engine.service.state import CONFIG_ENV, Service, ServiceConfig
from engine.source.diagnostics import render_all
from engine.source.paths import resolve_policy, resolve_rules

MAX_WORKERS = 32
#: Seconds a worker waits after accepting a connection before it accepts another (TakeTurnsLoop).
ACCEPT_PAUSE = 0.002

#: The Service of a single-worker server, for its SIGHUP handler (set by the app factory).
current: list[Service] = []


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(config: ServiceConfig, host: str, port: int, workers: int) -> tuple[ServiceConfig, Accepted]:
    """Refuse what cannot work, with a code; return the config with its paths made absolute, and the
    policy and rules as checked (the first revision the workers get)."""
    if not 1 <= workers <= MAX_WORKERS:
        raise C.invalid_argument(f"--workers must be from 1 to {MAX_WORKERS}, got {workers}")
    if config.token is None and not is_loopback(host):
        raise C.token_required(  # with the catalog's help: how to give one
            f"`{host}` is not a loopback address: a server others can reach needs a token"
        )
    if config.token is not None and (not config.token.strip() or len(config.token) > 4096):
        raise C.invalid_token("the token must be 1 to 4,096 characters and not blank")
    check_guard(config)
    if workers > 1 and config.db in ("memory", ":memory:", "sqlite://"):
        raise C.memory_store_one_worker("several workers cannot share an in-memory store")
    config = replace(
        config,
        policy=str(resolve_policy(config.policy).resolve()),
        rules=str(resolve_rules(config.rules).resolve()),
    )
    if config.decision_log not in (None, "-"):
        target = Path(config.decision_log).resolve()
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        except OSError as exc:
            raise C.unwritable_output(
                f"cannot write the decision log `{config.decision_log}`: {exc.strerror}"
            ) from None
        config = replace(config, decision_log=str(target))
    accepted = accept(config, create=True)  # makes the store
    check_port(host, port)
    print(
        f"inmail serve: http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''}, "
        f"store {config.db}, revision {accepted.revision})",
        file=sys.stderr,
        flush=True,
    )
    return config, accepted


def accept(config: ServiceConfig, create: bool = False) -> Accepted:
    """Read the policy and rules files once and check them, against the store too: what is published."""
    policy, book = read_files(resolve_policy(config.policy), resolve_rules(config.rules))
    with Engine.open(db=config.db, policy=policy, rules=book, create=create):
        return Accepted.of(book)


def serve(config: ServiceConfig, host: str = "127.0.0.1", port: int = 8700, workers: int = 1) -> None:
    """Run until SIGINT or SIGTERM (in-flight calls finish first)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config, accepted = check(config, host, port, workers)
    folder = tempfile.mkdtemp(prefix="inmail-serve-")
    # the workers' Prometheus samples, summed by /metrics on any worker: set before any worker
    # (or this process, for one worker) imports prometheus-client, which reads it then
    samples = tempfile.mkdtemp(prefix="inmail-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = samples  # metrics.MULTIPROC_ENV (that module imports it)
    try:
        config = replace(config, revisions=folder)
        Revisions(folder).publish(accepted)
        os.environ[CONFIG_ENV] = config.to_env()
        uv = uvicorn.Config(
            "engine.service.app:from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
            h11_max_incomplete_event_size=PARSER_LIMIT,
            timeout_graceful_shutdown=30,
            server_header=False,
            loop="engine.service.run:TakeTurnsLoop" if workers > 1 else "auto",
        )
        if workers == 1:
            signal.signal(signal.SIGHUP, _reload_here)
            uvicorn.Server(uv).run()
            return

        class Supervisor(Multiprocess):
            def handle_hup(self) -> None:  # uvicorn restarts the workers; we reload their policy
                _reload_announced(config)

        Supervisor(uv, sockets=[_listening_socket(host, port)]).run()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(samples, ignore_errors=True)


def _listening_socket(host: str, port: int) -> socket.socket:
    """The workers' shared socket, made with its protocol number (uvicorn's own ``bind_socket`` leaves
    it 0, and asyncio then does not set TCP_NODELAY on the connections it accepts: every answer
    waited out the client's 40 ms delayed ACK)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class TakeTurnsLoop(asyncio.SelectorEventLoop):
    """uvicorn's event loop for several workers: one that accepts one connection per wake-up.

    The workers share one listening socket, and a keep-alive connection stays
    with the worker that accepted it. asyncio's loop accepts every pending
    connection each time the socket is ready, so a client pool that opens its
    connections at once mostly landed on one worker (6 of 8 was typical, 7 of
    8 seen), and the other worker idled. Taking one per wake-up lets the
    workers, all woken by each connection, take turns; a short pause after
    each accept gives a worker that woke later its turn. Bursts of 8
    connections on 2 workers split 4/4 in 18 of 20 tries with this loop, and
    in 5 of 20 without it (the rest 5/3, 6/2, 7/1). The shared socket
    stays (not one ``SO_REUSEPORT`` socket per worker) because connections
    waiting on a killed worker's own socket would be lost with it.
    """

    def _accept_connection(
        self,
        protocol_factory: Any,
        sock: Any,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *rest: Any,
    ) -> None:
        super()._accept_connection(protocol_factory, sock, sslcontext, server, 1, *rest)  # type: ignore[misc]
        # asyncio drops the reader itself when it must back off (too many open files); then it
        # also brings it back, and this pause stays out of its way
        if server is not None and self._remove_reader(sock.fileno()):  # type: ignore[attr-defined]
            self.call_later(
                ACCEPT_PAUSE, self._resume, protocol_factory, sock, sslcontext, server, backlog, *rest
            )

    def _resume(self, *accepting: Any) -> None:
        sock, server = accepting[1], accepting[3]
        if server.is_serving() and sock.fileno() != -1:
            self._add_reader(sock.fileno(), self._accept_connection, *accepting)  # type: ignore[attr-defined]


def _say_refused(exc: EngineError) -> None:
    text = render_all(exc.diagnostics) if isinstance(exc, InvalidInput) else f"{exc.code}: {exc.message}"
    print(f"inmail serve: reload refused, the running policy stays:\n{text}", file=sys.stderr, flush=True)


def _reload_here(signum: int, frame: FrameType | None) -> None:
    """SIGHUP with one worker: reload on the event loop, once the code it interrupted is done (a
    signal handler runs between any two bytecodes, maybe in the middle of a call and its
    transaction)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not serving yet (or any more)
        _reload_current()
        return
    loop.call_soon_threadsafe(_reload_current)


def _reload_current() -> None:
    for svc in current:
        try:
            _, revision = svc.reload()
            print(f"inmail serve: reloaded, revision {revision}", file=sys.stderr, flush=True)
        except EngineError as exc:
            _say_refused(exc)


def _reload_announced(config: ServiceConfig) -> None:
    """SIGHUP with several workers (in the supervisor): check the files, publish what was checked."""
    try:
        accepted = accept(config)
        if config.revisions is None:  # pragma: no cover - serve() always sets the folder
            raise OSError("the server has no folder for revisions")
        Revisions(config.revisions).publish(accepted)
    except EngineError as exc:
        _say_refused(exc)
        return
    except OSError as exc:
        print(f"inmail serve: reload failed, the running policy stays: {exc}", file=sys.stderr, flush=True)
        return
    print(
        f"inmail serve: reload announced to the workers, revision {accepted.revision}",
        file=sys.stderr,
        flush=True,
    )


def register(svc: Service) -> Service:
    """Remember a worker's Service for the single-worker SIGHUP handler."""
    current[:] = [svc]
    return svc


def check_guard(config: ServiceConfig) -> None:
    """Refuse an ``--allowed-host`` that is not a host name and a ``--cors-origin`` that is not an origin."""
    for name in config.allowed_hosts:
        if split_host(name) != (name.lower().strip("[]"), None):  # None (not a host) differs too
            raise C.invalid_argument(
                f"--allowed-host `{name}` is not a host name or address (no port, no path)",
                help="e.g. --allowed-host inmail.internal",
            )
    for origin in config.cors_origins:
        if check_origin(origin) is None:
            raise C.invalid_argument(
                f"--cors-origin `{origin}` is not a web origin",
                help="scheme, host and port only, e.g. --cors-origin https://app.example:8443",
            )


def check_port(host: str, port: int) -> None:
    """Refuse a port out of range or one another program listens on, before starting to serve."""
    if not 0 < port < 65536:
        raise C.invalid_argument(f"--port must be from 1 to 65535, got {port}")
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise C.address_unavailable(f"cannot listen on {host}:{port}: {exc.strerror}") from None
