"""Lot arithmetic on one account: the ledger does sums, the rules decide.

Nothing here chooses an outcome. The engine calls these functions only to
carry out effects a rule asked for (``consume_credit``, ``grant_allotment``,
``apply_cap``, ``credit_back``, ``expire_lot``, ``forfeit_all``,
``grant_purchase``), and each call appends :class:`~engine.model.LedgerEntry`
records that cite the rule. The functions cannot fail: every input was
validated before the first one runs, so an event is never half-applied.

The records these functions change (an account, its lots) are in
:mod:`engine.ledger.state`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from engine.ledger.state import AccountState, Cause, LotRec
from engine.model import Balance, LedgerEntry, build, usable_at


def _entry(
    acct: AccountState, at: dt.datetime, kind: str, lot: int | None, amount: int, cause: Cause, note: str = ""
) -> None:
    acct.balance += amount
    acct.entries.append(
        build(
            LedgerEntry,
            {
                "seq": acct.next_seq,
                "account": acct.name,
                "at": at,
                "kind": kind,
                "lot": lot,
                "amount": amount,
                "balance_after": acct.balance,
                "event": cause.event,
                "rule": cause.rule,
                "requirements": cause.requirements,
                "message": cause.message,
                "note": note,
            },
        )
    )
    acct.next_seq += 1


def _take(acct: AccountState, lot: LotRec, n: int, at: dt.datetime, kind: str, cause: Cause) -> None:
    acct.prior.setdefault(lot.id, (lot, lot.remaining))
    lot.remaining -= n
    acct.dirty[lot.id] = lot
    if not lot.remaining and not acct.keep_spent:
        acct.lots.remove(lot)
    _entry(acct, at, kind, lot.id, -n, cause)


def grant(
    acct: AccountState,
    at: dt.datetime,
    source: str,
    amount: int,
    expires_at: dt.datetime,
    kind: str,
    cause: Cause,
) -> LotRec | None:
    """Add a lot of ``amount`` credits usable from ``at`` until ``expires_at`` (exclusive)."""
    if amount <= 0:
        return None
    lot = LotRec(acct.next_lot, source, amount, amount, at, expires_at)
    acct.next_lot += 1
    acct.lots.append(lot)
    acct.dirty[lot.id] = lot
    _entry(acct, at, kind, lot.id, amount, cause)
    return lot


def spendable(acct: AccountState, at: dt.datetime) -> list[LotRec]:
    """Lots with credits usable at ``at``, in spend order."""
    return sorted((lot for lot in acct.lots if lot.remaining > 0 and usable_at(lot, at)), key=LotRec.order)


def consume(acct: AccountState, at: dt.datetime, cause: Cause) -> LotRec | None:
    """Use one credit from the lot that expires soonest (``consume_credit``); None if there is none."""
    best: LotRec | None = None
    for lot in acct.lots:
        if (
            lot.remaining > 0
            and usable_at(lot, at)
            and (
                best is None
                or lot.expires_at < best.expires_at
                or (lot.expires_at == best.expires_at and lot.order() < best.order())
            )
        ):
            best = lot
    if best is not None:
        _take(acct, best, 1, at, "consume", cause)
    return best


def capped_total(acct: AccountState, applies_to: Iterable[str]) -> int:
    """Credits that count toward the plan's cap (``cap.applies_to``)."""
    sources = set(applies_to)
    return sum(lot.remaining for lot in acct.lots if lot.source in sources)


def room_under_cap(acct: AccountState, cap: int, applies_to: Sequence[str]) -> int:
    """How many capped credits still fit (``trim_new`` cuts the new lot to this)."""
    return max(0, cap - capped_total(acct, applies_to))


def forfeit_over_cap(
    acct: AccountState, at: dt.datetime, cap: int, applies_to: Sequence[str], cause: Cause
) -> int:
    """``forfeit_oldest``: drop capped credits above ``cap``, soonest-expiring first; returns how many."""
    excess = capped_total(acct, applies_to) - cap
    dropped = 0
    if excess <= 0:
        return 0
    for lot in sorted(
        (lt for lt in acct.lots if lt.source in applies_to and lt.remaining > 0), key=LotRec.order
    ):
        n = min(lot.remaining, excess - dropped)
        _take(acct, lot, n, at, "forfeit_cap", cause)
        dropped += n
        if dropped == excess:
            break
    return dropped


def credit_back_original(acct: AccountState, lot_id: int | None, at: dt.datetime, cause: Cause) -> bool:
    """Return one credit to the lot it was consumed from (``credit_back.lot: original``).

    The credit keeps that lot's expiry. If the lot has already expired the
    credit is gone: an entry of amount 0 still records that the rule fired
    and where the credit went, and the balance does not change. Returns
    whether a usable credit came back.
    """
    lot = next((lt for lt in acct.lots if lt.id == lot_id), None)
    if lot is None or not usable_at(lot, at):
        _entry(acct, at, "credit_back", lot_id, 0, cause, note="original lot already expired")
        return False
    acct.prior.setdefault(lot.id, (lot, lot.remaining))
    lot.remaining += 1
    acct.dirty[lot.id] = lot
    _entry(acct, at, "credit_back", lot.id, 1, cause)
    return True


def expire(acct: AccountState, lot: LotRec, at: dt.datetime, cause: Cause) -> None:
    """``expire_lot``: what is left of ``lot`` is gone at its expiry (R09)."""
    if lot.remaining > 0:
        _take(acct, lot, lot.remaining, at, "expire", cause)


def forfeit_all(acct: AccountState, at: dt.datetime, cause: Cause) -> None:
    """``forfeit_all``: a cancel empties every lot (R12), soonest-expiring first."""
    for lot in sorted((lt for lt in acct.lots if lt.remaining > 0), key=LotRec.order):
        _take(acct, lot, lot.remaining, at, "forfeit_cancel", cause)


def prune(acct: AccountState, at: dt.datetime) -> None:
    """Forget lots that can never be used again (expired by ``at``) and recount the balance.

    Stores keep them for history; the working set stays small so every
    send scans a handful of lots, however old the account.
    """
    for lot in acct.lots:
        if lot.expires_at <= at:
            break
    else:  # nothing to drop: the balance already is the sum of these lots (every entry keeps it so)
        return
    acct.lots = [lot for lot in acct.lots if lot.expires_at > at]
    acct.balance = sum(lot.remaining for lot in acct.lots)


def next_expiry(acct: AccountState) -> dt.datetime | None:
    """The next instant a lot with credits left expires (only those raise ``expire`` events)."""
    soonest = None
    for lot in acct.lots:
        if lot.remaining > 0 and (soonest is None or lot.expires_at < soonest):
            soonest = lot.expires_at
    return soonest


def expiring(acct: AccountState, at: dt.datetime) -> list[LotRec]:
    """Lots with credits left that expire exactly at ``at``, in expiry order."""
    found = [lot for lot in acct.lots if lot.expires_at == at and lot.remaining > 0]
    if len(found) > 1:
        found.sort(key=LotRec.order)
    return found


def expiring_due(acct: AccountState, at: dt.datetime) -> list[LotRec] | None:
    """:func:`expiring` in the same pass that asks whether anything is to prune at ``at``.

    None: no lot expires at or before ``at``, so there is nothing to expire
    and :func:`prune` would change nothing (most due instants are a renewal
    or a reminder). Otherwise the lots to raise ``expire`` for (maybe none).
    """
    found: list[LotRec] | None = None
    for lot in acct.lots:
        if lot.expires_at <= at:
            if found is None:
                found = []
            if lot.expires_at == at and lot.remaining > 0:
                found.append(lot)
    if found is not None and len(found) > 1:
        found.sort(key=LotRec.order)
    return found


def balance_at(
    account: str, at: dt.datetime, lots: Iterable[LotRec], entries: Iterable[LedgerEntry]
) -> Balance:
    """The balance at a past instant, rebuilt from the append-only entries (R19).

    A lot counts if it is usable at ``at`` (granted at or before, expiring
    after); its remaining credits are the sum of its entries up to and
    including ``at``, so events at ``at`` itself are included.
    """
    usable = {lot.id: lot for lot in lots if usable_at(lot, at)}
    remaining = dict.fromkeys(usable, 0)
    for e in entries:
        if e.at <= at and e.lot in remaining:
            remaining[e.lot] += e.amount
    found = [usable[i].frozen(account, n) for i, n in remaining.items() if n > 0]
    found.sort(key=lambda lot: (lot.expires_at, lot.granted_at, lot.id))
    return Balance(account, at, sum(lot.remaining for lot in found), tuple(found))


def current_balance(acct: AccountState, at: dt.datetime) -> Balance:
    """The balance now, from the live lots (after the account was brought up to ``at``)."""
    lots = tuple(lot.frozen(acct.name) for lot in spendable(acct, at))
    return Balance(acct.name, at, sum(lot.remaining for lot in lots), lots)
