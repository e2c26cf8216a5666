"""Impact on Dask: a real LocalCluster through the CLI, and a real scheduler with two workers on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from engine import EngineError, compare_policies
from engine.cli import main
from engine.impact.files import write_partitions

from .test_impact import POLICY, REPO, edited
from .test_stored import history_with_checkpoints

pytest.importorskip("distributed")


def test_the_cli_on_a_local_cluster_gives_the_report_of_one_process(tmp_path: Path) -> None:
    """2,000 accounts (about 200,000 decisions a side), in 8 partitions on 2 worker processes."""
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    args = ["impact", "--base", str(POLICY), "--policy", str(new), "--synthetic", "2000", "--format", "json"]
    one = CliRunner().invoke(main, args)
    two = CliRunner().invoke(main, [*args, "--cluster", "local:2"])
    assert one.exit_code == two.exit_code == 0, two.output
    assert one.stdout == two.stdout and json.loads(one.stdout)["changed"] > 0  # byte for byte


@pytest.mark.parametrize("spec", ["local:0", "local:99", "yarn", "tcp://", "http://127.0.0.1:8786"])
def test_a_cluster_that_is_not_one_is_refused_before_anything_runs(spec: str) -> None:
    with pytest.raises(EngineError) as err:
        compare_policies(base_policy=POLICY, new_policy=POLICY, synthetic=5, cluster=spec)
    assert err.value.code == "invalid_argument"


def test_a_scheduler_that_is_not_there_is_a_worker_failure() -> None:
    with pytest.raises(EngineError) as err:
        compare_policies(base_policy=POLICY, new_policy=POLICY, synthetic=5, cluster="tcp://127.0.0.1:9")
    assert err.value.code == "worker_failed" and "127.0.0.1:9" in err.value.message


def test_a_real_scheduler_and_two_workers_give_the_report_of_one_process(tmp_path: Path) -> None:
    """`dask scheduler` and two `dask worker` processes on loopback, started here, as an operator would."""
    dask = str(Path(sys.executable).with_name("dask"))
    loopback = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]  # nothing on other interfaces
    scheduler = [dask, "scheduler", "--port", "0", "--no-dashboard", *loopback]
    worker_args = ["--nworkers", "1", "--nthreads", "1", "--no-dashboard", *loopback]
    address_file = tmp_path / "scheduler.json"
    logs = (tmp_path / "dask.log").open("w")
    procs = [
        subprocess.Popen(
            [*scheduler, "--scheduler-file", str(address_file)],
            stdout=logs,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    ]
    # the workers start with the scheduler and find it through its file, as a batch system starts them
    for _ in range(2):  # in another folder than the driver's: the tasks name files by absolute path
        procs.append(
            subprocess.Popen(
                [dask, "worker", "--scheduler-file", str(address_file), *worker_args],
                stdout=logs,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
        )
    try:
        deadline = time.monotonic() + 60
        while "}" not in (address_file.read_text() if address_file.exists() else ""):
            assert time.monotonic() < deadline, (tmp_path / "dask.log").read_text()
            time.sleep(0.05)
        address = json.loads(address_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
        # 200 accounts in 3 partitions: a size at which partitions that numbered their own calls
        # 1..k gave another report (test_synthetic_partitions.py)
        one = compare_policies(base_policy=POLICY, new_policy=new, synthetic=200, base_rules=REPO / "rules")
        three = compare_policies(
            base_policy=POLICY,
            new_policy=new,
            synthetic=200,
            base_rules=REPO / "rules",
            cluster=address,
            jobs=3,
        )
        assert one.changed > 0 and json.dumps(one.to_dict()) == json.dumps(three.to_dict())
        # more partitions than a machine's worker processes (64): only a scheduler takes them
        many = compare_policies(
            base_policy=POLICY,
            new_policy=new,
            synthetic=200,
            base_rules=REPO / "rules",
            cluster=address,
            jobs=80,
        )
        assert json.dumps(many.to_dict()) == json.dumps(one.to_dict())
        # a history as partition files in a folder every worker reads, each worker its own file
        db = str(tmp_path / "history.db")
        history_with_checkpoints(db)
        write_partitions(db, 5, tmp_path / "parts")
        stored = compare_policies(base_policy=POLICY, new_policy=new, db=db)
        files = compare_policies(
            base_policy=POLICY, new_policy=new, log_dir=tmp_path / "parts", cluster=address
        )
        assert stored.changed > 0 and json.dumps(files.to_dict()) == json.dumps(stored.to_dict())
    finally:
        for p in reversed(procs):
            p.kill()  # nothing of theirs outlives the run: no need to wait for a graceful close
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        logs.close()


def test_replay_on_a_local_cluster_agrees_and_finds_the_same_first_difference(tmp_path: Path) -> None:
    """`inmail replay --cluster` on two workers says what the single run says: all the same on a good
    store; on a tampered one, the same first difference, a decision before a ledger entry."""
    import logging
    import sqlite3

    from distributed import LocalCluster

    from .test_partition import interacting_store

    db = str(tmp_path / "history.db")
    interacting_store(db)
    run = CliRunner()
    # one cluster for the three runs, reached by its address as a real one would be
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )

    try:

        def both() -> tuple[str, str]:
            one = run.invoke(main, ["replay", "--db", db])
            two = run.invoke(
                main, ["replay", "--db", db, "--cluster", cluster.scheduler_address, "--jobs", "3"]
            )
            assert one.exit_code == two.exit_code, (one.output, two.output)
            return one.output, two.output

        one, two = both()
        assert one == two and "all the same as stored" in one, (one, two)
        listening = [  # the scheduler, the workers and every HTTP endpoint of theirs: loopback only
            c.laddr
            for p in [psutil.Process(), *psutil.Process().children(recursive=True)]
            for c in p.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        ]
        assert len(listening) >= 3 and all(a.ip == "127.0.0.1" for a in listening), listening
        con = sqlite3.connect(db)
        con.execute("UPDATE entries SET amount = amount - 1 WHERE kind = 'consume' AND account = 'm9'")
        con.commit()
        one, two = both()
        assert one == two and one.startswith("difference: account m9, entry"), (one, two)
        last_send = con.execute(
            "SELECT max(seq) FROM calls WHERE method = 'send' AND account = 'm2'"
        ).fetchone()[0]
        con.execute("UPDATE calls SET outcome = 'denied', reason = 'no_credits' WHERE seq = ?", (last_send,))
        con.commit()
        con.close()
        one, two = both()
        assert one == two and one.startswith(f"difference: call {last_send} (send) decides"), (one, two)
    finally:
        cluster.close()


def test_more_partitions_than_local_workers_need_a_cluster(tmp_path: Path) -> None:
    """Up to 1,024 partitions on a cluster (more partitions than cores keeps each within a worker's
    memory); ``--jobs N`` alone is N local worker processes, at most 64, said before anything runs."""
    from click.testing import CliRunner

    from engine.cli import main
    from engine.errors import EngineError

    with pytest.raises(EngineError, match="--jobs 65 alone means 65 local worker processes") as refused:
        compare_policies(base_policy=POLICY, new_policy=POLICY, synthetic=5, jobs=65)
    assert refused.value.code == "invalid_argument"
    with pytest.raises(EngineError) as unreachable:  # accepted, then the scheduler is not there
        compare_policies(
            base_policy=POLICY, new_policy=POLICY, synthetic=5, jobs=1024, cluster="tcp://127.0.0.1:9"
        )
    assert unreachable.value.code == "worker_failed"
    with pytest.raises(EngineError, match="from 1 to 1,024"):
        compare_policies(
            base_policy=POLICY, new_policy=POLICY, synthetic=5, jobs=1025, cluster="tcp://127.0.0.1:9"
        )
    args = ["impact", "--base", str(POLICY), "--synthetic", "5", "--jobs", "100"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 2 and "--jobs 100 alone means 100 local" in done.stderr, done.output
    done = CliRunner().invoke(main, ["replay", "--db", str(tmp_path / "none.db"), "--jobs", "100"])
    assert done.exit_code == 2 and "--jobs 100 alone means 100 local" in done.stderr, done.output


def test_a_local_cluster_plays_four_partitions_per_worker_one_after_another(tmp_path: Path) -> None:
    """A worker holds one partition's accounts at a time, so more partitions than workers bound its
    memory; the report is the one process's whatever their number (the default, 4 per worker, or
    ``jobs`` partitions on the same two workers)."""
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    one = compare_policies(base_policy=POLICY, new_policy=new, synthetic=120)
    told: list[tuple[int, int]] = []
    default = compare_policies(
        base_policy=POLICY,
        new_policy=new,
        synthetic=120,
        cluster="local:2",
        partition_progress=lambda done, parts: told.append((done, parts)),
    )
    assert told[-1] == (8, 8) and {parts for _, parts in told} == {8}
    told.clear()
    more = compare_policies(
        base_policy=POLICY,
        new_policy=new,
        synthetic=120,
        cluster="local:2",
        jobs=70,  # more than a machine's 64 worker processes: partitions, not processes
        partition_progress=lambda done, parts: told.append((done, parts)),
    )
    assert told[-1] == (70, 70)
    expected = json.dumps(one.to_dict())
    assert one.changed > 0
    assert json.dumps(default.to_dict()) == expected and json.dumps(more.to_dict()) == expected
