"""The in-memory store's packed rows: positions and undo, instants, values of every kind back as they were."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.ledger.calendar import EARLIEST, LATEST
from engine.model import LogRecord
from engine.store._packed import NONE, Codes, Ragged, Table, at_of, instant, pack, unpack
from engine.store.memory import MemoryStore

_rows = st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=5)


@given(st.lists(st.tuples(st.lists(_rows, max_size=40), st.integers(0, 60)), max_size=6))
def test_ragged_and_table_rows_behave_like_a_list_through_appends_and_cuts(
    steps: list[tuple[list[list[int]], int]],
) -> None:
    ragged, table = Ragged(), Table(3)
    model: list[list[int]] = []
    for add, keep in steps:
        for row in add:
            assert ragged.append(row) == len(model)
            assert table.append((row[0], len(model), -row[0])) == len(model)
            model.append(row)
        keep = min(keep, len(model))
        ragged.cut(keep)
        table.cut(keep)
        del model[keep:]
        assert len(ragged) == len(table) == len(model)
        for pos, row in enumerate(model):
            assert list(ragged.row(pos)) == row
            assert ragged.field(pos, 0) == row[0]
            assert list(table.row(pos)) == [row[0], pos, -row[0]]


@given(st.datetimes(min_value=EARLIEST.replace(tzinfo=None), max_value=LATEST.replace(tzinfo=None)))
def test_an_instant_comes_back_to_the_microsecond_and_in_utc(naive: dt.datetime) -> None:
    at = naive.replace(tzinfo=dt.UTC)
    back = at_of(instant(at))
    assert back == at
    assert back.tzinfo is dt.UTC
    assert instant(at) != NONE


@given(
    st.one_of(
        st.text(),
        st.none(),
        st.booleans(),
        st.integers(),  # beyond 64 bits too: kept as an object
        st.floats(allow_nan=False),
        st.datetimes(timezones=st.just(dt.UTC)),
        st.lists(st.integers(), max_size=3),
    )
)
def test_a_value_of_any_kind_comes_back_equal_and_of_its_type(value: Any) -> None:
    texts: Codes[str] = Codes()
    objects: list[Any] = []
    kind, n = pack(value, texts, objects)
    back = unpack(kind, n, texts, objects)
    assert back == value
    assert type(back) is type(value)


def test_codes_keep_each_text_once() -> None:
    texts: Codes[str] = Codes()
    assert texts.code("a") == texts.code("a") == 0
    assert texts.code("b") == 1
    assert texts.code_or_none(None) == NONE
    assert texts.value(NONE) is None
    assert texts.value(1) == "b"


def test_a_logged_call_comes_back_as_it_was_given() -> None:
    """Arguments that repeat the row's at, account or message, and ones that do not, of every kind."""
    store = MemoryStore()
    at = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)
    other = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    sent = {"sender": "ann", "recipient": "bob", "at": at, "message_id": "m1"}
    odd = {"a": "m1", "b": other, "c": 7, "d": True, "e": None, "f": [1, 2], "g": 2**70}
    denied = {"sender": "bob", "recipient": "ann", "at": other, "message_id": None}
    records = [
        LogRecord(at, "send", "ann", sent, None, "sent", None, "send-inmail", "m1", "rev1"),
        LogRecord(at, "odd", "ann", odd, "key-1", "done", "why", "rule", None, "rev1"),
        LogRecord(other, "send", "bob", denied, None, "denied", "no-credits", "no-credits", None, "rev2"),
    ]
    for record in records:
        with store.unit() as u:
            u.log(record)
    with pytest.raises(RuntimeError), store.unit() as u:  # a unit that fails takes its row back
        u.log(records[1])
        raise RuntimeError
    assert len(store._objects) == 2  # and the objects it kept
    assert [c.seq for c in store.calls()] == [1, 2, 3]
    assert [store._record(pos) for pos in range(3)] == records
    assert [c.seq for c in store.calls("ann")] == [1, 2]
    assert [c.seq for c in store.calls(since=other)] == [3]
    assert [c.seq for c in store.calls_of(["bob", "nobody"])] == [3]
    assert store.calls("nobody") == []
    assert [c.seq for c in store.calls_paged(2)] == [1, 2, 3]
