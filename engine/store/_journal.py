"""The undo journal of a unit that changes records in place: the in-memory store's, and a SQLite batch's.

Both apply a call to records they hold (account states, dicts, row lists)
and take it back if the call fails, so that it applies whole or not at all.
Each write first notes how to undo it, as a plain tuple (a tuple per write,
not a closure: the journal is built on every call and almost never played):
an account's fields (the containers the engine changes in place copied), a
dict's key as it was, a list's length. A store adds kinds of its own from
:data:`OWN` on, and plays them where :func:`take_back` says it did not.
"""

from __future__ import annotations

from array import array
from operator import attrgetter
from typing import Any, Final

from engine.ledger.state import ACCOUNT_FIELDS, AccountState
from engine.store._packed import Ragged, Table

#: a key that was not in its dict
MISSING: Final = object()
#: the kinds of entries this module plays; a store's own kinds are OWN, OWN + 1, ...
ACCOUNT: Final = 0
KEY: Final = 1
CUT: Final = 2
OWN: Final = 3

_fields = attrgetter(*ACCOUNT_FIELDS)
#: the account fields that are containers the engine changes in place: noted as copies
_COPIED: Final = [
    i for i, name in enumerate(ACCOUNT_FIELDS) if name in ("lots", "reminders", "dirty", "entries")
]


def account(acct: AccountState) -> tuple[Any, ...]:
    """How to put ``acct``'s fields back as they are now."""
    fields = list(_fields(acct))
    for i in _COPIED:
        fields[i] = fields[i].copy()
    return (ACCOUNT, acct, fields)


def key(table: dict[Any, Any], name: Any) -> tuple[Any, ...]:
    """How to put ``table[name]`` back as it is now (absent, if it is)."""
    return (KEY, table, name, table.get(name, MISSING))


def cut(rows: list[Any] | array[int] | Table | Ragged, length: int) -> tuple[Any, ...]:
    """How to forget what is appended to ``rows`` after its first ``length`` rows."""
    return (CUT, rows, length)


def take_back(entry: tuple[Any, ...]) -> bool:
    """Undo one entry of this module's kinds; False for a kind of the store's own (it plays those)."""
    what = entry[0]
    if what == ACCOUNT:
        acct, fields = entry[1], entry[2]
        for lot, remaining in acct.prior.values():  # the lots this call changed, as they were
            lot.remaining = remaining
        for name, value in zip(ACCOUNT_FIELDS, fields, strict=True):
            setattr(acct, name, value)
    elif what == KEY:
        table, name, before = entry[1], entry[2], entry[3]
        if before is MISSING:
            table.pop(name, None)
        else:
            table[name] = before
    elif what == CUT:
        rows = entry[1]
        if isinstance(rows, (Table, Ragged)):
            rows.cut(entry[2])
        else:  # a list, or an array (a history's positions)
            del rows[entry[2] :]
    else:
        return False
    return True
