"""The in-memory store: plain dicts and lists, the fast default.

Account records live here between calls and the engine mutates them in
place, so a call costs no copying and no SQL. It is safe because the engine
validates a call completely before the first change and the ledger's
arithmetic cannot fail afterwards; a unit therefore needs no undo. (If a
rule-engine failure interrupts a call after some due system events were
applied, those stay applied, each one whole: they were due anyway.)

A unit holds a lock, so threads of one process may share an engine; nothing
is shared with other processes: use a database URL for that.
"""

from __future__ import annotations

import datetime as dt
import heapq
import threading

from engine.ledger.state import AccountState, LotRec, MsgRec
from engine.model import Decision, LedgerEntry, usable_at


class MemoryStore:
    """Implements both :class:`~engine.store.base.Store` and :class:`~engine.store.base.Unit`."""

    def __init__(self) -> None:
        self._accounts: dict[str, AccountState] = {}
        self._lots: dict[str, dict[int, LotRec]] = {}
        self._history: dict[str, list[LedgerEntry]] = {}
        self._messages: dict[str, MsgRec] = {}
        self._pairs: dict[tuple[str, str], MsgRec] = {}
        self._connections: set[tuple[str, str]] = set()
        self._keys: dict[str, Decision] = {}
        self._reminded: dict[str, MsgRec] = {}
        #: (next due instant, account) with lazy deletion: an entry is live if it matches the account
        self._due: list[tuple[dt.datetime, str]] = []
        self._queued: dict[str, dt.datetime | None] = {}
        self._lock = threading.RLock()

    # --- Store ----------------------------------------------------------------------------

    def unit(self) -> MemoryStore:
        """The store is its own unit: nothing to begin, commit or roll back (see the module docstring)."""
        return self

    def __enter__(self) -> MemoryStore:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def accounts(self) -> list[str]:
        return sorted(self._accounts)

    def due_accounts(self, to: dt.datetime) -> list[str]:
        """Looks only at the front of the due queue: the cost is the number of accounts due."""
        live: list[tuple[dt.datetime, str]] = []
        heap = self._due
        while heap and heap[0][0] <= to:
            item = heapq.heappop(heap)
            if self._queued.get(item[1]) == item[0]:  # else stale: the account moved on since
                live.append(item)
        for item in live:  # still queued until save() records a new due instant
            heapq.heappush(heap, item)
        return sorted({name for _, name in live})

    def history(self, account: str) -> list[LedgerEntry] | None:
        found = self._history.get(account)
        return None if found is None else list(found)

    def lots_and_entries(self, account: str, at: dt.datetime) -> tuple[list[LotRec], list[LedgerEntry]]:
        lots = [lot for lot in self._lots.get(account, {}).values() if usable_at(lot, at)]
        return lots, [e for e in self._history.get(account, ()) if e.at <= at]

    def reminded(self, at: dt.datetime | None) -> list[str]:
        found = [m for m in self._reminded.values()
                 if at is None or (m.reminded_at is not None and m.reminded_at <= at)]
        found.sort(key=lambda m: (m.reminded_at, m.sender, m.seq))
        return [m.id for m in found]

    def close(self) -> None:
        """Nothing to release; the data goes with the object."""

    # --- Unit -----------------------------------------------------------------------------

    def recorded(self, key: str) -> Decision | None:
        return self._keys.get(key)

    def remember(self, key: str, account: str, decision: Decision) -> None:
        self._keys[key] = decision

    def account(self, name: str, spent: bool = True) -> AccountState | None:
        return self._accounts.get(name)

    def new_account(self, acct: AccountState) -> None:
        self._accounts[acct.name] = acct
        self._lots[acct.name] = {}
        self._history[acct.name] = []

    def save(self, acct: AccountState) -> None:
        if acct.dirty:
            self._lots[acct.name].update(acct.dirty)
            acct.dirty.clear()
        if acct.entries:
            self._history[acct.name].extend(acct.entries)
            acct.entries.clear()
        due = acct.next_due
        if self._queued.get(acct.name) != due:
            self._queued[acct.name] = due
            if due is not None:
                heapq.heappush(self._due, (due, acct.name))

    def message(self, message_id: str) -> MsgRec | None:
        return self._messages.get(message_id)

    def message_exists(self, message_id: str) -> bool:
        return message_id in self._messages

    def add_message(self, msg: MsgRec) -> None:
        self._messages[msg.id] = msg
        self.update_message(msg)

    def update_message(self, msg: MsgRec) -> None:
        if msg.awaiting:
            self._pairs[(msg.sender, msg.recipient)] = msg
        if msg.reminded_at is not None:
            self._reminded[msg.id] = msg

    def awaiting(self, sender: str, recipient: str) -> bool:
        msg = self._pairs.get((sender, recipient))
        return msg is not None and msg.awaiting

    def connected(self, a: str, b: str) -> bool:
        return (a, b) in self._connections

    def connect(self, a: str, b: str, at: dt.datetime) -> None:
        self._connections.add((a, b))
        self._connections.add((b, a))
