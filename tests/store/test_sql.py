"""The SQL store: schema on first use, URLs and paths, no cached truth between engines."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine import Engine, EngineError, InvalidCall
from engine.store.sql import SCHEMA_VERSION


def test_schema_is_created_once_with_a_version_row(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    Engine.open(db=str(db)).close()
    Engine.open(db=f"sqlite:///{db}").close()
    con = sqlite3.connect(db)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    finally:
        con.close()
    assert tables >= {"meta", "accounts", "lots", "entries", "messages", "connections", "idempotency"}
    assert version == [(str(SCHEMA_VERSION),)]


def _layout(db: Path) -> dict[str, str]:
    con = sqlite3.connect(db)
    try:
        return {name: sql for name, sql in con.execute("SELECT name, sql FROM sqlite_master") if sql}
    finally:
        con.close()


def _year_start(eng: Engine) -> list[object]:
    """A few calls that write every table a call writes, and what the engine then says."""
    eng.subscribe("alice", "career", at="2026-01-01")
    sent = eng.send("alice", "carol", at="2026-01-02")
    eng.send("alice", "dave", at="2026-01-03")
    eng.respond(sent.message or "", "interested", at="2026-01-04")
    eng.advance("2026-03-01")
    return [eng.history("alice"), eng.balance("alice", at="2026-03-01"), eng.log()]


def test_a_new_store_keeps_the_rows_calls_write_in_their_key_order(tmp_path: Path) -> None:
    """Fewer pages per commit: no rowid tree beside the key's, no index entry for unreminded messages."""
    db = tmp_path / "x.db"
    Engine.open(db=str(db)).close()
    sql = _layout(db)
    assert all("WITHOUT ROWID" in sql[t] for t in ("lots", "entries", "messages"))
    assert "WHERE reminded_at IS NOT NULL" in sql["messages_reminded"]


def test_a_batch_keeps_its_savepoint_journals_in_memory(tmp_path: Path) -> None:
    """A savepoint's journal in a temporary file cost a write per page (batches on SQLite once ran
    each call in one; a batch now holds its calls in memory, and temporary files stay there too)."""
    from engine.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert store._raw_connection().execute("PRAGMA temp_store").fetchone()[0] == 2  # 2: MEMORY
    finally:
        store.close()


def test_a_store_laid_out_before_works_the_same(tmp_path: Path) -> None:
    """A store made with rowid tables and a full index (before this layout) reads and writes alike."""
    old = tmp_path / "old.db"
    Engine.open(db=str(old)).close()
    sql = _layout(old)
    con = sqlite3.connect(old)
    for table in ("lots", "entries", "messages"):
        indexes = [q for name, q in sql.items() if q.startswith("CREATE INDEX") and f" ON {table} " in q]
        con.execute(f"DROP TABLE {table}")
        con.execute(sql[table].replace("WITHOUT ROWID", ""))
        for q in indexes:
            con.execute(q.replace(" WHERE reminded_at IS NOT NULL", ""))
    con.commit()
    con.close()
    assert "WITHOUT ROWID" not in _layout(old)["entries"]
    with Engine.open(db=str(old)) as before, Engine.open(db=str(tmp_path / "new.db")) as now:
        said = _year_start(before)
        assert said == _year_start(now)
        assert len(said[0]) >= 5 and before.reminded() == now.reminded() != []  # the partial index read


def test_a_database_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    Engine.open(db=str(db)).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(EngineError) as info:
        Engine.open(db=str(db))
    assert info.value.code == "schema_version"


def test_two_engines_on_one_file_see_the_same_state(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    with Engine.open(db=db) as one, Engine.open(db=db) as two:
        one.subscribe("alice", "career", at="2026-01-01")
        assert two.balance("alice").credits == 5
        two.send("alice", "carol", at="2026-01-02", message_id="m1")
        assert one.balance("alice").credits == 4
        assert one.respond("m1", "reply", at="2026-01-03").outcome == "credited_back"
        assert two.history("alice") == one.history("alice")
        with pytest.raises(InvalidCall) as info:  # message ids are global across processes too
            two.send("alice", "dave", at="2026-01-04", message_id="m1")
        assert info.value.code == "message_exists"
    with Engine.open(db=db) as again:
        assert again.balance("alice").credits == 5
        assert again.accounts() == ["alice"]


def test_in_memory_sqlite_url(tmp_path: Path) -> None:
    with Engine.open(db="sqlite://") as eng:
        eng.subscribe("alice", "career", at="2026-01-01")
        assert eng.balance("alice", "2026-02-01").credits == 10


def test_memory_store_is_the_default() -> None:
    with Engine.open() as eng, Engine.open(db="memory") as other:
        eng.subscribe("alice", "career", at="2026-01-01")
        assert other.accounts() == []


def test_an_unusable_database_is_a_typed_error_without_secrets(tmp_path: Path) -> None:
    for db in (str(tmp_path / "no" / "such" / "dir.db"), "nosuch://x", "postgresql://u:secret@127.0.0.1:1/x"):
        with pytest.raises(EngineError) as info:
            Engine.open(db=db)
        assert info.value.code == "database_unavailable"
        assert "secret" not in str(info.value)


def test_threads_may_share_an_engine() -> None:
    import threading

    with Engine.open() as eng:
        eng.subscribe("alice", "business", at="2026-01-01")
        outcomes: list[str] = []

        def send(i: int) -> None:
            for j in range(20):
                outcomes.append(eng.send("alice", f"r{i}-{j}", at="2026-01-02").outcome)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(set(outcomes)) == ["denied", "sent"] and outcomes.count("sent") == 15
        assert eng.balance("alice").credits == 0
