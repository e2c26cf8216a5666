"""The SQL store's instant texts: one fixed form, whatever the instant came from, and a bounded memo."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.store import _sql_schema
from engine.store._sql_schema import from_utc_text, utc_text

UTC = dt.UTC
FORM = "2026-01-15T09:00:00.000000+00:00"


@pytest.mark.parametrize(
    "read",
    [
        "2026-01-15T10:00:00.000000+01:00",  # another offset
        "2026-W03-4T09:00:00.000000+00:00",  # a week date, as long as the store's form
        "2026-01-15T09:00:00,000000+00:00",  # a comma before the fraction
        "2026-01-15 09:00:00.000000+00:00",  # a space for the T
        "2026-01-15T09:00:00+00:00",
        "2026-01-15T09:00:00.000000-00:00",
        FORM,
    ],
)
def test_an_instant_read_in_any_form_is_written_in_the_one_form(read: str) -> None:
    """An instant read from a text of another form (a file another program wrote) is written back in
    the store's one form, also once the instant has been formatted and remembered."""
    _sql_schema._TEXTS.clear()
    value = from_utc_text(read)
    assert value == dt.datetime(2026, 1, 15, 9, tzinfo=UTC)
    assert utc_text(value) == FORM and utc_text(value) == FORM  # formatted, then remembered
    assert utc_text(value.astimezone(dt.timezone(dt.timedelta(hours=-5)))) == FORM


@given(st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9998, 12, 31)))
def test_remembered_texts_are_the_formatted_ones(naive: dt.datetime) -> None:
    value = naive.replace(tzinfo=UTC)
    fresh = value.isoformat(timespec="microseconds")
    assert utc_text(value) == fresh and utc_text(value) == fresh  # formatted, then remembered
    again = from_utc_text(fresh)
    assert again == value and utc_text(again) == fresh


def test_the_memo_stays_bounded() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(_sql_schema._TEXTS_KEPT * 2 + 5):
        utc_text(start + dt.timedelta(microseconds=n))
    assert 0 < len(_sql_schema._TEXTS) <= _sql_schema._TEXTS_KEPT
