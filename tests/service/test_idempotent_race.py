"""Concurrent retries under one Idempotency-Key, without ``at``, on two workers: one call, one answer.

Each request reads its own clock, so without care the second of two racing
requests differs from the first in its instant and is refused as
``idempotency_key_reused``. The key must decide, not the clock: every thread
gets the first call's answer (replayed), and the store holds the call once.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from engine import Engine

from .server import running

THREADS = 8
ROUNDS = 12


def test_racing_retries_under_one_key_get_one_answer_on_sqlite(tmp_path: Path) -> None:
    _race(tmp_path, str(tmp_path / "inmail.db"))


def test_racing_retries_under_one_key_get_one_answer_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    pytest.importorskip("psycopg")
    _race(tmp_path, pg_url)


def _race(tmp_path: Path, db: str) -> None:
    with running(tmp_path, "--db", db, workers=2) as server:
        clients = [httpx.Client(base_url=server.url, timeout=30) for _ in range(THREADS)]
        try:
            for i in range(ROUNDS):
                r = clients[0].post(f"/v1/accounts/a{i}/subscribe", json={"plan": "career"})
                assert r.status_code == 200, r.text
            for i in range(ROUNDS):
                gate = threading.Barrier(THREADS)
                answers: list[httpx.Response] = []

                def one(
                    c: httpx.Client,
                    i: int = i,
                    gate: threading.Barrier = gate,
                    answers: list[httpx.Response] = answers,
                ) -> None:
                    gate.wait()
                    answers.append(
                        c.post(
                            f"/v1/accounts/a{i}/send",
                            json={"to": f"r{i}"},
                            headers={"Idempotency-Key": f"race-{i}"},
                        )
                    )

                threads = [threading.Thread(target=one, args=(c,)) for c in clients]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                assert [a.status_code for a in answers] == [200] * THREADS, [a.text for a in answers]
                assert len({a.json()["decision_id"] for a in answers}) == 1
                assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == [""] + [
                    "true"
                ] * (THREADS - 1)
        finally:
            for c in clients:
                c.close()
    with Engine.open(db=db, create=False) as eng:
        sends = [c for c in eng.log() if c.method == "send"]
        assert len(sends) == ROUNDS and {c.key for c in sends} == {f"race-{i}" for i in range(ROUNDS)}
