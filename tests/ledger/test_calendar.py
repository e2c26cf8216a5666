"""The billing calendar: instants from input, month arithmetic from the anchor, windows."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.errors import InvalidCall
from engine.ledger.calendar import Calendar
from engine.store._sql_schema import from_utc_text as from_iso
from engine.store._sql_schema import utc_text as iso

UTC = dt.UTC
cal = Calendar("UTC")
paris = Calendar("Europe/Paris")


def u(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("2026-01-15T09:00:00Z", u(2026, 1, 15, 9)),
        ("2026-01-15T10:00:00+01:00", u(2026, 1, 15, 9)),
        ("2026-01-15", u(2026, 1, 15)),
        ("2026-01-15T09:00", u(2026, 1, 15, 9)),
        (" 2026-01-15 ", u(2026, 1, 15)),
        (dt.date(2026, 1, 15), u(2026, 1, 15)),
        (dt.datetime(2026, 1, 15, 9), u(2026, 1, 15, 9)),
        (dt.datetime(2026, 1, 15, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5))), u(2026, 1, 15, 14)),
    ],
    ids=repr,
)
def test_instants_in_utc(value: object, want: dt.datetime) -> None:
    got = cal.instant(value)
    assert got == want and got.tzinfo is not None and got.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "value", ["", "soon", "2026-02-30", "2026-13-01", "P1D", "25:00", 1, 2.5, None, True]
)
def test_bad_instants_are_invalid_time(value: object) -> None:
    with pytest.raises(InvalidCall) as info:
        cal.instant(value)
    assert info.value.code == "invalid_time"


def test_dates_and_naive_times_are_read_in_the_policy_zone() -> None:
    assert paris.instant("2026-01-15") == u(2026, 1, 14, 23)
    assert paris.instant(dt.datetime(2026, 7, 1, 12)) == u(2026, 7, 1, 10)
    assert paris.instant("2026-07-01T12:00:00Z") == u(2026, 7, 1, 12)


@pytest.mark.parametrize(
    ("anchor", "k", "want"),
    [
        (u(2026, 1, 31, 12), 1, u(2026, 2, 28, 12)),
        (u(2026, 1, 31, 12), 2, u(2026, 3, 31, 12)),
        (u(2026, 1, 31, 12), 3, u(2026, 4, 30, 12)),
        (u(2028, 1, 31), 1, u(2028, 2, 29)),
        (u(2028, 2, 29), 1, u(2028, 3, 29)),
        (u(2028, 2, 29), 12, u(2029, 2, 28)),
        (u(2028, 2, 29), 48, u(2032, 2, 29)),
        (u(2026, 1, 15), -1, u(2025, 12, 15)),
        (u(2026, 12, 31), 2, u(2027, 2, 28)),
    ],
)
def test_months_are_counted_from_the_anchor(anchor: dt.datetime, k: int, want: dt.datetime) -> None:
    assert cal.add_months(anchor, k) == want


def test_months_keep_the_wall_clock_of_the_policy_zone() -> None:
    anchor = paris.instant("2026-01-31")  # midnight in Paris, 23:00 UTC the day before
    assert [paris.add_months(anchor, k) for k in (1, 2)] == [u(2026, 2, 27, 23), u(2026, 3, 30, 22)]


@pytest.mark.parametrize(
    ("anchor", "since", "k"),
    [
        (u(2026, 1, 15), u(2026, 1, 15), 1),  # renewals strictly after since
        (u(2026, 1, 1), u(2026, 1, 10), 1),  # R08: seat on the 10th, cycle on the 1st
        (u(2026, 1, 20), u(2026, 1, 10), 0),
        (u(2026, 3, 20), u(2026, 1, 10), -2),
        (u(2025, 1, 31), u(2026, 2, 28), 14),  # Feb 28 is itself a renewal instant: the next is Mar 31
        (u(2025, 1, 31), u(2026, 2, 27), 13),
    ],
)
def test_first_renewal_index(anchor: dt.datetime, since: dt.datetime, k: int) -> None:
    assert cal.first_renewal_index(anchor, since) == k
    assert cal.add_months(anchor, k) > since >= cal.add_months(anchor, k - 1)


def test_window_is_inclusive_and_age_counts_whole_days() -> None:
    sent = u(2026, 1, 15, 10)
    assert cal.within(sent, u(2026, 4, 15, 10), 90)
    assert not cal.within(sent, u(2026, 4, 15, 10, 0, 1), 90)
    assert cal.whole_days(sent, u(2026, 4, 15, 9, 59)) == 89
    assert cal.whole_days(sent, u(2026, 4, 15, 10)) == 90
    assert cal.whole_days(sent, sent) == 0


def test_days_are_calendar_days_across_dst() -> None:
    start = paris.instant("2026-03-28T12:00")  # the clocks go forward on 2026-03-29
    assert paris.add_days(start, 1) - start == dt.timedelta(hours=23)
    assert paris.whole_days(start, paris.add_days(start, 1)) == 1


def test_iso_round_trip_sorts_like_instants() -> None:
    a, b = u(2026, 1, 1, 0, 0, 0, 5), u(2026, 1, 1, 0, 0, 1)
    assert iso(a) < iso(b) and from_iso(iso(a)) == a and len(iso(a)) == len(iso(b))
