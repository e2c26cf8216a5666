"""Options and the error report shared by every ``inmail`` subcommand."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

import click

from engine.errors import EngineError, InvalidInput
from engine.source.diagnostics import printable, render_all

policy_option = click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Policy file (default: ./policies.yaml if present, else the packaged policy).",
)
rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Rules folder (default: ./rules if present, else the packaged rules).",
)


def display_path(path: Path, explicit: str | Path | None = None) -> str:
    """The name a person should see for a file in diagnostics and summaries.

    A path the user typed is shown as typed; a file found by the default search is
    shown relative to the current folder when it is inside it (``policies.yaml``),
    else in full, so the packaged policy is recognisable as such.
    """
    if explicit is not None:
        return str(explicit)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class Failed(click.ClickException):
    """An engine error at the command line, shown as every refusal is: no traceback, its exit code.

    The ``inmail`` group raises it for any :class:`~engine.errors.EngineError` a command lets
    out (:class:`~engine.cli._refusal.InmailGroup`), so no command handles errors itself:
    a problem in a file prints its diagnostics and a count, anything else
    ``error: code: message`` and a ``help:`` line when a way out is known.
    """

    def __init__(self, exc: EngineError) -> None:
        super().__init__(exc.message)
        self.error = exc
        self.exit_code = exc.exit_code  # type: ignore[misc]  # click reads it per exception, not per class

    def show(self, file: IO[Any] | None = None) -> None:
        exc = self.error
        if isinstance(exc, InvalidInput):
            click.echo(render_all(exc.diagnostics), err=True)
            n = sum(1 for d in exc.diagnostics if d.severity == "error")
            click.echo(f"error: {n} problem{'s' if n != 1 else ''} found", err=True)
            return
        click.echo(f"error: {exc.code}: {printable(exc.message)}", err=True)
        if exc.help:
            click.echo(f"  help: {printable(exc.help)}", err=True)


def stdout_console() -> Any:
    """Rich on stdout: the terminal's width on a terminal; wide and plain into a file or a pipe."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console()
    return Console(width=200, no_color=True, highlight=False)
