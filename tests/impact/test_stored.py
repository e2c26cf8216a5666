"""A store's history split by account, each partition's calls read by its worker from the store.

What a worker reads (its accounts' calls by account, and every checkpoint the driver hands it) is
what the partition played when it walked the whole log, call for call; a log whose ``account``
column is not the account the partitioner reads is split as before, with the same report.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, compare_policies
from engine.impact.calls import logged_calls
from engine.impact.partition import of_partition
from engine.impact.stored import partition_calls, split_log
from engine.model import LoggedCall
from engine.store.base import open_store

from .test_impact import POLICY, edited
from .test_partition import T0, interacting_store


def history_with_checkpoints(db: str) -> None:
    """The interacting members, then checkpoints that renew and expire their credits."""
    interacting_store(db)
    with Engine.open(db=db) as eng:
        for month in range(2, 8):
            eng.advance(T0 + dt.timedelta(days=30 * month))


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_a_worker_reads_exactly_the_calls_its_partition_played_from_the_whole_log(
    tmp_path: Path, parts: int
) -> None:
    db = str(tmp_path / "history.db")
    history_with_checkpoints(db)
    store = open_store(db, create=False)
    log = store.calls()
    store.close()
    split = split_log(log, parts)
    assert split.by_account and split.advances and split.end == max(c.at for c in logged_calls(log))
    assert split.calls == len(log) and split.revisions == 1
    for index in range(parts):
        walked = [c for _, c, mine in of_partition(logged_calls(log), split.partitioning, index) if mine]
        read = [c for _, c, _ in partition_calls(db, split.accounts[index], split.advances)]
        assert [(c.event, c.args, c.at, c.key, c.where) for c in read] == [
            (c.event, c.args, c.at, c.key, c.where) for c in walked
        ]


def test_the_report_of_workers_reading_the_store_is_the_one_process_report(tmp_path: Path) -> None:
    db = str(tmp_path / "history.db")
    history_with_checkpoints(db)
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 3        # R10")
    one = compare_policies(base_policy=POLICY, new_policy=new, db=db)
    two = compare_policies(base_policy=POLICY, new_policy=new, db=db, jobs=2)
    assert one.changed > 0 and one.to_dict() == two.to_dict()
    assert one.base.daily() == two.base.daily() and one.new.daily() == two.new.daily()


def test_a_log_whose_account_is_not_the_acting_one_is_split_as_before(tmp_path: Path) -> None:
    """A response logged under its recipient's name (a store written by hand): the split says it
    cannot name each partition's calls by account, and the run hands the calls out instead."""
    db = str(tmp_path / "history.db")
    interacting_store(db)
    con = sqlite3.connect(db)
    con.execute(
        "UPDATE calls SET account = 'm5' WHERE seq = (SELECT min(seq) FROM calls WHERE method = 'respond')"
    )
    con.commit()
    con.close()
    store = open_store(db, create=False)
    assert not split_log(store.calls(), 2).by_account
    store.close()
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 3        # R10")
    one = compare_policies(base_policy=POLICY, new_policy=new, db=db)
    two = compare_policies(base_policy=POLICY, new_policy=new, db=db, jobs=2)
    assert one.to_dict() == two.to_dict()


def test_the_driver_reads_the_log_a_page_at_a_time_and_never_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a cluster, the driver splits the log from the store's pages and hands out account names:
    a whole-log read there (``calls()`` with no account) fails this test; the workers, in their own
    processes, read their accounts' calls."""
    from engine.store.sql import SqlStore

    db = str(tmp_path / "history.db")
    history_with_checkpoints(db)
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 3        # R10")
    one = compare_policies(base_policy=POLICY, new_policy=new, db=db)
    whole = SqlStore.calls

    def by_account_only(self: SqlStore, account: str | None = None, since: dt.datetime | None = None) -> list:
        assert account is not None, "the driver read the whole log"
        return whole(self, account, since)

    pages: list[int] = []
    paged = SqlStore.calls_paged

    def counted(self: SqlStore, page: int = 10_000) -> Iterator[LoggedCall]:
        for c in paged(self, 7):  # small pages: the split must not depend on reading it in one
            pages.append(c.seq)
            yield c

    monkeypatch.setattr(SqlStore, "calls", by_account_only)
    monkeypatch.setattr(SqlStore, "calls_paged", counted)
    two = compare_policies(base_policy=POLICY, new_policy=new, db=db, jobs=2)
    assert one.to_dict() == two.to_dict()
    assert pages == sorted(pages) and len(set(pages)) == len(pages) > 7
