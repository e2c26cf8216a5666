"""The store under faults, end to end: a real ``inmail serve`` with two workers, clients calling
under Idempotency-Key while the store goes away (a SQLite file deleted, PostgreSQL backends ended,
a PostgreSQL server stopped) and comes back.

What must hold: while the store is gone, every call started is ``503 store_unavailable`` with
``Retry-After``, and ``/readyz`` is 503; once it is back, calls succeed on the same workers (no
restart); every call answered 2xx (outside the moment of the fault itself, see
:meth:`Load.answered`) is in the store's event log exactly once, with the answer the client got;
and ``inmail replay`` rebuilds the ledger from what the store holds. A worker started again while
the store is gone makes no empty store in its place.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import sqlalchemy as sa

from engine import Engine
from tests.pg import backend_ender
from tests.pg_server import private_postgres

from .server import Server, fresh, running, serve_command

THREADS = 4
SIDES = ("", "-wal", "-shm")


@dataclass
class Attempt:
    key: str
    started: float
    ended: float
    status: int  # 0: the connection broke
    body: dict[str, Any]
    retry_after: str | None


class Load:
    """Client threads, each with two accounts, sending InMails until stopped.

    A call that got a 503 or a broken connection is sent again under the same key (what the header
    is for); every attempt is recorded with when it started and ended.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.attempts: list[Attempt] = []
        self.stop = threading.Event()
        self._threads = [threading.Thread(target=self._member, args=(t,)) for t in range(THREADS)]
        self._lock = threading.Lock()

    def __enter__(self) -> Load:
        for th in self._threads:
            th.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for th in self._threads:
            th.join(timeout=60)
        assert not any(th.is_alive() for th in self._threads)

    def _call(self, c: httpx.Client, path: str, body: dict[str, Any], key: str) -> None:
        while True:
            started = time.monotonic()
            try:
                r = c.post(path, json=body, headers={"Idempotency-Key": key})
                status, answer = r.status_code, r.json()
                retry_after = r.headers.get("Retry-After")
            except (httpx.TransportError, ValueError):
                status, answer, retry_after = 0, {}, None
            with self._lock:
                self.attempts.append(Attempt(key, started, time.monotonic(), status, answer, retry_after))
            if status not in (0, 503) or self.stop.is_set():
                return
            time.sleep(0.05)

    def _member(self, t: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as c:
            names = [f"m{t}-{a}" for a in range(2)]
            for name in names:
                self._call(c, f"/v1/accounts/{name}/subscribe", {"plan": "career"}, f"{name}/subscribe")
                self._call(c, f"/v1/accounts/{name}/purchase", {"credits": 50}, f"{name}/purchase")
            n = 0
            while not self.stop.is_set():
                name = names[n % 2]
                self._call(c, f"/v1/accounts/{name}/send", {"to": f"r{t}-{n}"}, f"{name}/send/{n}")
                n += 1

    def done(self) -> int:
        """How many calls were answered 2xx so far."""
        with self._lock:
            return sum(1 for a in self.attempts if 200 <= a.status < 300)

    def wait_for(self, more: int, timeout: float = 15) -> None:
        """Until ``more`` calls more than now have been answered 2xx."""
        goal = self.done() + more
        deadline = time.monotonic() + timeout
        while self.done() < goal:
            assert time.monotonic() < deadline, f"no progress: {self.done()} of {goal} answered"
            time.sleep(0.02)

    def between(self, start: float, end: float) -> list[Attempt]:
        """The attempts started after ``start`` and answered before ``end``."""
        with self._lock:
            return [a for a in self.attempts if a.started > start and a.ended < end]

    def answered(self, outside: list[tuple[float, float]]) -> list[Attempt]:
        """The 2xx answers, but those of attempts that overlapped a fault: a call committed just
        before a store was deleted was answered rightly and is lost with it."""
        with self._lock:
            return [
                a
                for a in self.attempts
                if 200 <= a.status < 300 and not any(a.ended >= s and a.started <= e for s, e in outside)
            ]


def _unavailable_meanwhile(load: Load, start: float, end: float) -> None:
    """Every call started after ``start`` and answered before ``end`` was 503 store_unavailable."""
    gap = load.between(start, end)
    assert len(gap) >= THREADS, f"too few calls while the store was gone: {len(gap)}"
    for a in gap:
        assert (a.status, a.body.get("code")) == (503, "store_unavailable"), a
        assert a.retry_after is not None, a


def _not_ready(server: Server) -> None:
    for _ in range(6):  # both workers, whichever answers
        r = fresh.get(server.url + "/readyz", timeout=10)
        assert r.status_code == 503 and r.json()["code"] == "store_unavailable", r.text
        assert r.headers.get("Retry-After")


def _in_the_store_once(db: str, answers: list[Attempt]) -> None:
    """Each 2xx answer is in the event log exactly once, as answered; ``inmail replay`` agrees."""
    assert answers
    with Engine.open(db=db, create=False) as eng:
        log = eng.log()
    by_key: dict[str | None, list[Any]] = {}
    for c in log:
        by_key.setdefault(c.key, []).append(c)
    assert all(len(v) == 1 for v in by_key.values()), "a key logged twice"
    for a in answers:
        logged = by_key.get(a.key, [])
        assert len(logged) == 1, (a, logged)
        if "decision_id" in a.body:
            assert (logged[0].seq, logged[0].outcome) == (a.body["decision_id"], a.body["outcome"]), a
    replay = subprocess.run(
        [*serve_command()[:-1], "replay", "--db", db], capture_output=True, text=True, timeout=120
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr


def _both_up(server: Server, db: str) -> set[int]:
    """The workers' process ids, once both hold the store open: the SQLite file, or a connection
    to the PostgreSQL server (``running`` waits for one worker to answer; a worker still starting
    when the store is deleted rightly refuses to make one, and is started again)."""
    url = sa.engine.make_url(db) if "://" in db else None
    deadline = time.monotonic() + 30
    while True:
        live = _live_workers(server)
        up = set()
        for w in live:
            with suppress(psutil.Error):
                if url is None and any(f.path == db for f in w.open_files()):
                    up.add(w.pid)
                if url is not None and any(
                    c.raddr and c.raddr.port == (url.port or 5432) for c in w.net_connections("tcp")
                ):
                    up.add(w.pid)
        if len(live) == 2 and len(up) == 2:
            return up
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)


def _same_workers(server: Server, before: set[int]) -> None:
    """Recovered without a restart: the same worker processes, and ready."""
    now = {w.pid for w in _live_workers(server)}
    assert now == before, f"a worker was restarted:\n{server.log()[-3000:]}"
    r = fresh.get(server.url + "/readyz", timeout=10)
    assert r.status_code == 200, r.text


def test_a_deleted_sqlite_store_is_503_until_a_backup_is_put_back(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    backup = tmp_path / "backup.db"
    with running(tmp_path, "--db", str(db), workers=2) as server, Load(server.url) as load:
        workers = _both_up(server, str(db))
        load.wait_for(40)
        backed_up = time.monotonic()
        src, dst = sqlite3.connect(db), sqlite3.connect(backup)
        src.backup(dst)
        src.close()
        dst.close()
        for side in SIDES:
            Path(f"{db}{side}").unlink()
        deleted = time.monotonic()
        time.sleep(1.0)
        _not_ready(server)
        assert not any(Path(f"{db}{side}").exists() for side in SIDES)  # no empty store in its place
        restoring = time.monotonic()
        shutil.copy(backup, tmp_path / "restoring.db")
        os.replace(tmp_path / "restoring.db", db)
        restored = time.monotonic()
        load.wait_for(40)
        _unavailable_meanwhile(load, deleted, restoring)
        _same_workers(server, workers)
    _in_the_store_once(str(db), load.answered([(backed_up, restored)]))


def test_postgres_backends_ended_under_load_lose_nothing(tmp_path: Path, pg_url: str) -> None:
    pytest.importorskip("psycopg")
    end_backends = backend_ender(pg_url)
    with running(tmp_path, "--db", pg_url, workers=2) as server, Load(server.url) as load:
        workers = _both_up(server, pg_url)
        load.wait_for(30)
        for _ in range(3):
            assert end_backends() >= 1
            load.wait_for(20)
        _same_workers(server, workers)
    assert all(a.status in (200, 409, 503) for a in load.attempts)  # 409: a clock race between workers
    assert all(
        a.body.get("code") in ("store_unavailable", "store_conflict")
        for a in load.attempts
        if a.status == 503
    )
    _in_the_store_once(pg_url, load.answered([]))


def test_a_postgres_server_stopped_and_restarted_under_load_loses_nothing(tmp_path: Path) -> None:
    with private_postgres() as pg:
        with running(tmp_path, "--db", pg.url, workers=2) as server, Load(server.url) as load:
            workers = _both_up(server, pg.url)
            load.wait_for(30)
            pg.restart()
            load.wait_for(30)
            pg.stop()
            stopped = time.monotonic()
            time.sleep(1.0)
            _not_ready(server)
            starting = time.monotonic()
            pg.start()
            load.wait_for(30)
            _unavailable_meanwhile(load, stopped, starting)
            _same_workers(server, workers)
        _in_the_store_once(pg.url, load.answered([]))


def test_a_worker_started_while_the_store_is_gone_makes_no_empty_store(tmp_path: Path) -> None:
    """The supervisor makes the store; a worker started again (after a crash) while it is gone must
    not make an empty one in its place: the other workers would take it for a backup put back."""
    db = tmp_path / "store.db"
    with (
        running(tmp_path, "--db", str(db), workers=2) as server,
        httpx.Client(base_url=server.url, timeout=10) as c,
    ):
        _both_up(server, str(db))
        assert c.post("/v1/accounts/ann/subscribe", json={"plan": "career"}).status_code == 200
        src, dst = sqlite3.connect(db), sqlite3.connect(tmp_path / "backup.db")
        src.backup(dst)
        src.close()
        dst.close()
        for side in SIDES:
            Path(f"{db}{side}").unlink()
        victim = server.workers()[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        deadline = time.monotonic() + 15
        while "store_not_found" not in server.log():  # a new worker tried, and would not make one
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.1)
        assert not any(Path(f"{db}{side}").exists() for side in SIDES)
        _not_ready(server)
        shutil.copy(tmp_path / "backup.db", tmp_path / "restoring.db")
        os.replace(tmp_path / "restoring.db", db)
        deadline = time.monotonic() + 15
        while len(_live_workers(server)) < 2:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.1)
        for _ in range(4):  # whichever worker answers: the history is the backup's
            r = c.get("/v1/accounts/ann/balance")
            assert r.status_code == 200 and r.json()["credits"] == 5, r.text


def _live_workers(server: Server) -> list[psutil.Process]:
    """The worker processes that run (a worker that failed to start may linger as a zombie)."""
    live = []
    for k in psutil.Process(server.proc.pid).children():
        with suppress(psutil.Error):
            if k.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(k.cmdline()):
                live.append(k)
    return live
