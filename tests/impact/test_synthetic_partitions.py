"""A synthetic year split by a hash of its members' names, each partition made apart (as on a worker).

No process sees the whole year: each partition makes only its members' calls, asks where its
members' year ends, and plays them up to where the whole year ends. The calls carry their place
in the whole year (instant, member, the member's own count), so the merged report is the one
process's, byte for byte: which call is a transition's example, and how transitions that happened
as often are ordered, come from that place. Run here in one process, task by task, as the
workers run them (the Dask runs are in test_cluster.py).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from engine import Engine
from engine.impact import _Share, _share, _Sides, _year_end, compare_policies, merge
from engine.impact.compare import play
from engine.impact.synthetic import ordered_year, year_end, year_of_events

from .test_impact import POLICY, REPO, edited


def test_the_members_of_each_partition_make_exactly_their_calls_of_the_whole_year() -> None:
    whole = list(ordered_year(80))
    assert [o for o, _ in whole] == sorted(o for o, _ in whole)  # the year is in its order
    sides = _Sides(POLICY, POLICY, None, None)
    for parts in (1, 2, 3):
        made = []
        for index in range(parts):
            members = _Share(80, index, parts, sides).members()
            mine = list(ordered_year(80, only=members))
            made.extend(mine)
            assert year_end(80, only=members) == (max(c.at for _, c in mine) if mine else None)
        assert sorted(made, key=lambda oc: oc[0]) == whole
    assert [c for _, c in whole] == list(year_of_events(80))
    assert year_end(80) == whole[-1][1].at


@pytest.mark.parametrize("parts", [2, 3, 4])
def test_partitions_made_apart_give_the_report_of_one_process(tmp_path: Path, parts: int) -> None:
    """200 accounts: with 3 partitions, numbering each partition's calls 1..k (not by their place
    in the whole year) picks another call as a transition's example, so the reports differ."""
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10")
    one = compare_policies(base_policy=POLICY, new_policy=new, synthetic=200)
    sides = _Sides(POLICY, new, REPO / "rules", REPO / "rules")
    tasks = [_Share(200, i, parts, sides) for i in range(parts)]
    end = max(e for e in map(_year_end, tasks) if e is not None)
    split = merge([(None, _share(replace(t, end=end))) for t in tasks])
    assert json.dumps(split.to_dict(), indent=2) == json.dumps(one.to_dict(), indent=2)
    assert one.changed > 0 and len(one.transitions) > 1
    if parts == 3:  # the same partitions, each numbering its own calls 1..k: not the same report
        numbered = []
        for t in tasks:
            with sides.engines() as (b, n):
                year = ordered_year(200, policy=b.policy, only=t.members())
                numbered.append(
                    (None, play((((k,), c, True) for k, (_, c) in enumerate(year, 1)), b, n, end=end))
                )
        assert merge(numbered).to_dict() != one.to_dict()


def test_a_partition_with_no_member_ends_where_the_year_does(tmp_path: Path) -> None:
    """Two members over eight partitions: most are empty, and say so (no end, no account)."""
    sides = _Sides(POLICY, POLICY, None, None)
    tasks = [_Share(2, i, 8, sides) for i in range(8)]
    ends = [_year_end(t) for t in tasks]
    assert sum(e is not None for e in ends) <= 2 and max(e for e in ends if e is not None)
    with Engine.open(policy=POLICY, log=False) as eng:
        assert max(e for e in ends if e is not None) == max(
            c.at for c in year_of_events(2, policy=eng.policy)
        )
