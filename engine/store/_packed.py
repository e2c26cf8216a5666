"""Rows packed by field: the in-memory store's append-only tables as arrays of 64-bit integers.

A large replay keeps every ledger entry, lot and logged call in memory:
about 120 entries, 40 lots and 105 calls per account and year. Kept as tuples
of Python objects, a row cost 100-230 bytes (the tuple, a datetime of 48
bytes per instant, a pointer per field), and the rows were most of the
store's memory. Packed, a field is 8 bytes in an ``array('q')``: an instant
as its microseconds since 1970 (every instant the engine keeps is UTC, so
nothing is lost), a text as its code in a :class:`Codes` table (an account
name or a message id is kept once, however many rows name it), ``None`` as
:data:`NONE`. An array is one object the garbage collector never walks, so
collections cost the same whatever the table's size.

Rows are read back field by field into the records the engine hands out
(the store's ``history``, ``lots`` and ``calls``): reading is the rare
direction, appending the one every event takes.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Hashable, Iterable
from typing import Any, Final, Generic, TypeVar

#: ``None`` in an integer field (no instant, lot or code takes this value)
NONE: Final = -(1 << 63)

EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US: Final = dt.timedelta(microseconds=1)

_K = TypeVar("_K", bound=Hashable)


def instant(at: dt.datetime) -> int:
    """An aware instant as whole microseconds since 1970 (exact: the engine's instants are UTC)."""
    return (at - EPOCH) // _US


def at_of(us: int) -> dt.datetime:
    """The UTC instant of :func:`instant`'s number."""
    return EPOCH + dt.timedelta(microseconds=us)


class _CodeOf(dict[_K, int]):
    """A value's code, given on first lookup: ``code_of[value]`` finds a known value's code as any
    dict does (the common case, one C lookup) and codes an unknown one, appending it to ``coded``
    (the :class:`Codes` table's ``values``). ``get`` and ``in`` never code (a read of the store must
    not add to it)."""

    __slots__ = ("coded",)

    def __init__(self, coded: list[_K]) -> None:
        super().__init__()
        self.coded = coded

    def __missing__(self, value: _K) -> int:
        code = self[value] = len(self.coded)
        self.coded.append(value)
        return code


class Codes(Generic[_K]):
    """Values to small integers and back, each distinct value kept once.

    Codes are never taken back: a call that fails after coding a text leaves
    the text in the table, unused, which costs its memory and nothing else.
    """

    __slots__ = ("code_of", "values")

    def __init__(self) -> None:
        self.values: list[_K] = []
        self.code_of: _CodeOf[_K] = _CodeOf(self.values)

    def code(self, value: _K) -> int:
        return self.code_of[value]

    def code_or_none(self, value: _K | None) -> int:
        return NONE if value is None else self.code_of[value]

    def value(self, code: int) -> _K | None:
        return None if code == NONE else self.values[code]


class Table:
    """Rows of ``width`` integers, end to end in one array; a row is found by its position."""

    __slots__ = ("data", "width")

    def __init__(self, width: int) -> None:
        self.width = width
        self.data = array("q")

    def __len__(self) -> int:
        return len(self.data) // self.width

    def append(self, row: Iterable[int]) -> int:
        """Add a row of ``width`` integers; return its position."""
        self.data.extend(row)
        return len(self.data) // self.width - 1

    def row(self, pos: int) -> array[int]:
        w = self.width
        return self.data[pos * w : pos * w + w]

    def cut(self, n: int) -> None:
        """Forget the rows from position ``n`` on (a unit taking back what it appended)."""
        del self.data[n * self.width :]


class Ragged:
    """Rows of varying width end to end (a logged call's argument count depends on its method),
    and where each row starts."""

    __slots__ = ("data", "starts")

    def __init__(self) -> None:
        self.data = array("q")
        self.starts = array("q")

    def __len__(self) -> int:
        return len(self.starts)

    def append(self, row: Iterable[int]) -> int:
        """Add a row; return its position."""
        self.starts.append(len(self.data))
        self.data.extend(row)
        return len(self.starts) - 1

    def row(self, pos: int) -> array[int]:
        end = self.starts[pos + 1] if pos + 1 < len(self.starts) else len(self.data)
        return self.data[self.starts[pos] : end]

    def field(self, pos: int, i: int) -> int:
        """Field ``i`` of row ``pos``, without copying the row (a scan's filter)."""
        return self.data[self.starts[pos] + i]

    def cut(self, n: int) -> None:
        """Forget the rows from position ``n`` on."""
        if n < len(self.starts):
            del self.data[self.starts[n] :]
            del self.starts[n:]


# --- values of any plain type, as a kind letter and an integer (a logged call's arguments) -----------

STR: Final = "s"
INSTANT: Final = "t"
INT: Final = "i"
BOOL: Final = "b"
NULL: Final = "n"
OBJECT: Final = "o"  # anything else: kept as is in a list, the integer is its position there
#: a logged call's argument that repeats a field of its row (its at, account or message): no integer kept
SAME_AT: Final = "T"
SAME_ACCOUNT: Final = "A"
SAME_MESSAGE: Final = "M"

_INT_MIN, _INT_MAX = NONE, (1 << 63) - 1


def pack(value: Any, texts: Codes[str], objects: list[Any]) -> tuple[str, int]:
    """A value as (kind, integer); :func:`unpack` gives it back."""
    t = type(value)
    if t is str:
        return STR, texts.code_of[value]
    if t is dt.datetime and value.tzinfo is dt.UTC:
        return INSTANT, instant(value)
    if value is None:
        return NULL, 0
    if t is bool:
        return BOOL, int(value)
    if t is int and _INT_MIN < value <= _INT_MAX:
        return INT, value
    objects.append(value)
    return OBJECT, len(objects) - 1


def unpack(kind: str, n: int, texts: Codes[str], objects: list[Any]) -> Any:
    if kind == STR:
        return texts.values[n]
    if kind == INSTANT:
        return at_of(n)
    if kind == INT:
        return n
    if kind == NULL:
        return None
    if kind == BOOL:
        return bool(n)
    return objects[n]
