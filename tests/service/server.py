"""A real ``inmail serve`` process on loopback, for the end-to-end, reload and fault tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

#: The tests' calls to a real server, each over a new connection (no keep-alive), so any worker
#: may answer it, as with ``httpx.get``; but one client for all of them: ``httpx.get`` builds a
#: client (and its TLS context) per call, about 20 ms, which made the reload tests' hundreds of
#: calls take seconds.
fresh = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, proc: subprocess.Popen[str], port: int, stderr: Path) -> None:
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"
        self.stderr = stderr

    def workers(self) -> list[psutil.Process]:
        """The worker processes (uvicorn's spawned children; not multiprocessing's resource tracker)."""
        kids = psutil.Process(self.proc.pid).children()
        return [k for k in kids if "resource_tracker" not in " ".join(k.cmdline())]

    def log(self) -> str:
        return self.stderr.read_text()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"inmail serve exited {self.proc.returncode}:\n{self.log()}")
            try:
                if fresh.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"inmail serve not ready in {timeout} s:\n{self.log()}")

    def signal(self, sig: signal.Signals) -> None:
        os.kill(self.proc.pid, sig)


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "serve", *args]


def side_by_side(
    commands: list[tuple[list[str], Path]], env: dict[str, str] | None = None, timeout: float = 60
) -> list[subprocess.CompletedProcess[str]]:
    """Run each command in its folder, all at once, and wait for every one: a batch of refusals
    takes about the time of one (each is a Python start, most of a second), not the sum."""
    procs = [
        subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command, cwd in commands
    ]
    done = []
    for command, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=timeout)
        done.append(subprocess.CompletedProcess(command[0], proc.returncode, out, err))
    return done


@contextmanager
def running(
    folder: Path, *args: str, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``inmail serve`` in ``folder`` on a free port; stopped (SIGTERM, then SIGKILL) afterwards."""
    port = free_port()
    stderr = folder / f"serve-{port}.log"
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            serve_command("--port", str(port), "--workers", str(workers), *args),
            cwd=folder,
            stdout=err,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
    server = Server(proc, port, stderr)
    try:
        server.wait_ready()
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def workbench(folder: Path, *options: str) -> Iterator[str]:
    """``inmail workbench FOLDER`` on a free port (``options``: more of its options, e.g. ``--db``, URL):
    its base URL once the page answers; stopped afterwards."""
    port = free_port()
    log = folder.parent / f"workbench-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "workbench", str(folder), "--port", str(port), *options],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"inmail workbench did not start:\n{log.read_text()}")
            try:
                if fresh.get(base + "/wb/api/files", timeout=1).status_code in (200, 401):  # 401: shared
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
