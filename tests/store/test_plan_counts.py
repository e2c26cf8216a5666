"""``plan_counts()``: how many accounts are on each plan, and the first few by name; every store agrees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, InvalidCall


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "memory":
        yield "memory"
    elif request.param == "sqlite":
        yield str(tmp_path / "counts.db")
    else:
        yield request.getfixturevalue("pg_url")


def _fill(eng: Engine) -> None:
    for i in (3, 0, 4, 1, 2):  # not in name order
        eng.subscribe(f"c{i}", "career", at="2026-01-05")
    eng.subscribe("b0", "business", at="2026-01-05")
    eng.subscribe("s0", "sales_navigator", at="2026-01-05")
    eng.change_plan("s0", "business", at="2026-01-06")  # counted on the plan it is on now
    eng.subscribe("s1", "sales_navigator", at="2026-01-05")


def test_every_store_counts_the_accounts_on_each_plan_alike(db: str) -> None:
    with Engine.open(db=db) as eng:
        assert eng.plan_counts() == {}
        _fill(eng)
        counts = eng.plan_counts()
        assert counts == {
            "career": (5, ("c0", "c1", "c2")),
            "business": (2, ("b0", "s0")),
            "sales_navigator": (1, ("s1",)),
        }
        assert eng.plan_counts(examples=1) == {p: (n, names[:1]) for p, (n, names) in counts.items()}
        assert {p: names[0] for p, (_, names) in counts.items()} == eng._store.plans_in_use()
        with pytest.raises(InvalidCall) as refused:
            eng.plan_counts(examples=0)
        assert refused.value.code == "invalid_argument"
    if db != "memory":  # read back by another engine on the same database
        with Engine.open(db=db, create=False) as again:
            assert again.plan_counts() == counts
