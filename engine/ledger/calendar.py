"""The billing calendar: instants from caller input, renewals, expiries, windows.

Every instant the engine keeps is an aware ``datetime`` in UTC, so instants
compare and sort the same in memory and in a database. Calendar arithmetic
(a month after the anchor, 90 days after a grant) is done on the wall clock
of the policy's time zone with pendulum, because "one month later" and "90
days later" are calendar statements: an anchor on the 31st renews on the
last day of shorter months, and a day is a day across a DST change.

For the common UTC policy the arithmetic has a fast path without pendulum:
replaying a year of events must stay cheap.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pendulum

from engine.codes import C

UTC = dt.UTC
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "Zulu", "Universal", "Etc/Universal"})
_DAY = dt.timedelta(days=1)
#: The only texts read as instants: RFC 3339 / ISO 8601 *calendar* forms. A date, or a date,
#: ``T``/``t``/one space, ``HH:MM`` or ``HH:MM:SS`` with up to 9 fraction digits, then ``Z``/``z``
#: or ``+HH:MM``/``-HH:MM`` (no offset: the policy's zone). ASCII digits only. Everything else
#: (week and ordinal dates, basic forms, ``+HHMM``, a comma fraction, any other separator) is
#: refused: a lenient parser reads typos as *some* instant, and a wrong instant is worse than
#: a refusal. Range checks (month 13, Feb 30) are left to :class:`datetime.datetime`, whose
#: words become the reason.
_INSTANT = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:[Tt ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?)?"
    r"(?P<zone>[Zz]|(?P<sign>[+-])(?P<oh>[0-9]{2}):(?P<om>[0-9]{2}))?)?"
)
#: Stripped from both ends of a text (a YAML block scalar or a file's last line ends in a newline);
#: other whitespace, at the ends or inside, is refused.
_BLANKS = " \t\r\n"
#: The instants the engine accepts: from 1970-01-01 to 2999-12-31 (UTC), both days included.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=UTC) - dt.timedelta(microseconds=1)


class InstantError(ValueError):
    """Text or a value that is not an instant the engine accepts.

    ``code`` is ``invalid_time`` (not an instant), ``nonexistent_local_time``
    (a wall-clock time skipped by a daylight-saving change) or
    ``time_out_of_range``; ``reason`` is the parser's own words, when it has any.
    """

    def __init__(self, code: C = C.invalid_time, reason: str | None = None) -> None:
        super().__init__(reason or code)
        self.code = code
        self.reason = reason


def read_instant(value: object, tz: str) -> dt.datetime:
    """The one reader of the instants people write: API ``at`` arguments and scenario times.

    An aware datetime is kept; a naive datetime or a date is read on the
    wall clock of ``tz`` (a date is its midnight). A wall-clock time that
    happens twice (the autumn repeat) is the earlier instant; one that never
    happens (the spring-forward gap) is refused. Text must be one of the
    calendar forms of :data:`_INSTANT` (RFC 3339, with the date-only and
    no-seconds forms people write). Instants outside :data:`EARLIEST` ..
    :data:`LATEST` are refused. Anything else raises :class:`InstantError`.

    The value may be any object an app passes, with its own ``tzinfo`` or
    subclass methods: whatever it raises while being read is refused as an
    ``invalid_time``, and what is returned is a plain datetime with a fixed
    offset, so no caller's code runs later.
    """
    try:
        return _read(value, tz)
    except InstantError:
        raise
    except Exception as exc:  # an app's object misbehaving: never let its exception through
        reason = (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:80]
        raise InstantError(C.invalid_time, reason) from None


def _read(value: object, tz: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        offset = None if value.tzinfo is None else value.utcoffset()
        if offset is None:
            return _in_range(_localize(_wall(value), tz))
        if not isinstance(offset, dt.timedelta) or abs(offset) >= dt.timedelta(hours=24):
            raise InstantError(C.invalid_time, f"the time zone offset {offset!r:.40} is not one")
        return _in_range(_wall(value).replace(tzinfo=dt.timezone(offset)))
    if isinstance(value, dt.date):
        return _in_range(_localize(dt.datetime(value.year, value.month, value.day), tz))
    if not isinstance(value, str):
        raise InstantError()
    return _read(_parse(value), tz)


def _parse(text: str) -> dt.datetime:
    """``text`` as a datetime, aware when it has an offset; refused unless it is one of :data:`_INSTANT`.

    The fields are built into a datetime here rather than by
    ``datetime.fromisoformat``, whose leniency changes between Python
    versions: what is read is exactly what the pattern matched. Fraction
    digits beyond the sixth are dropped (truncated, never rounded, so that
    ``23:59:59.9999999`` stays on its day).
    """
    m = _INSTANT.fullmatch(text.strip(_BLANKS))
    if m is None:
        raise InstantError()
    f = m.group
    try:
        wall = dt.datetime(
            int(f("year")),
            int(f("month")),
            int(f("day")),
            int(f("hour") or 0),
            int(f("minute") or 0),
            int(f("second") or 0),
            int((f("fraction") or "0").ljust(6, "0")[:6]),
        )
    except ValueError as exc:  # month 13, Feb 30, hour 25, year 0: datetime says which
        raise InstantError(C.invalid_time, str(exc)[:80]) from None
    zone = f("zone")
    if zone is None:
        return wall
    if zone in ("Z", "z"):
        return wall.replace(tzinfo=UTC)
    hours, minutes = int(f("oh")), int(f("om"))
    if hours > 23 or minutes > 59:
        raise InstantError(C.invalid_time, f"the time zone offset {zone} is not one (at most 23:59)")
    offset = dt.timedelta(hours=hours, minutes=minutes)
    return wall.replace(tzinfo=dt.timezone(-offset if f("sign") == "-" else offset))


def _wall(value: dt.datetime) -> dt.datetime:
    """The wall-clock fields of ``value`` as a naive :class:`datetime.datetime` (not a subclass)."""
    return dt.datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond
    )


def _localize(naive: dt.datetime, tz: str) -> dt.datetime:
    """``naive`` on the wall clock of ``tz``: the earlier of two, and never one that does not exist."""
    zone = UTC if tz in _UTC_NAMES else pendulum.timezone(tz)
    local = naive.replace(tzinfo=zone, fold=0)
    if zone is UTC:
        return local
    try:
        utc = local.astimezone(UTC)
        back = utc.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise InstantError(
            C.time_out_of_range, f"{naive.isoformat()} is outside 1970-01-01 .. 2999-12-31"
        ) from None
    if back != naive.replace(fold=0):
        raise InstantError(
            C.nonexistent_local_time, f"{naive.isoformat()} does not exist in {tz} (the clocks skip it)"
        )
    # A fixed offset, not the zone: an instant in the autumn repeat that carries its zone compares
    # unequal to the same instant in any other zone (PEP 495), so a scenario's equal times would not be.
    return naive.replace(fold=0, tzinfo=dt.timezone(naive.replace(fold=0) - utc.replace(tzinfo=None)))


def _in_range(value: dt.datetime) -> dt.datetime:
    try:
        ok = EARLIEST <= value <= LATEST
    except OverflowError:
        ok = False
    if not ok:
        raise InstantError(C.time_out_of_range, f"{value.isoformat()} is outside 1970-01-01 .. 2999-12-31")
    return value


def _plain(value: dt.datetime) -> dt.datetime:
    """A stdlib UTC datetime (pendulum's subclass is slower and pickles differently)."""
    u = value.astimezone(UTC)
    return dt.datetime(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=UTC)


class Calendar:
    """Date arithmetic in one policy time zone."""

    def __init__(self, timezone: str = "UTC") -> None:
        self.timezone = timezone
        self.is_utc = timezone in _UTC_NAMES
        self._tz = pendulum.timezone(timezone)
        self._days: dict[int, dt.timedelta] = {}  # the few durations a policy uses (3, 90, 365 days)

    # --- input ------------------------------------------------------------------------

    def instant(self, value: Any) -> dt.datetime:
        """An ``at`` argument as a UTC instant (:func:`read_instant`, in the policy's time zone).

        Anything that is not an accepted instant is the caller's mistake:
        ``invalid_time``, ``nonexistent_local_time`` or ``time_out_of_range``.
        """
        if type(value) is dt.datetime and value.tzinfo is UTC and EARLIEST <= value <= LATEST:
            return value  # the engine's own instants, and most API calls: as they are
        try:
            return _plain(read_instant(value, self.timezone))
        except InstantError as exc:
            if exc.code is not C.invalid_time:
                raise exc.code(exc.reason or str(exc)) from None
            if isinstance(value, str):
                raise C.invalid_time(f"`{value}` is not an ISO-8601 instant") from None
            raise C.invalid_time(
                f"expected an instant (ISO-8601 text, datetime or date), got `{value!r}`"
            ) from None

    # --- arithmetic -------------------------------------------------------------------

    def add_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """``days`` calendar days after ``start`` on the policy's wall clock.

        Every derived instant (an expiry, a reminder) comes from here, so here
        is where one past :data:`LATEST` is refused (``time_out_of_range``):
        the call that would store it is refused whole.
        """
        if self.is_utc:
            delta = self._days.get(days)
            if delta is None:
                delta = self._days[days] = dt.timedelta(days=days)
            out = start + delta
        else:
            out = _plain(pendulum.instance(start).in_tz(self._tz).add(days=days))
        if out > LATEST:
            raise C.time_out_of_range(
                f"{days} days after {start.isoformat()} is past 2999-12-31, the last instant "
                "the engine keeps",
            )
        return out

    def add_months(self, anchor: dt.datetime, months: int) -> dt.datetime:
        """``anchor`` plus ``months`` months, clipped to the month's last day (Jan 31 + 1 = Feb 28/29).

        Always computed from the anchor itself, never from the previous
        renewal, so a 31st anchor comes back to the 31st in long months.
        """
        if self.is_utc:
            total = anchor.month - 1 + months
            year, month = anchor.year + total // 12, total % 12 + 1
            day = min(anchor.day, _month_days(year, month))
            return anchor.replace(year=year, month=month, day=day)
        return _plain(pendulum.instance(anchor).in_tz(self._tz).add(months=months))

    def first_renewal_index(self, anchor: dt.datetime, since: dt.datetime) -> int:
        """The smallest integer k with ``anchor + k months`` strictly after ``since`` (R07, R08).

        k may be negative: a billing anchor later than the seat date still
        has renewals between the two.
        """
        k = (since.year - anchor.year) * 12 + (since.month - anchor.month) - 1
        while self.add_months(anchor, k) <= since:
            k += 1
        while self.add_months(anchor, k - 1) > since:
            k -= 1
        return k

    def whole_days(self, start: dt.datetime, end: dt.datetime) -> int:
        """Whole calendar days from ``start`` to ``end`` (``message.age_days``); 0 if end < start."""
        if end <= start:
            return 0
        n = (end - start).days
        while self.add_days(start, n) > end:
            n -= 1
        while self.add_days(start, n + 1) <= end:
            n += 1
        return n

    def within(self, start: dt.datetime, end: dt.datetime, days: int) -> bool:
        """``end`` is no later than ``days`` days after ``start``: the window is inclusive (R14)."""
        return end <= self.add_days(start, days)


def _month_days(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.date(year, month, 1)).days
