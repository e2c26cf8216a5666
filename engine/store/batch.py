"""How far a batch of calls has got (:meth:`Engine.batch`); kept apart so every store can import it."""

from __future__ import annotations


class Batch:
    """A run of calls committed together (:meth:`Engine.batch`): how far it has got.

    ``committed`` calls are safe in the store; ``pending`` ones are applied
    but not yet committed (lost together if the batch fails or the process
    dies). ``every``: how many calls each commit takes at most.
    """

    __slots__ = ("committed", "every", "pending")

    def __init__(self, every: int) -> None:
        self.every = every
        self.committed = 0
        self.pending = 0

    def __repr__(self) -> str:
        return f"Batch(every={self.every}, committed={self.committed}, pending={self.pending})"
