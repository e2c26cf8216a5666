"""The SQL store under stress: a replay killed with SIGKILL, and eight processes racing for five credits."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from engine import Engine, InvalidCall

from .store_worker import BATCH, race_sends, workload

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("store_worker.py")
KILL_AFTER = 250


def apply(eng: Engine, calls: list, keys: set[str] | None = None) -> None:
    for method, args, kwargs in calls:
        try:
            getattr(eng, method)(*args, **kwargs)
        except InvalidCall:
            continue
        if keys is not None:
            keys.add(kwargs["key"])


def kill_mid_way(mode: str, db: Path) -> list[str]:
    """Run the worker in ``mode`` on ``db``, SIGKILL it once it reports call KILL_AFTER; its last line."""
    Engine.open(db=str(db)).close()  # the schema exists before the worker starts
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), mode, str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    last = ["-1"]
    for line in proc.stdout:
        last = line.split()
        if int(last[0]) >= KILL_AFTER:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert int(last[0]) >= KILL_AFTER and proc.returncode == -signal.SIGKILL
    return last


def intact_keys(db: Path) -> set[str]:
    """The idempotency keys of the calls the database holds, after checking the file is whole."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {row[0] for row in con.execute("SELECT key FROM idempotency")}
    finally:
        con.close()


def test_killed_replay_has_no_half_applied_event_and_resumes_to_the_same_ledger(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    kill_mid_way("replay", db)
    keys = intact_keys(db)
    calls = workload()
    committed = max(int(k[1:]) for k in keys) + 1
    assert KILL_AFTER < committed < len(calls), "the kill should land mid-way"

    with Engine.open() as ref, Engine.open(db=str(db)) as sql:
        # exactly the calls before the kill are there, each one whole: its key, its entries, its messages
        expected_keys: set[str] = set()
        apply(ref, calls[:committed], expected_keys)
        assert keys == expected_keys
        assert sql.accounts() == ref.accounts()
        for name in ref.accounts():
            assert sql.history(name) == ref.history(name)
            assert sql.balance(name) == ref.balance(name)
        # resuming from the start with the same keys ends where an uninterrupted run ends
        apply(sql, calls)
        apply(ref, calls[committed:])
        for name in ref.accounts():
            assert sql.history(name) == ref.history(name)
        assert sql.reminded() == ref.reminded()


def test_a_batch_killed_mid_way_keeps_exactly_its_committed_calls(tmp_path: Path) -> None:
    db = tmp_path / "batch-crash.db"
    reported = int(kill_mid_way("batch", db)[1])  # the worker's b.committed when it was killed
    keys = intact_keys(db)
    # whole batches only: the calls committed are a multiple of the batch, and at least what was reported
    assert len(keys) % BATCH == 0 and len(keys) >= reported > 0
    calls = workload()
    committed = max(int(k[1:]) for k in keys) + 1
    with Engine.open() as ref, Engine.open(db=str(db)) as sql:
        expected_keys: set[str] = set()
        apply(ref, calls[:committed], expected_keys)
        assert keys == expected_keys  # a prefix of the calls, each one whole
        for name in ref.accounts():
            assert sql.history(name) == ref.history(name)
        with sql.batch(every=BATCH):  # the job goes on from its last commit to the same end
            apply(sql, calls)
        apply(ref, calls[committed:])
        for name in ref.accounts():
            assert sql.history(name) == ref.history(name)


def test_eight_processes_race_for_five_credits(tmp_path: Path) -> None:
    db = tmp_path / "race.db"
    barrier = tmp_path / "go"
    with Engine.open(db=str(db)) as eng:
        assert eng.subscribe("alice", "career", at="2026-01-01").balance == 5
    results = race_sends(str(db), barrier)
    outcomes = sorted((r["outcome"], r["reason"]) for r in results)
    assert outcomes == [("denied", "no_credits")] * 3 + [("sent", None)] * 5
    assert sorted(r["balance"] for r in results if r["outcome"] == "sent") == [0, 1, 2, 3, 4]
    with Engine.open(db=str(db)) as eng:
        assert eng.balance("alice").credits == 0
        assert sum(1 for e in eng.history("alice") if e.kind == "consume") == 5


def test_the_wal_is_copied_into_the_file_once_it_holds_wal_checkpoint_pages(tmp_path: Path) -> None:
    """Checkpoints run every ``WAL_CHECKPOINT_PAGES`` pages (SQLite's default is 1,000): the WAL grows
    to that many pages, is copied into the database file by the commit that reaches it, and is then
    written again from its start, so its file never holds more than that and one transaction."""
    from engine.store._sql_dialect import WAL_CHECKPOINT_PAGES

    db = tmp_path / "wal.db"
    wal = Path(f"{db}-wal")
    frame = 24 + 4096  # a WAL frame: its header and one page
    largest = 0
    with Engine.open(db=str(db)) as eng:
        for i in range(2000):
            eng.subscribe(f"member-{i}", "career", at="2026-01-01")
            largest = max(largest, (wal.stat().st_size - 32) // frame)  # 32: the WAL's own header
            if largest >= WAL_CHECKPOINT_PAGES:
                break
        before, made = largest, i + 1
        for j in range(made, made + 400):
            eng.subscribe(f"member-{j}", "career", at="2026-01-01")
        after = (wal.stat().st_size - 32) // frame
    assert WAL_CHECKPOINT_PAGES <= before < WAL_CHECKPOINT_PAGES + 50
    assert after == before  # written again from its start, not grown
