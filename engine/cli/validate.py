"""`inmail validate` and `inmail plans` (being built)."""

from __future__ import annotations

import click


@click.command()
def validate() -> None:
    """Not available yet."""
    raise click.UsageError("`inmail validate` is not available yet")


@click.command()
def plans() -> None:
    """Not available yet."""
    raise click.UsageError("`inmail plans` is not available yet")
