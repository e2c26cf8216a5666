"""A progress bar on stderr for long runs (``simulate``, ``impact``, ``replay``), shown only where it helps.

It appears after about a second, only when stderr is a terminal, and
vanishes when done, so scripts and pipes see nothing. It is the only place
the commands look at a clock, and only a monotonic one, to know how long a
run has taken; the engine's own time comes from its inputs alone.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

#: Show the bar once a run has taken this long (seconds).
PROGRESS_AFTER = 1.0


class ProgressBar:
    """Call it once per unit of work (``bar()``, extra arguments ignored); ``close()`` at the end."""

    def __init__(self, label: str, total: int | None = None, enabled: bool | None = None) -> None:
        self.label = label
        self.total = total
        self.enabled = stderr_is_terminal() if enabled is None else enabled
        self.started = time.monotonic()
        self.done = 0
        self.progress: Progress | None = None
        self.task: Any = None

    def __call__(self, *_: int) -> None:
        self.done += 1
        if not self.enabled:
            return
        if self.progress is None:
            if not self._start():
                return
        elif self.done % 64 and self.done != self.total:  # a redraw costs more than a step
            return
        assert self.progress is not None
        self.progress.update(self.task, completed=self.done)

    def at(self, done: int, total: int) -> None:
        """``done`` of ``total`` units so far: for work in a few long units (a cluster's partitions),
        told as often as the caller looks, so the bar (and its clock) shows before the first is done."""
        self.done, self.total = done, total
        if self.enabled and (self.progress is not None or self._start()):
            assert self.progress is not None
            self.progress.update(self.task, completed=done, total=total)

    def _start(self) -> bool:
        """Show the bar once the run has taken :data:`PROGRESS_AFTER`; whether it shows."""
        if time.monotonic() - self.started < PROGRESS_AFTER:
            return False
        self.progress = Progress(
            TextColumn(self.label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task(self.label, total=self.total)
        return True

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def stderr_is_terminal() -> bool:
    """The bar is for people watching a terminal, never for pipes or logs."""
    return sys.stderr.isatty()
