"""Partition files: a store's log written once as Parquet files by partition, then played by workers.

What the files hold is the log (every record in exactly one file, none split from the accounts it
ties); the impact report made from them is the one made from the store, in one process and on a
real LocalCluster; and every way of getting them wrong is refused with a code, writing nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import compare_policies
from engine.cli import main
from engine.errors import EngineError
from engine.impact import files as partition_files
from engine.impact.calls import as_call
from engine.impact.files import MANIFEST, read_manifest, read_partition, write_partitions
from engine.impact.partition import Owners
from engine.store.base import open_store

from .test_impact import POLICY, edited
from .test_stored import history_with_checkpoints


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("files") / "history.db")
    history_with_checkpoints(db)
    return db


@pytest.mark.parametrize("parts", [1, 3, 5])
def test_every_logged_call_is_in_exactly_one_file_with_the_accounts_it_ties(
    history: str, tmp_path: Path, parts: int
) -> None:
    manifest = write_partitions(history, parts, tmp_path / "parts")
    store = open_store(history, create=False)
    log = store.calls()
    store.close()
    held = [list(read_partition(manifest, i)) for i in range(parts)]
    assert sorted((c for part in held for c in part), key=lambda c: c.seq) == log
    assert manifest.calls == len(log) and list(manifest.rows) == [len(p) for p in held]
    assert all([c.seq for c in part] == sorted(c.seq for c in part) for part in held)
    where = {c.seq: i for i, part in enumerate(held) for c in part}
    owners = Owners()
    for c in log:  # no call ties accounts in two files; an advance goes with the account it moved
        if c.method == "advance":
            continue
        tied = owners.accounts(as_call(c))
        homes = {where[d.seq] for d in log if d.method != "advance" and d.account in tied}
        assert homes == {where[c.seq]}, c
    assert read_manifest(tmp_path / "parts") == manifest
    if parts > 1:
        assert sum(1 for n in manifest.rows if n) > 1  # the rings and the loners do not all share a file


def test_the_report_from_the_files_is_the_report_from_the_store(history: str, tmp_path: Path) -> None:
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 3        # R10")
    folder = tmp_path / "parts"
    write_partitions(history, 3, folder)
    from_store = compare_policies(base_policy=POLICY, new_policy=new, db=history)
    one = compare_policies(base_policy=POLICY, new_policy=new, log_dir=folder)
    local = compare_policies(base_policy=POLICY, new_policy=new, log_dir=folder, cluster="local:2")
    assert from_store.changed > 0
    expected = json.dumps(from_store.to_dict())
    assert json.dumps(one.to_dict()) == expected and json.dumps(local.to_dict()) == expected


def test_the_cli_writes_the_files_and_impact_reads_them(history: str, tmp_path: Path) -> None:
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 3        # R10")
    folder = tmp_path / "parts"
    runner = CliRunner()
    wrote = runner.invoke(
        main, ["log", "--db", history, "--format", "parquet", "--partitions", "2", "--out", str(folder)]
    )
    assert wrote.exit_code == 0, wrote.output
    assert "logged calls into 2 partition files" in wrote.output
    assert sorted(p.name for p in folder.iterdir()) == ["part-00000.parquet", "part-00001.parquet", MANIFEST]
    base = ["impact", "--base", str(POLICY), "--policy", str(new), "--format", "json"]
    from_store = runner.invoke(main, [*base, "--db", history])
    from_files = runner.invoke(main, [*base, "--log-dir", str(folder), "--jobs", "2"])
    assert from_store.exit_code == 0 and from_files.exit_code == 0, from_files.output
    assert from_files.stdout == from_store.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--format", "parquet", "--out", "X"], "needs --partitions P and --out DIR"),
        (["--format", "parquet", "--partitions", "2"], "needs --partitions P and --out DIR"),
        (["--format", "parquet", "--partitions", "2", "--out", "X", "--account", "m1"], "whole log"),
        (["--format", "jsonl", "--partitions", "2"], "go with --format parquet"),
        (["--format", "parquet", "--partitions", "0", "--out", "X"], "0 is not in the range"),
        (["--format", "parquet", "--partitions", "1025", "--out", "X"], "1025 is not in the range"),
    ],
)
def test_the_cli_refuses_what_is_not_a_partition_export(
    history: str, tmp_path: Path, args: list[str], said: str
) -> None:
    args = [str(tmp_path / "X") if a == "X" else a for a in args]
    done = CliRunner().invoke(main, ["log", "--db", history, *args])
    assert done.exit_code == 2 and said in done.output, done.output
    assert not (tmp_path / "X").exists()


def test_files_are_only_made_new_and_a_store_that_is_not_there_makes_no_folder(
    history: str, tmp_path: Path
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(EngineError) as err:
        write_partitions(history, 2, taken)
    assert err.value.code == "unwritable_output" and "already exists" in err.value.message
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
    with pytest.raises(EngineError) as err:
        write_partitions(str(tmp_path / "nothing.db"), 2, tmp_path / "out")
    assert err.value.code == "store_not_found" and not (tmp_path / "out").exists()
    assert not (tmp_path / "nothing.db").exists()


def test_a_write_that_fails_midway_leaves_nothing(
    history: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, calls = partition_files._table, []

    def fails_on_the_second(*args: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(partition_files, "_table", fails_on_the_second)
    with pytest.raises(OSError, match="No space"):
        write_partitions(history, 3, tmp_path / "parts")
    assert not (tmp_path / "parts").exists()


def test_a_folder_that_is_not_a_whole_set_of_files_is_refused(history: str, tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    write_partitions(history, 3, folder)

    def refused(log_dir: Path, jobs: int = 1, cluster: str | None = None) -> EngineError:
        with pytest.raises(EngineError) as err:
            compare_policies(
                base_policy=POLICY, new_policy=POLICY, log_dir=log_dir, jobs=jobs, cluster=cluster
            )
        return err.value

    wrong = refused(folder, jobs=2, cluster="local:2")  # said before a cluster starts
    assert wrong.code == "invalid_argument" and "hold 3 partitions, not 2" in wrong.message
    assert refused(tmp_path).code == "file_not_found"  # no manifest: not a set (or a writer that stopped)
    (folder / "part-00001.parquet").unlink()
    lacking = refused(folder)
    assert lacking.code == "invalid_argument" and "part-00001.parquet" in lacking.message
    for text in ("{", '{"format": "something/9"}', '{"format": "inmail-log-partitions/1"}', "[]"):
        (folder / MANIFEST).write_text(text)
        bad = refused(folder)
        assert bad.code == "invalid_argument" and "is not a partition manifest" in bad.message, text


def test_without_pyarrow_the_files_are_a_missing_dependency(
    history: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what `import pyarrow` meets when it is not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(EngineError) as err:
        write_partitions(history, 2, tmp_path / "parts")
    assert err.value.code == "missing_dependency" and "pip install" in err.value.message
    assert not (tmp_path / "parts").exists()
