"""An append-only table of plain tuples that CPython's garbage collector does not walk row by row.

The in-memory store keeps every ledger entry, lot and logged call of a run:
millions of rows in a large replay. Kept in one list, each full collection
visits every row (a memory access each), and full collections come more often
as the heap grows, so the cost per event rose with the number of accounts
(bench/RESULTS.md, "Replay, second round", times what it cost). A tuple holding only plain
values (text, numbers, instants, other such tuples) is untracked by the
collector in the first collections it survives, and then so is a tuple of
such tuples: sealing every :data:`CHUNK` rows into a tuple leaves the
collector one pointer per chunk to visit, whatever the size of the table.

Rows must hold only plain values (no lists, dicts or objects), or their
chunk stays tracked: that costs time, never correctness.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

#: Rows per sealed chunk.
CHUNK: Final = 1024

Row = tuple[Any, ...]


class Rows:
    """Rows by position (0, 1, ...): append, read, iterate, and cut back to an earlier length (undo)."""

    __slots__ = ("chunks", "tail")

    def __init__(self) -> None:
        self.chunks: list[tuple[Row, ...]] = []
        self.tail: list[Row] = []

    def __len__(self) -> int:
        return len(self.chunks) * CHUNK + len(self.tail)

    def append(self, row: Row) -> int:
        """Add a row; return its position."""
        tail = self.tail
        tail.append(row)
        pos = len(self.chunks) * CHUNK + len(tail) - 1
        if len(tail) == CHUNK:
            self.chunks.append(tuple(tail))
            self.tail = []
        return pos

    def __getitem__(self, pos: int) -> Row:
        chunk = pos // CHUNK
        if chunk < len(self.chunks):
            return self.chunks[chunk][pos % CHUNK]
        return self.tail[pos - len(self.chunks) * CHUNK]

    def __iter__(self) -> Iterator[Row]:
        for chunk in self.chunks:
            yield from chunk
        yield from self.tail

    def cut(self, n: int) -> None:
        """Forget the rows from position ``n`` on (a unit taking back what it appended)."""
        while len(self) > n:
            if not self.tail:
                self.tail = list(self.chunks.pop())
            del self.tail[max(0, n - len(self.chunks) * CHUNK) :]
