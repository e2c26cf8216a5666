"""A progress bar on stderr for long runs (``simulate``, ``impact``), shown only where it helps.

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
            if time.monotonic() - self.started < PROGRESS_AFTER:
                return
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
        elif self.done % 64 and self.done != self.total:  # a redraw costs more than a step
            return
        self.progress.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def stderr_is_terminal() -> bool:
    """The bar is for people watching a terminal, never for pipes or logs."""
    return sys.stderr.isatty()
