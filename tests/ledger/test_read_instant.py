"""The one reader of written instants takes RFC 3339 / ISO 8601 calendar forms and nothing else.

A lenient parser reads a typo as *some* instant: a fault campaign had
``2026-01-01a12:00``, ``2026-01-01_1200`` and the week date ``2026-W01-1``
accepted, so a POST was refused as ``time_went_back`` and a balance was
answered for a time nobody wrote. These tables pin the grammar from both
sides; the properties check that whatever is accepted is in the grammar and
reads back to itself.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidCall
from engine.ledger.calendar import Calendar, InstantError, read_instant

UTC = dt.UTC
cal = Calendar("UTC")

#: The contract, written apart from the implementation so that the two check each other.
GRAMMAR = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)


def u(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


REFUSED: list[tuple[str, str]] = [
    # (id, text): the fault campaign's reproductions first
    ("date then 31 zeros", "2026-01-0100000000000000000000000000000"),
    ("letter as separator", "2026-01-01a12:00"),
    ("accented letter as separator", "2026-01-01\u00e912:00"),
    ("underscore and basic time", "2026-01-01_1200"),
    ("week date", "2026-W01-1"),
    # other ISO 8601 forms that are not calendar forms, or not RFC 3339's
    ("week date with time", "2026-W01-1T12:00"),
    ("ordinal date", "2026-001"),
    ("basic date", "20260101"),
    ("basic date-time", "20260101T120000Z"),
    ("basic time", "2026-01-01T1200"),
    ("year and month", "2026-01"),
    ("hour only", "2026-01-01T12"),
    ("hour and zone", "2026-01-01T12Z"),
    ("comma fraction", "2026-01-01T12:00:00,5"),
    ("fraction without seconds", "2026-01-01T12:00.5"),
    ("empty fraction", "2026-01-01T12:00:00."),
    ("ten fraction digits", "2026-01-01T12:00:00.1234567890Z"),
    ("offset without colon", "2026-01-01T12:00:00+0100"),
    ("offset of hours only", "2026-01-01T12:00:00+01"),
    ("offset with seconds", "2026-01-01T12:00:00+01:00:00"),
    ("offset of 24 hours", "2026-01-02T10:00:00+24:00"),
    ("offset of 60 minutes", "2026-01-02T10:00:00+01:60"),
    ("zone name", "2026-01-01T12:00:00 UTC"),
    ("zone after a space", "2026-01-01T12:00 Z"),
    ("offset on a date", "2026-01-01+01:00"),
    ("Z on a date", "2026-01-01Z"),
    ("T without a time", "2026-01-01T"),
    ("two spaces", "2026-01-01  12:00"),
    ("tab separator", "2026-01-01\t12:00"),
    ("slash date", "2026/01/01"),
    ("one-digit month", "2026-1-01"),
    ("five-digit year", "02026-01-01"),
    ("signed year", "+2026-01-01"),
    ("fullwidth digits", "\uff12\uff10\uff12\uff16-01-01"),
    ("Arabic-Indic digits", "\u0662\u0660\u0662\u0666-01-01"),
    ("no-break space at the end", "2026-01-01\u00a0"),
    ("zero-width space inside", "2026-01-01\u200bT12:00"),
    ("newline inside", "2026-01-02\nx"),
    ("trailing text", "2026-01-01 and more"),
    ("clock time only", "09:00"),
    ("duration", "P1D"),
    ("words", "next tuesday"),
    ("empty", ""),
    ("blank", "   "),
    # calendar forms whose values are out of range: the reason says which field
    ("month 13", "2026-13-01"),
    ("February 30", "2026-02-30"),
    ("February 29 of a common year", "2026-02-29"),
    ("hour 25", "2026-01-01T25:00"),
    ("hour 24", "2026-01-01T24:00:00Z"),
    ("minute 60", "2026-01-01T12:60"),
    ("leap second", "2026-12-31T23:59:60Z"),
    ("year 0", "0000-01-01"),
]


@pytest.mark.parametrize("text", [t for _, t in REFUSED], ids=[i for i, _ in REFUSED])
def test_anything_but_a_calendar_form_is_invalid_time(text: str) -> None:
    with pytest.raises(InstantError) as info:
        read_instant(text, "UTC")
    assert info.value.code == "invalid_time"
    with pytest.raises(InvalidCall) as call:
        cal.instant(text)  # the Python API's door: an InvalidCall with the same code
    assert call.value.code == "invalid_time"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-13-01", "month must be in 1..12"),
        ("2026-02-30", "day is out of range for month"),
        ("2026-01-01T25:00", "hour must be in 0..23"),
        ("2026-01-01T12:60", "minute must be in 0..59"),
        ("2026-12-31T23:59:60Z", "second must be in 0..59"),
        ("2026-01-02T10:00:00+24:00", "the time zone offset +24:00 is not one (at most 23:59)"),
        ("2026-01-01a12:00", None),  # not the grammar: there is no field to blame
    ],
)
def test_a_value_out_of_range_says_which(text: str, reason: str | None) -> None:
    with pytest.raises(InstantError) as info:
        read_instant(text, "UTC")
    assert (info.value.code, info.value.reason) == ("invalid_time", reason)


ACCEPTED: list[tuple[str, str, dt.datetime]] = [
    # (text, policy zone, instant)
    ("2026-01-15", "UTC", u(2026, 1, 15)),
    ("2026-01-15", "Europe/Paris", u(2026, 1, 14, 23)),
    ("2028-02-29", "UTC", u(2028, 2, 29)),
    ("2028-02-29T12:00:00Z", "UTC", u(2028, 2, 29, 12)),
    ("2026-01-15T09:00", "UTC", u(2026, 1, 15, 9)),
    ("2026-01-15T09:00", "Europe/Paris", u(2026, 1, 15, 8)),
    ("2026-01-15T09:00:00", "UTC", u(2026, 1, 15, 9)),
    ("2026-01-15t09:00:00", "UTC", u(2026, 1, 15, 9)),
    ("2026-01-15 09:00", "UTC", u(2026, 1, 15, 9)),
    ("2026-01-15 09:00:00Z", "Europe/Paris", u(2026, 1, 15, 9)),
    ("2026-01-15T09:00:00Z", "Europe/Paris", u(2026, 1, 15, 9)),
    ("2026-01-15T09:00:00z", "UTC", u(2026, 1, 15, 9)),
    ("2026-01-15T09:00Z", "UTC", u(2026, 1, 15, 9)),
    ("2026-01-15T10:00:00+01:00", "UTC", u(2026, 1, 15, 9)),
    ("2026-01-15T03:30:00-05:30", "UTC", u(2026, 1, 15, 9)),
    ("2026-01-15T09:00:00-00:00", "Europe/Paris", u(2026, 1, 15, 9)),
    ("2026-01-15T09:00+00:00", "UTC", u(2026, 1, 15, 9)),
    ("2026-01-15T09:00:00.5Z", "UTC", u(2026, 1, 15, 9, 0, 0, 500_000)),
    ("2026-01-15T09:00:00.12Z", "UTC", u(2026, 1, 15, 9, 0, 0, 120_000)),
    ("2026-01-15T09:00:00.123Z", "UTC", u(2026, 1, 15, 9, 0, 0, 123_000)),
    ("2026-01-15T09:00:00.1234Z", "UTC", u(2026, 1, 15, 9, 0, 0, 123_400)),
    ("2026-01-15T09:00:00.12345Z", "UTC", u(2026, 1, 15, 9, 0, 0, 123_450)),
    ("2026-01-15T09:00:00.123456Z", "UTC", u(2026, 1, 15, 9, 0, 0, 123_456)),
    ("2026-01-15T09:00:00.1234567Z", "UTC", u(2026, 1, 15, 9, 0, 0, 123_456)),
    ("2026-01-15T09:00:00.12345678Z", "UTC", u(2026, 1, 15, 9, 0, 0, 123_456)),
    ("2026-01-15T09:00:00.123456789Z", "UTC", u(2026, 1, 15, 9, 0, 0, 123_456)),
    ("2026-01-15T09:00:00.000001Z", "UTC", u(2026, 1, 15, 9, 0, 0, 1)),
    ("2026-01-15T09:00:00.0000009Z", "UTC", u(2026, 1, 15, 9)),  # below a microsecond: dropped
    ("2026-12-31T23:59:59.999999999Z", "UTC", u(2026, 12, 31, 23, 59, 59, 999_999)),  # never next year
    ("2026-01-15T09:00:00.5+01:00", "UTC", u(2026, 1, 15, 8, 0, 0, 500_000)),
    (" 2026-01-15 ", "UTC", u(2026, 1, 15)),
    ("\t2026-01-15T09:00:00Z\r\n", "UTC", u(2026, 1, 15, 9)),
    ("1970-01-01T00:00:00Z", "UTC", u(1970, 1, 1)),
    ("2999-12-31T23:59:59.999999Z", "UTC", u(2999, 12, 31, 23, 59, 59, 999_999)),
]


@pytest.mark.parametrize(("text", "tz", "want"), ACCEPTED, ids=[f"{t!r}-{z}" for t, z, _ in ACCEPTED])
def test_calendar_forms_are_read_as_the_instant_they_name(text: str, tz: str, want: dt.datetime) -> None:
    got = read_instant(text, tz)
    assert got == want and got.utcoffset() is not None
    assert Calendar(tz).instant(text) == want


def test_a_naive_text_keeps_the_daylight_saving_rules_of_the_policy_zone() -> None:
    with pytest.raises(InstantError) as info:
        read_instant("2026-03-29T02:30:00", "Europe/Paris")  # the clocks skip 02:00-03:00
    assert info.value.code == "nonexistent_local_time"
    assert read_instant("2026-10-25 02:30", "Europe/Paris") == u(2026, 10, 25, 0, 30)  # the earlier of two
    assert read_instant("2026-03-29T02:30:00+01:00", "Europe/Paris") == u(2026, 3, 29, 1, 30)


# --- properties ----------------------------------------------------------------------------------


@st.composite
def calendar_forms(draw: st.DrawFn) -> tuple[str, dt.datetime, bool]:
    """A text in the grammar, the wall-clock datetime it names (aware when it has an offset), and
    whether it has an offset."""
    day = draw(st.dates(min_value=dt.date(1971, 1, 1), max_value=dt.date(2998, 12, 31)))
    text = day.isoformat()
    if not draw(st.booleans()):
        return text, dt.datetime(day.year, day.month, day.day), False
    h, m, s = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    text += draw(st.sampled_from("Tt ")) + f"{h:02d}:{m:02d}"
    micro = 0
    if draw(st.booleans()):
        text += f":{s:02d}"
        digits = draw(st.one_of(st.none(), st.text("0123456789", min_size=1, max_size=9)))
        if digits is not None:
            text += "." + digits
            micro = int(digits[:6].ljust(6, "0"))
    else:
        s = 0
    wall = dt.datetime(day.year, day.month, day.day, h, m, s, micro)
    zone = draw(
        st.one_of(
            st.none(),
            st.sampled_from("Zz"),
            st.tuples(st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)),
        )
    )
    if zone is None:
        return text, wall, False
    if isinstance(zone, str):
        return text + zone, wall.replace(tzinfo=UTC), True
    sign, oh, om = zone
    delta = dt.timedelta(hours=oh, minutes=om) * (1 if sign == "+" else -1)
    return text + f"{sign}{oh:02d}:{om:02d}", wall.replace(tzinfo=dt.timezone(delta)), True


@settings(max_examples=300, deadline=None)
@given(form=calendar_forms())
def test_every_calendar_form_is_read_as_its_fields_and_round_trips(
    form: tuple[str, dt.datetime, bool],
) -> None:
    text, want, aware = form
    assert GRAMMAR.fullmatch(text)
    got = read_instant(text, "UTC")
    assert got == (want if aware else want.replace(tzinfo=UTC))
    assert read_instant(got.isoformat(), "UTC") == got
    if not aware:  # text and the datetime it names are read alike, DST gaps included
        try:
            by_object: object = read_instant(want, "America/New_York")
        except InstantError as exc:
            by_object = exc.code
        try:
            by_text: object = read_instant(text, "America/New_York")
        except InstantError as exc:
            by_text = exc.code
        assert by_text == by_object


NOISE = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=4)


@settings(max_examples=400, deadline=None)
@given(
    form=calendar_forms(),
    noise=NOISE,
    where=st.sampled_from(["before", "after", "inside"]),
    at=st.integers(0, 40),
)
def test_text_around_or_inside_a_calendar_form_is_refused_unless_it_is_one(
    form: tuple[str, dt.datetime, bool], noise: str, where: str, at: int
) -> None:
    text = form[0]
    i = {"before": 0, "after": len(text)}.get(where, min(at, len(text)))
    mixed = text[:i] + noise + text[i:]
    try:
        got = read_instant(mixed, "UTC")
    except InstantError as exc:
        assert exc.code in ("invalid_time", "time_out_of_range")  # e.g. an offset that crosses 2999
        return
    assert GRAMMAR.fullmatch(mixed.strip(" \t\r\n")), f"{mixed!r} was read as {got}"
    assert read_instant(got.isoformat(), "UTC") == got


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.sampled_from("0123456789-:T tZz+.,W_a\u00e9\n"), max_size=30))
def test_any_text_the_reader_accepts_is_in_the_grammar(text: str) -> None:
    try:
        got = read_instant(text, "UTC")
    except InstantError:
        return
    assert GRAMMAR.fullmatch(text.strip(" \t\r\n")), f"{text!r} was read as {got}"
    assert read_instant(got.isoformat(), "UTC") == got
