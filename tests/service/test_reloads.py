"""One accepted revision per reload, applied by every worker: real servers with two workers.

A reload reads and checks the files once and publishes what it checked; the
workers swap in exactly that, never the files as they are by their next call
(broken since, or edited and never reloaded). Every request here goes over a
new connection, so both workers answer.
"""

from __future__ import annotations

import json
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.policy import load_policy
from engine.rules.book import RuleBook
from engine.service.revisions import Accepted, Revisions

from .server import Server, fresh, running

ROOT = Path(__file__).resolve().parents[2]
JSON = {"content-type": "application/json"}
TRIES = 40


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "policies.yaml", tmp_path / "policies.yaml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "policies.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _wait_for(server: Server, words: str, count: int = 1) -> None:
    deadline = time.monotonic() + 20
    while server.log().count(words) < count:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)


def _answers(server: Server) -> set[tuple[str, str]]:
    """(route, revision) of TRIES fresh-connection requests to each read that names the revision."""
    seen = set()
    for _ in range(TRIES):
        for path in ("/v1/plans", "/readyz", "/v1/policy"):
            r = fresh.get(server.url + path, timeout=10)
            assert r.status_code == 200, r.text
            seen.add((path, r.json()["revision"]))
    return seen


def _career_allotment(server: Server) -> set[int]:
    rows = (fresh.get(server.url + "/v1/plans", timeout=10).json()["plans"] for _ in range(10))
    return {p["monthly_allotment"] for plans in rows for p in plans if p["plan"] == "career"}


def _revision_everywhere(server: Server, revision: str) -> Callable[[], bool]:
    def check() -> bool:
        return _answers(server) == {(p, revision) for p in ("/v1/plans", "/readyz", "/v1/policy")}

    return check


def test_sighup_accepted_then_a_broken_file_every_worker_answers_the_accepted_one(folder: Path) -> None:
    with running(folder, "--db", "store.db", workers=2) as server:
        before = fresh.get(server.url + "/readyz").json()["revision"]
        _edit(folder, "monthly_allotment: 5", "monthly_allotment: 6")
        server.signal(signal.SIGHUP)
        _wait_for(server, "reload announced")
        accepted = server.log().split("reload announced to the workers, revision ")[-1].split()[0]
        assert accepted != before
        # no request between: no worker has swapped yet when the file breaks
        _edit(folder, "monthly_allotment: 6", "monthly_alot: 6")
        server.signal(signal.SIGHUP)
        _wait_for(server, "reload refused")
        assert _revision_everywhere(server, accepted)()
        assert _career_allotment(server) == {6}

        _edit(folder, "monthly_alot: 6", "monthly_allotment: 7")  # valid, and never reloaded
        assert _revision_everywhere(server, accepted)()
        assert _career_allotment(server) == {6}
        assert len(server.workers()) == 2 and "Traceback" not in server.log()


def test_a_reload_one_worker_accepted_is_what_the_others_answer(folder: Path) -> None:
    with running(folder, "--db", "store.db", workers=2) as server:
        before = fresh.get(server.url + "/readyz").json()["revision"]
        _edit(folder, "monthly_allotment: 5", "monthly_allotment: 6")
        r = fresh.post(server.url + "/v1/policy/reload", headers=JSON, content=b"{}")
        assert r.status_code == 200 and r.json()["previous"] == before, r.text
        accepted = r.json()["revision"]
        _edit(folder, "monthly_allotment: 6", "monthly_alot: 6")  # broken before the other worker's call
        assert _revision_everywhere(server, accepted)()
        policy = fresh.get(server.url + "/v1/policy").json()
        assert policy["source"] == str((folder / "policies.yaml").resolve())  # the real file, not a snapshot
        for n in range(TRIES // 4):  # decisions carry the revision that decided them
            d = fresh.post(f"{server.url}/v1/accounts/a{n}/subscribe", json={"plan": "career"})
            assert (d.status_code, d.json()["revision"], d.json()["balance"]) == (200, accepted, 6), d.text

        refused = fresh.post(server.url + "/v1/policy/reload", headers=JSON, content=b"{}")
        assert refused.status_code == 422 and refused.json()["code"] == "unknown_key"
        assert refused.json()["diagnostics"][0]["file"] == str((folder / "policies.yaml").resolve())
        assert _revision_everywhere(server, accepted)()


def test_a_worker_started_later_starts_on_the_accepted_revision(folder: Path) -> None:
    with running(folder, "--db", "store.db", workers=2) as server:
        _edit(folder, "monthly_allotment: 5", "monthly_allotment: 6")
        reloaded = fresh.post(server.url + "/v1/policy/reload", headers=JSON, content=b"{}")
        accepted = reloaded.json()["revision"]
        _edit(folder, "monthly_allotment: 6", "monthly_alot: 6")
        victim = server.workers()[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        deadline = time.monotonic() + 30  # uvicorn's supervisor starts a new worker
        while len([w for w in server.workers() if w.pid != victim.pid and w.is_running()]) < 2:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.2)
        server.wait_ready()
        time.sleep(1)
        pids = {w.pid for w in server.workers()}
        assert _revision_everywhere(server, accepted)()
        assert _career_allotment(server) == {6}
        assert {w.pid for w in server.workers() if w.is_running()} == pids and len(pids) == 2
        assert "Traceback" not in server.log()  # the new worker did not read the broken file


def test_sighup_with_one_worker_reloads_it_with_what_was_checked(folder: Path) -> None:
    with running(folder, "--db", "store.db") as server:
        _edit(folder, "monthly_allotment: 5", "monthly_allotment: 6")
        server.signal(signal.SIGHUP)
        _wait_for(server, "reloaded, revision")
        accepted = server.log().split("reloaded, revision ")[-1].split()[0]
        _edit(folder, "monthly_allotment: 6", "monthly_alot: 6")
        server.signal(signal.SIGHUP)
        _wait_for(server, "reload refused")
        assert _revision_everywhere(server, accepted)()
        assert _career_allotment(server) == {6}


def test_workbench_clicks_on_an_unchanged_draft_take_no_new_handle(folder: Path) -> None:
    from fastapi.testclient import TestClient

    from engine.rules._durable import handle_count
    from engine.service.app import create_app
    from engine.service.state import Service, ServiceConfig

    shutil.copytree(ROOT / "examples" / "scenarios", folder / "examples" / "scenarios")
    config = ServiceConfig(db="memory", policy=str(folder / "policies.yaml"), rules=str(folder / "rules"))
    with TestClient(create_app(service=Service(config), workbench=folder), base_url="http://127.0.0.1") as c:
        scenario = c.get("/wb/api/scenarios").json()["scenarios"][0]
        send = (folder / "rules" / "send.yaml").read_text()
        changed = {"rules/send.yaml": send.replace("{below: 1}", "{below: 2}")}
        clicks = [
            ("decide", {"event": "send"}),
            ("run", {"scenario": scenario["text"], "name": scenario["name"]}),
            ("impact", {"scenarios": [scenario["name"]]}),
        ]
        for files, first in (({}, 0), (changed, 1)):  # the changed draft compiles its send rules once
            for n in range(3):
                before = handle_count()
                for what, body in clicks:
                    r = c.post(f"/wb/api/{what}", json={"files": files, **body}, headers=JSON)
                    assert r.status_code == 200, r.text
                assert handle_count().created - before.created == (first if n == 0 else 0)


def test_a_snapshot_gives_the_revision_of_the_files_it_was_read_from(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Texts make the revision, not paths: loaded from a snapshot, under the real files' names."""
    policy = load_policy(folder / "policies.yaml")
    with RuleBook.load(folder / "rules", policy) as book:
        accepted = Accepted.of(book)
    revisions = Revisions(tmp_path_factory.mktemp("private"))
    assert revisions.stamp() is None and revisions.latest() is None
    first = revisions.publish(accepted)
    stamp = revisions.stamp()
    _edit(folder, "monthly_allotment: 5", "monthly_alot: 5")  # the files no longer matter
    pointer, again = revisions.latest() or (None, None)
    assert pointer == first and again == accepted
    pol, loaded = again.load(folder / "policies.yaml", folder / "rules")
    with loaded:
        assert loaded.revision == accepted.revision and pol.source == str(folder / "policies.yaml")
        assert loaded.rule_file("send").path == str(folder / "rules" / "send.yaml")
    second = revisions.publish(accepted)
    assert revisions.stamp() != stamp and second.snapshot != first.snapshot
    assert sorted(p.name for p in revisions.folder.glob("rev-*")) == [second.snapshot]  # the old one went

    tampered = json.loads((revisions.folder / second.snapshot).read_text())
    tampered["policy"] = tampered["policy"].replace("monthly_allotment: 5", "monthly_allotment: 9", 1)
    with pytest.raises(Exception, match="give"):
        Accepted.from_json(json.dumps(tampered)).load(folder / "policies.yaml", folder / "rules")


def test_concurrent_publishers_never_leave_a_reader_without_its_snapshot(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import threading

    policy = load_policy(folder / "policies.yaml")
    with RuleBook.load(folder / "rules", policy) as book:
        accepted = Accepted.of(book)
    revisions = Revisions(tmp_path_factory.mktemp("private"))
    revisions.publish(accepted)
    failures: list[BaseException] = []
    stop = threading.Event()

    def publisher() -> None:
        try:
            for _ in range(25):
                revisions.publish(accepted)
        except BaseException as exc:  # reported below
            failures.append(exc)

    def reader() -> None:
        seen = revisions.stamp()
        while not stop.is_set():
            try:
                found = revisions.latest()
                assert found is not None and found[1] == accepted
                stamp = revisions.stamp()
                assert stamp is not None and seen is not None and stamp[1] >= seen[1]  # only forward
                seen = stamp
            except BaseException as exc:  # reported below
                failures.append(exc)
                return

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=publisher) for _ in range(4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert failures == []
    found = revisions.latest()
    assert found is not None and [p.name for p in revisions.folder.glob("rev-*")] == [found[0].snapshot]
