"""``inmail serve`` as a user starts it: a real uvicorn process on loopback, its workers and signals."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx

from .server import free_port, fresh, running, serve_command, side_by_side

ROOT = Path(__file__).resolve().parents[2]
JSON = {"content-type": "application/json"}


def test_a_server_answers_calls_and_stops_gracefully(tmp_path: Path) -> None:
    with (
        contextlib.ExitStack() as stack,
        running(tmp_path, "--db", "store.db", "--decision-log", "decisions.jsonl") as server,
    ):
        c = stack.enter_context(httpx.Client(base_url=server.url))
        assert c.post("/v1/accounts/alice/subscribe", json={"plan": "career"}).json()["balance"] == 5
        sent = c.post("/v1/accounts/alice/send", json={"to": "carol"}, headers={"Idempotency-Key": "k1"})
        again = c.post("/v1/accounts/alice/send", json={"to": "carol"}, headers={"Idempotency-Key": "k1"})
        assert sent.json() == again.json() and again.headers["idempotent-replayed"] == "true"
        assert c.get("/openapi.json").json()["info"]["title"] == "inmail-engine"
        assert "revision" in server.log()
        server.signal(signal.SIGTERM)  # uvicorn finishes in-flight calls, then exits by the signal
        assert server.proc.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Traceback" not in server.log()
    assert len((tmp_path / "decisions.jsonl").read_text().splitlines()) == 3
    log = subprocess.run(
        [*serve_command()[:-1], "log", "--db", "store.db", "--format", "jsonl"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert len(log) == 2  # the store kept both calls; the replay was not a new one


def test_sighup_reloads_every_worker_and_an_invalid_change_changes_nothing(tmp_path: Path) -> None:
    shutil.copy(ROOT / "policies.yaml", tmp_path / "policies.yaml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    text = (tmp_path / "policies.yaml").read_text()
    with contextlib.ExitStack() as stack, running(tmp_path, "--db", "store.db", workers=2) as server:
        c = stack.enter_context(httpx.Client(base_url=server.url))
        before = c.get("/v1/policy").json()["revision"]
        (tmp_path / "policies.yaml").write_text(text.replace("allotment: 5", "allotment: 6", 1))
        server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while c.get("/v1/policy").json()["revision"] == before and time.monotonic() < deadline:
            time.sleep(0.1)
        after = {c.get("/v1/policy").json()["revision"] for _ in range(20)}  # both workers answer
        assert len(after) == 1 and before not in after

        (tmp_path / "policies.yaml").write_text(text.replace("monthly_allotment: 5", "monthly_alot: 5", 1))
        server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload refused" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "unknown_key" in server.log()
        assert {c.get("/v1/policy").json()["revision"] for _ in range(20)} == after
        refused = c.post("/v1/policy/reload", json={})
        assert (refused.status_code, refused.json()["code"]) == (422, "unknown_key")
        assert len(server.workers()) == 2


def test_a_token_guards_a_server_on_every_v1_route(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t0ken-for-tests\n")
    with running(tmp_path, "--db", "memory", "--token-file", "token") as server:
        assert fresh.get(server.url + "/v1/plans").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert fresh.get(server.url + "/v1/plans", headers=wrong).status_code == 401
        assert (
            fresh.get(
                server.url + "/v1/plans", headers={"Authorization": "Bearer t0ken-for-tests"}
            ).status_code
            == 200
        )
        assert fresh.get(server.url + "/healthz").status_code == 200


#: (case, arguments, code): a server that cannot work, refused before it listens.
CANNOT_WORK = [
    ("any-host", ["--host", "0.0.0.0"], "token_required"),
    ("lan-host", ["--host", "192.0.2.7"], "token_required"),
    ("memory-workers", ["--workers", "2", "--db", "memory"], "memory_store_one_worker"),
    ("no-workers", ["--workers", "0"], "invalid_argument"),
    ("no-policy", ["--policy", "missing.yaml"], "file_not_found"),
    ("no-token-file", ["--token-file", "nothing-here"], "invalid_token"),
    ("bad-log", ["--decision-log", "no/such/folder/d.jsonl"], "unwritable_output"),
    ("tiny-body", ["--max-body", "10"], "invalid_argument"),
]


def test_a_server_that_cannot_work_is_refused_before_it_listens(tmp_path: Path) -> None:
    """Every case in its own process and folder, all started at once (:func:`side_by_side`)."""
    folders = [tmp_path / case for case, _, _ in CANNOT_WORK]
    for folder in folders:
        folder.mkdir()
    commands = [serve_command("--port", str(free_port()), *args) for _, args, _ in CANNOT_WORK]
    done = side_by_side(list(zip(commands, folders, strict=True)), env={"PATH": "/usr/bin:/bin"})
    wrong = [
        f"{case}: exit {proc.returncode}\n{proc.stderr}"
        for (case, _, code), proc, folder in zip(CANNOT_WORK, done, folders, strict=True)
        if proc.returncode != 2
        or code not in proc.stderr
        or "Traceback" in proc.stderr
        or (folder / "inmail.db").exists()  # refused before anything was made
    ]
    assert not wrong, "\n".join(wrong)


def test_a_port_in_use_is_refused_plainly(tmp_path: Path) -> None:
    with running(tmp_path, "--db", "memory") as server:
        port = server.url.rsplit(":", 1)[1]
        proc = subprocess.run(
            serve_command("--port", port, "--db", "memory"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and "address_unavailable" in proc.stderr, proc.stderr


def test_an_invalid_policy_at_start_shows_its_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "policies.yaml").write_text(
        (ROOT / "policies.yaml").read_text().replace("monthly_allotment: 5", "monthly_alotment: 5", 1)
    )
    proc = subprocess.run(
        serve_command("--port", str(free_port())), cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "policies.yaml:" in proc.stderr and "unknown_key" in proc.stderr and "did you mean" in proc.stderr


def test_the_workers_socket_carries_its_protocol_so_answers_are_not_held_back() -> None:
    """asyncio sets TCP_NODELAY only on sockets that say they are TCP; without it every answer from a
    worker waited for the client's delayed ACK (40 ms a call with --workers 2)."""
    import socket

    from engine.service.run import _listening_socket

    with _listening_socket("127.0.0.1", free_port()) as sock:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()


def test_sigterm_lets_a_call_in_flight_finish_and_keep_its_answer(tmp_path: Path) -> None:
    """A call waiting for the store when SIGTERM comes is carried out and answered, then the server exits."""
    import sqlite3
    import threading

    answers: list[httpx.Response] = []
    with running(tmp_path, "--db", "store.db") as server:
        subscribed = fresh.post(server.url + "/v1/accounts/alice/subscribe", json={"plan": "career"})
        assert subscribed.status_code == 200
        blocker = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock: the send waits for it
        call = threading.Thread(
            target=lambda: answers.append(
                fresh.post(server.url + "/v1/accounts/alice/send", json={"to": "carol"}, timeout=60)
            )
        )
        call.start()
        time.sleep(0.5)
        server.signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.proc.poll() is None and not answers  # the call is still waiting, and so is the server
        blocker.execute("ROLLBACK")
        blocker.close()
        call.join(timeout=60)
        assert server.proc.wait(timeout=30) in (0, -signal.SIGTERM)
    assert [a.status_code for a in answers] == [200] and answers[0].json()["outcome"] == "sent"
    from engine import Engine

    with Engine.open(db=tmp_path / "store.db", create=False) as eng:
        assert [c.method for c in eng.log()] == ["subscribe", "send"]
