"""How far a batch of calls has got (:meth:`Engine.batch`); kept apart so every store can import it."""

from __future__ import annotations

from collections.abc import Callable


class Batch:
    """A run of calls committed together (:meth:`Engine.batch`): how far it has got.

    ``committed`` calls are safe in the store; ``pending`` ones are applied
    but not yet committed (lost together if the batch fails or the process
    dies). ``every``: how many calls each commit takes at most.
    ``before_commit``, if set, is called before each commit that ``every``
    pending calls make (not the one at the end of the batch): a bulk job
    that must not commit part of its work until it knows the rest will be
    taken (``inmail simulate --db``) checks there; if it raises, nothing
    pending is committed, and the call that filled the batch raises it.
    """

    __slots__ = ("before_commit", "committed", "every", "pending")

    def __init__(self, every: int) -> None:
        self.every = every
        self.committed = 0
        self.pending = 0
        self.before_commit: Callable[[], None] | None = None

    def full(self) -> bool:
        """Whether the calls pending make a commit (after ``before_commit``, which may raise)."""
        if self.pending < self.every:
            return False
        if self.before_commit is not None:
            self.before_commit()
        return True

    def __repr__(self) -> str:
        return f"Batch(every={self.every}, committed={self.committed}, pending={self.pending})"
