"""Nothing lost under faults: concurrent sends against two workers while one is killed with SIGKILL.

Clients do what the Idempotency-Key header is for: a call whose connection
broke is sent again, under the same key, until it gets an answer. Then every
call that got a 2xx must be in the store's event log exactly once, with the
answer the client got; no account may spend a credit it did not have; and
``inmail replay`` must rebuild the same ledger from the log.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine import Engine

from .server import running, serve_command

THREADS = 4
ACCOUNTS_PER_THREAD = 2
SENDS_PER_ACCOUNT = 20  # more than the credits, so an overspend would show
BOUGHT = 10  # each account: the start grant (5 on career) + 10 bought = 15 credits for 20 sends


def _call(c: httpx.Client, path: str, body: dict[str, Any], key: str) -> httpx.Response:
    """Send until answered: a broken connection or a 503 is tried again under the same key."""
    for _ in range(200):
        try:
            r = c.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if r.status_code != 503:
            return r
        time.sleep(0.05)
    raise AssertionError(f"no answer for {key}")


def _load(url: str, results: list[tuple[str, str, dict[str, Any]]], progress: list[int]) -> None:
    def member(t: int) -> None:
        rng = random.Random(t)
        with httpx.Client(base_url=url, timeout=30) as c:
            names = [f"m{t}-{a}" for a in range(ACCOUNTS_PER_THREAD)]
            for name in names:
                for path, body in (
                    (f"/v1/accounts/{name}/subscribe", {"plan": "career"}),
                    (f"/v1/accounts/{name}/purchase", {"credits": BOUGHT}),
                ):
                    r = _call(c, path, body, f"{path}#setup")
                    assert r.status_code == 200, r.text
            for n in range(SENDS_PER_ACCOUNT * ACCOUNTS_PER_THREAD):
                name = rng.choice(names)
                key = f"{name}/send/{n}"
                r = _call(c, f"/v1/accounts/{name}/send", {"to": f"r{t}-{n}"}, key)
                assert r.status_code in (200, 409), r.text  # 409: a clock race between workers
                if r.status_code == 200:
                    results.append((key, name, r.json()))
                progress.append(1)

    threads = [threading.Thread(target=member, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def _kill_a_worker_under_load(tmp_path: Path, db: str) -> None:
    results: list[tuple[str, str, dict[str, Any]]] = []
    progress: list[int] = []
    with running(tmp_path, "--db", db, workers=2) as server:
        load = threading.Thread(target=_load, args=(server.url, results, progress))
        load.start()
        total = THREADS * ACCOUNTS_PER_THREAD * SENDS_PER_ACCOUNT
        while len(progress) < total // 3 and load.is_alive():
            time.sleep(0.01)
        victim = server.workers()[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        load.join(timeout=300)
        assert not load.is_alive()
        deadline = time.monotonic() + 20
        while len(server.workers()) < 2 and time.monotonic() < deadline:  # the supervisor starts another
            time.sleep(0.1)
        assert len(server.workers()) == 2 and victim.pid not in [w.pid for w in server.workers()]
    assert len(results) >= total * 0.9

    with Engine.open(db=db, create=False) as eng:
        log = eng.log()
        by_key: dict[str | None, list[Any]] = {}
        for c in log:
            by_key.setdefault(c.key, []).append(c)
        for key, _name, answer in results:
            logged = by_key.get(key, [])
            assert len(logged) == 1, (key, logged)  # in the ledger exactly once
            assert (logged[0].seq, logged[0].outcome) == (answer["decision_id"], answer["outcome"])
        for name in {name for _k, name, _a in results}:
            sent = sum(1 for c in log if c.account == name and c.method == "send" and c.outcome == "sent")
            history = eng.history(name)
            assert sent == sum(1 for e in history if e.kind == "consume")
            assert sent <= 5 + BOUGHT  # no overspend
            assert all(e.balance_after >= 0 for e in history)
            assert eng.balance(name).credits == 5 + BOUGHT - sent
    replay = subprocess.run(
        [*serve_command()[:-1], "replay", "--db", db], capture_output=True, text=True, timeout=300
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr


def test_a_killed_worker_loses_nothing_on_sqlite(tmp_path: Path) -> None:
    _kill_a_worker_under_load(tmp_path, str(tmp_path / "store.db"))


def test_a_killed_worker_loses_nothing_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    pytest.importorskip("psycopg")
    _kill_a_worker_under_load(tmp_path, pg_url)
