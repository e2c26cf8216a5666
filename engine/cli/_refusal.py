"""Command-line misuse refused in the same shape as every other error: ``error: code: message``.

click reports usage mistakes (an unknown option, a missing argument, a bad
choice) in its own format with no stable code. The ``inmail`` group turns
each of them into a :class:`Refusal` that prints one line with a code a
script can match, a ``help:`` line pointing at ``--help``, and exits 2, like
an invalid policy or scenario does. The group is also where an engine error
a command lets out is reported (:class:`~engine.cli._common.Failed`): once,
for every command.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import IO, Any

import click

from engine.cli._common import Failed
from engine.codes import C
from engine.errors import EngineError
from engine.source.diagnostics import printable

#: click's exception classes -> the stable code of the refusal (most specific first).
_CODES: tuple[tuple[type[click.UsageError], C], ...] = (
    (click.NoSuchOption, C.unknown_option),
    (click.MissingParameter, C.missing_argument),
    (click.BadOptionUsage, C.invalid_option),
    (click.BadParameter, C.invalid_argument),
)


def usage_code(exc: click.UsageError) -> C:
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code
    text = exc.format_message()
    if text.startswith("No such command"):
        return C.unknown_command
    if text.startswith(("Got unexpected extra argument", "Got unexpected extra arguments")):
        return C.unexpected_argument
    return C.usage_error


class Refusal(click.ClickException):
    """A usage mistake, shown as ``error: code: message`` with a pointer to ``--help``; exit 2."""

    exit_code = 2

    def __init__(self, code: C, message: str, command: str | None, usage: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.command = command
        self.usage = usage
        self.suggestion: str | None = None

    def show(self, file: IO[Any] | None = None) -> None:
        if self.usage:
            click.echo(self.usage, err=True)
        click.echo(f"error: {self.code}: {printable(self.message)}", err=True)
        if self.suggestion:
            click.echo(f"  help: {self.suggestion}", err=True)
        elif self.command:
            click.echo(f"  help: run `{self.command} --help`", err=True)


def refusal(exc: click.UsageError) -> Refusal:
    """The refusal for one of click's usage errors."""
    command = exc.ctx.command_path if exc.ctx is not None else None
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return Refusal(C.missing_command, "name a command to run", command, usage=exc.format_message())
    text = " ".join(exc.format_message().split()).rstrip(".")
    text, _, suggestion = text.partition(". Did you mean ")  # click's own suggestion, for `help:`
    refused = Refusal(usage_code(exc), text[:1].lower() + text[1:], command)
    if suggestion:
        refused.suggestion = "did you mean " + suggestion.rstrip("?").replace("'", "`") + "?"
    return refused


class InmailGroup(click.Group):
    """The ``inmail`` group: every usage mistake below it becomes a :class:`Refusal`."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise refusal(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not as a traceback at exit
            return result
        except click.UsageError as exc:
            raise refusal(exc) from None
        except EngineError as exc:  # the one place a command's error is reported
            raise Failed(exc) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the reader went away (`| head`): nothing more to say
                raise
            raise OutputFailed(exc) from None


class OutputFailed(click.ClickException):
    """The output could not be written (a full disk, a device error): ``error: output_failed``, exit 2."""

    exit_code = 2

    def __init__(self, exc: OSError) -> None:
        super().__init__(exc.strerror or str(exc))

    def show(self, file: IO[Any] | None = None) -> None:
        with contextlib.suppress(OSError):  # what is still buffered cannot be written either: drop it
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        click.echo(f"error: {C.output_failed}: cannot write the output: {self.message}", err=True)
