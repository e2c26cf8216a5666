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

from engine.errors import InvalidCall

UTC = dt.UTC
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "Zulu", "Universal", "Etc/Universal"})
_DAY = dt.timedelta(days=1)
#: Text is read as an instant only when it starts with a whole date: `09:00` never means "today".
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: The instants the engine accepts: from 1970-01-01 to 2999-12-31 (UTC), both days included.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=UTC) - dt.timedelta(microseconds=1)


class InstantError(ValueError):
    """Text or a value that is not an instant the engine accepts.

    ``code`` is ``invalid_time`` (not an instant), ``nonexistent_local_time``
    (a wall-clock time skipped by a daylight-saving change) or
    ``time_out_of_range``; ``reason`` is the parser's own words, when it has any.
    """

    def __init__(self, code: str = "invalid_time", reason: str | None = None) -> None:
        super().__init__(reason or code)
        self.code = code
        self.reason = reason


def read_instant(value: object, tz: str) -> dt.datetime:
    """The one reader of the instants people write: API ``at`` arguments and scenario times.

    An aware datetime is kept; a naive datetime or a date is read on the
    wall clock of ``tz`` (a date is its midnight). A wall-clock time that
    happens twice (the autumn repeat) is the earlier instant; one that never
    happens (the spring-forward gap) is refused. Text is ISO 8601, and is
    only tried beyond what ``datetime.fromisoformat`` reads when it starts
    with a whole date. Instants outside :data:`EARLIEST` .. :data:`LATEST`
    are refused. Anything else raises :class:`InstantError`.

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
        raise InstantError("invalid_time", reason) from None


def _read(value: object, tz: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        offset = None if value.tzinfo is None else value.utcoffset()
        if offset is None:
            return _in_range(_localize(_wall(value), tz))
        if not isinstance(offset, dt.timedelta) or abs(offset) >= dt.timedelta(hours=24):
            raise InstantError("invalid_time", f"the time zone offset {offset!r:.40} is not one")
        return _in_range(_wall(value).replace(tzinfo=dt.timezone(offset)))
    if isinstance(value, dt.date):
        return _in_range(_localize(dt.datetime(value.year, value.month, value.day), tz))
    if not isinstance(value, str):
        raise InstantError()
    text = str.strip(value)
    try:
        parsed: object = dt.datetime.fromisoformat(text)
    except ValueError:
        if not _DATE_LIKE.match(text):
            raise InstantError() from None
        try:
            parsed = pendulum.parse(text, exact=True, tz=None)
        except (ValueError, OverflowError) as exc:
            reason = (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:80]
            raise InstantError("invalid_time", reason) from None
        if not isinstance(parsed, dt.date):  # pragma: no cover - a whole date never parses as a duration
            raise InstantError() from None
    return _read(parsed, tz)


def _wall(value: dt.datetime) -> dt.datetime:
    """The wall-clock fields of ``value`` as a naive :class:`datetime.datetime` (not a subclass)."""
    return dt.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                       value.microsecond)


def _localize(naive: dt.datetime, tz: str) -> dt.datetime:
    """``naive`` on the wall clock of ``tz``: the earlier of two, and never one that does not exist."""
    zone = UTC if tz in _UTC_NAMES else pendulum.timezone(tz)
    local = naive.replace(tzinfo=zone, fold=0)
    if zone is not UTC:
        try:
            back = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        except OverflowError:
            raise InstantError("time_out_of_range", f"{naive.isoformat()} is outside 1970-01-01 .. 2999-12-31"
                               ) from None
        if back != naive.replace(fold=0):
            raise InstantError("nonexistent_local_time",
                               f"{naive.isoformat()} does not exist in {tz} (the clocks skip it)")
    return local


def _in_range(value: dt.datetime) -> dt.datetime:
    try:
        ok = EARLIEST <= value <= LATEST
    except OverflowError:
        ok = False
    if not ok:
        raise InstantError("time_out_of_range",
                           f"{value.isoformat()} is outside 1970-01-01 .. 2999-12-31")
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
            if exc.code != "invalid_time":
                raise InvalidCall(exc.reason or str(exc), exc.code) from None
            if isinstance(value, str):
                raise InvalidCall(f"`{value}` is not an ISO-8601 instant", "invalid_time") from None
            raise InvalidCall(f"expected an instant (ISO-8601 text, datetime or date), got `{value!r}`",
                              "invalid_time") from None

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
            raise InvalidCall(f"{days} days after {start.isoformat()} is past 2999-12-31, the last instant "
                              "the engine keeps", "time_out_of_range")
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
