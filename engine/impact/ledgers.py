"""The first difference between an account's two ledgers, as an impact report keeps it.

Decisions and final balances do not tell the whole story: an allotment raised
from 5 to 8 over a history that cancels before using the credits grants 6
more and forfeits 6 more, with the same decisions and the same final 0. The
ledgers say so, so an impact report compares them entry by entry at the end
of the replay and keeps only the first entry that differs (small, and enough
to say in words where the account's history parts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.impact.words import ledger_words
from engine.model import LedgerEntry

#: A ledger entry as two sides compare it: what moved, how much, into or out of which lot, when,
#: and the event that wrote it (for the words; not compared).
Written = tuple[str, int, int | None, dt.datetime, str]


def _written(e: LedgerEntry) -> Written:
    return (e.kind, e.amount, e.lot, e.at, e.event)


@dataclass(frozen=True)
class LedgerDifference:
    """The first entry of an account's ledger that differs (None: that side has no such entry)."""

    at: dt.datetime
    base: Written | None
    new: Written | None

    @classmethod
    def first(cls, base: Sequence[LedgerEntry], new: Sequence[LedgerEntry]) -> LedgerDifference | None:
        """Entry by entry, kind, amount, lot and time; None when the two ledgers are the same."""
        for i in range(max(len(base), len(new))):
            a = _written(base[i]) if i < len(base) else None
            b = _written(new[i]) if i < len(new) else None
            if a is None or b is None or a[:4] != b[:4]:
                return cls(min(w[3] for w in (a, b) if w is not None), a, b)
        return None

    def to_dict(self) -> dict[str, Any]:
        def shown(w: Written | None) -> dict[str, Any] | None:
            if w is None:
                return None
            return {"kind": w[0], "amount": w[1], "lot": w[2], "at": w[3].isoformat(), "event": w[4]}

        base, new = shown(self.base), shown(self.new)
        return {
            "step": "ledger",
            "where": None,
            "at": self.at.isoformat(),
            "call": (self.new or self.base or ("",))[-1],
            "base": base,
            "new": new,
            "text": ledger_words(self.at, base, new),
        }


def usable(base: list[tuple[dt.date, int]], new: list[tuple[dt.date, int]]) -> list[dict[str, Any]]:
    """All accounts' usable credits at the end of each day either side moved some, both sides."""
    held, out = {"base": 0, "new": 0}, []
    days = {"base": dict(base), "new": dict(new)}
    for day in sorted(days["base"].keys() | days["new"].keys()):
        for side in held:
            held[side] = days[side].get(day, held[side])
        out.append({"day": day.isoformat(), **held})
    return out
