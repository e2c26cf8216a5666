"""The store is the file it opened: deleted, emptied or replaced under a running engine, calls are
``store_unavailable`` until a valid store is back at the path, which is then adopted without a
reopen; and a connection that failed for want of its store is dropped, never kept poisoned."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from engine import Engine, StoreUnavailable
from engine.store._sql_exec import store_error_code
from engine.store.sql import SqlStore
from tests.pg import backend_ender, needs_pg
from tests.pg_server import private_postgres

SIDES = ("", "-wal", "-shm")


def _store(tmp_path: Path) -> tuple[Engine, Path]:
    db = tmp_path / "store.db"
    eng = Engine.open(db=str(db))
    eng.subscribe("alice", "career", at="2026-01-01", key="sub")
    eng.send("alice", "bob", at="2026-01-02", key="s1")
    return eng, db


def _backup(db: Path, to: Path) -> None:
    """A consistent copy, WAL included (SQLite's online backup)."""
    src, dst = sqlite3.connect(db), sqlite3.connect(to)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _put_back(backup: Path, db: Path) -> None:
    """How a backup is restored under a running server: copied beside, renamed into place."""
    for side in SIDES[1:]:
        Path(f"{db}{side}").unlink(missing_ok=True)
    shutil.copy(backup, f"{db}.restoring")
    os.replace(f"{db}.restoring", db)


def _unavailable(call: object) -> StoreUnavailable:
    with pytest.raises(StoreUnavailable) as info:
        call()  # type: ignore[operator]
    assert info.value.code == "store_unavailable"
    return info.value


def _all_unavailable(eng: Engine) -> None:
    """Writes, reads, the readiness probe: every door of the engine says store_unavailable."""
    _unavailable(lambda: eng.send("alice", "carol", at="2026-01-03", key="s2"))
    _unavailable(eng.check_store)
    _unavailable(eng.log)
    _unavailable(lambda: eng.history("alice"))
    _unavailable(lambda: eng.balance("alice"))


def test_a_deleted_store_is_unavailable_and_nothing_is_made_in_its_place(tmp_path: Path) -> None:
    eng, db = _store(tmp_path)
    for side in SIDES:
        Path(f"{db}{side}").unlink()
    err = _unavailable(lambda: eng.send("alice", "carol", at="2026-01-03", key="s2"))
    assert "is gone" in err.message
    _all_unavailable(eng)
    with pytest.raises(StoreUnavailable), eng.batch():
        eng.send("alice", "dave", at="2026-01-03")
    eng.close()
    assert sorted(os.listdir(tmp_path)) == []  # no empty store, no -wal, nothing


def test_an_emptied_store_is_unavailable_and_its_connections_close_without_writing(tmp_path: Path) -> None:
    """SQLite checkpoints its WAL into the file when its last connection closes: into a file
    truncated under it, that writes stray pages (a file that looks like a store and is not)."""
    eng, db = _store(tmp_path)
    os.truncate(db, 0)
    err = _unavailable(lambda: eng.send("alice", "carol", at="2026-01-03", key="s2"))
    assert "emptied" in err.message
    _all_unavailable(eng)
    eng.close()
    assert db.stat().st_size == 0
    assert Path(f"{db}-wal").exists()  # what the WAL held is left for whoever salvages it


def test_a_backup_put_back_is_adopted_without_reopening(tmp_path: Path) -> None:
    eng, db = _store(tmp_path)
    _backup(db, tmp_path / "backup.db")
    eng.send("alice", "carol", at="2026-01-03", key="after-backup")  # lost with the file
    for side in SIDES:
        Path(f"{db}{side}").unlink()
    _all_unavailable(eng)
    _put_back(tmp_path / "backup.db", db)
    eng.check_store()
    assert [c.key for c in eng.log()] == ["sub", "s1"]
    eng.send("alice", "dave", at="2026-01-04", key="s3")
    assert [c.key for c in eng.log()] == ["sub", "s1", "s3"]
    assert eng.balance("alice").credits == 3
    eng.close()
    with Engine.open(db=str(db), create=False) as again:  # written into the file at the path
        assert [c.key for c in again.log()] == ["sub", "s1", "s3"]


def test_a_store_replaced_in_one_step_is_adopted(tmp_path: Path) -> None:
    """A rename over the path, with no moment without a file: the next call is on the new one."""
    eng, db = _store(tmp_path)
    other = tmp_path / "other.db"
    with Engine.open(db=str(other)) as o:
        o.subscribe("zed", "career", at="2026-01-01", key="z")
    for side in SIDES[1:]:
        Path(f"{db}{side}").unlink(missing_ok=True)  # (they belong to the old file)
    _backup(other, tmp_path / "next.db")
    os.replace(tmp_path / "next.db", db)
    assert eng.accounts() == ["zed"]
    eng.send("zed", "amy", at="2026-01-02", key="z2")
    assert [c.key for c in eng.log()] == ["z", "z2"]
    eng.close()


@pytest.mark.parametrize("kind", ["empty file", "not sqlite", "another program's database", "half copied"])
def test_what_is_not_a_store_is_refused_and_left_untouched(tmp_path: Path, kind: str) -> None:
    eng, db = _store(tmp_path)
    _backup(db, tmp_path / "backup.db")
    for side in SIDES:
        Path(f"{db}{side}").unlink()
    if kind == "empty file":
        db.write_bytes(b"")
    elif kind == "not sqlite":
        db.write_bytes(b"hello\n" * 100)
    elif kind == "another program's database":
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE notes (x)")
        con.commit()
        con.close()
    else:
        whole = (tmp_path / "backup.db").read_bytes()
        db.write_bytes(whole[: len(whole) // 2])
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for _ in range(2):  # the second time from what the first found out
        _all_unavailable(eng)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(os.listdir(tmp_path)) == ["backup.db", "store.db"]  # no WAL made beside it either
    _put_back(tmp_path / "backup.db", db)
    eng.send("alice", "carol", at="2026-01-03", key="s2")
    assert [c.key for c in eng.log()] == ["sub", "s1", "s2"]
    eng.close()


def test_a_call_written_as_the_file_went_away_is_not_answered(tmp_path: Path) -> None:
    """The commit went into the file the connection had open; the path no longer holds it, so the
    call may not be in the store: no answer. Tried again under its key once the file is back, it
    is found there (a replay), and the log has it once."""
    eng, db = _store(tmp_path)
    away = tmp_path / "away"
    away.mkdir()

    def move_away(_decision: object, _facts: object) -> None:  # inside the call's transaction
        if not (away / "store.db").exists():
            for side in SIDES:
                os.replace(f"{db}{side}", away / f"store.db{side}")

    eng.observe(move_away)
    _unavailable(lambda: eng.send("alice", "carol", at="2026-01-03", key="s2"))
    eng.observe(None)
    _unavailable(eng.check_store)
    for side in SIDES:
        os.replace(away / f"store.db{side}", f"{db}{side}")
    again = eng.send("alice", "carol", at="2026-01-03", key="s2")
    assert again.outcome == "sent"
    assert [c.key for c in eng.log()] == ["sub", "s1", "s2"]
    eng.close()


def test_a_write_that_failed_drops_its_connection(tmp_path: Path) -> None:
    """A read-only episode (files or folder made read-only, then restored) leaves a connection that
    SQLite opened read-only: reused, it failed every later call. Root ignores file modes, so the
    connection is made read-only here with ``query_only``."""
    eng, _db = _store(tmp_path)
    store = eng._store
    assert isinstance(store, SqlStore)
    store._raw_connection().execute("PRAGMA query_only = ON")
    err = _unavailable(lambda: eng.send("alice", "carol", at="2026-01-03", key="s2"))
    assert "readonly" in err.message
    assert eng.send("alice", "carol", at="2026-01-03", key="s2").outcome == "sent"
    assert [c.key for c in eng.log()] == ["sub", "s1", "s2"]
    eng.close()


def test_a_clash_keeps_the_connection_and_any_other_failure_drops_it(tmp_path: Path) -> None:
    eng, _db = _store(tmp_path)
    store = eng._store
    assert isinstance(store, SqlStore)
    first = store._thread_connection()
    for fault in (
        sqlite3.IntegrityError("UNIQUE constraint failed"),
        sqlite3.OperationalError("database is locked"),
    ):
        assert store_error_code(fault) == "store_conflict"
        with pytest.raises(StoreUnavailable, match="try again"), store.unit():
            raise fault
        assert store._thread_connection() is first
    with pytest.raises(StoreUnavailable), store.unit():
        raise sqlite3.OperationalError("disk I/O error")
    assert store._thread_connection() is not first
    eng.send("alice", "carol", at="2026-01-03", key="s2")
    eng.close()


def test_the_identity_check_costs_one_stat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per transaction the store stats its path once (twice for a write: after the commit too)."""
    eng, db = _store(tmp_path)
    calls: list[str] = []
    real = os.stat

    def counting(path: str, *args: object, **kwargs: object) -> os.stat_result:
        if str(path) == str(db):
            calls.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", counting)
    eng.balance("alice")
    reads = len(calls)
    eng.send("alice", "carol", at="2026-01-03")
    writes = len(calls) - reads
    monkeypatch.undo()
    assert (reads, writes) == (1, 2)
    eng.close()


@needs_pg
def test_postgres_backends_ended_under_an_engine_recover_without_reopening(pg_url: str) -> None:
    """``pg_terminate_backend`` on every connection of the engine between calls: the next call, on
    either path (the driver's for calls, Core's for reads), finds its connection ended before using
    it and takes a new one, so not even one call fails; all on the same Engine."""
    pytest.importorskip("psycopg")
    eng = Engine.open(db=pg_url)
    end_backends = backend_ender(pg_url)

    try:
        eng.subscribe("alice", "career", at="2026-01-01", key="sub")
        eng.log()
        for n, first in enumerate(["send", "log", "check"]):
            assert end_backends() >= 1
            if first == "send":
                eng.send("alice", f"r{n}", at="2026-01-02", key=f"s{n}")
            elif first == "log":
                eng.log()
            else:
                eng.check_store()
            eng.check_store()
            eng.send("alice", f"x{n}", at="2026-01-03", key=f"x{n}")
            assert eng.history("alice")
        keys = [c.key for c in eng.log()]
        assert keys == ["sub", "s0", "x0", "x1", "x2"]
    finally:
        eng.close()


@needs_pg
def test_postgres_restarted_or_stopped_under_an_engine_recovers_without_reopening() -> None:
    """A server restarted: at most one call fails. A server stopped: every call and the probe are
    ``store_unavailable`` until it is back; then the same Engine goes on."""
    with private_postgres() as server:
        eng = Engine.open(db=server.url)
        try:
            eng.subscribe("alice", "career", at="2026-01-01", key="sub")
            server.restart()
            try:
                eng.send("alice", "bob", at="2026-01-02", key="s1")
            except StoreUnavailable as exc:
                assert exc.code == "store_unavailable"
                eng.send("alice", "bob", at="2026-01-02", key="s1")
            assert [c.key for c in eng.log()] == ["sub", "s1"]
            server.stop()
            for _ in range(2):
                _unavailable(lambda: eng.send("alice", "carol", at="2026-01-03", key="s2"))
                _unavailable(eng.check_store)
                _unavailable(eng.log)
            server.start()
            eng.check_store()
            eng.send("alice", "carol", at="2026-01-03", key="s2")
            assert [c.key for c in eng.log()] == ["sub", "s1", "s2"]
        finally:
            eng.close()
