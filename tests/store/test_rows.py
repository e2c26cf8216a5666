"""The in-memory store's append-only row table: positions, undo across chunk seams, and the collector."""

from __future__ import annotations

import datetime as dt
import gc

from hypothesis import given
from hypothesis import strategies as st

from engine.store._rows import CHUNK, Rows


def _row(i: int) -> tuple[object, ...]:
    return (i, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "consume", ("R01",), None)


@given(st.lists(st.tuples(st.integers(0, 3 * CHUNK), st.integers(0, 3 * CHUNK)), max_size=6))
def test_rows_behave_like_a_list_through_appends_and_cuts(steps: list[tuple[int, int]]) -> None:
    rows, model = Rows(), []
    for add, keep in steps:
        for _ in range(add):
            assert rows.append(_row(len(model))) == len(model)
            model.append(_row(len(model)))
        keep = min(keep, len(model))
        rows.cut(keep)
        del model[keep:]
        assert len(rows) == len(model)
        assert list(rows) == model
        for pos in {0, keep // 2, keep - 1} - {-1}:
            if pos < len(model):
                assert rows[pos] == model[pos]


def test_sealed_chunks_of_plain_rows_leave_the_collector_nothing_to_walk() -> None:
    rows = Rows()
    for i in range(2 * CHUNK + 5):
        rows.append(_row(i))
    gc.collect()  # a chunk may be looked at before its rows: untracked by the next collection
    gc.collect()
    assert len(rows.chunks) == 2
    assert not any(gc.is_tracked(chunk) for chunk in rows.chunks)
    assert len(rows.tail) == 5
