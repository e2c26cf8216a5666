"""`inmail simulate` (being built; see the issue tracker)."""

from __future__ import annotations

import click


@click.command()
def simulate() -> None:
    """Not available yet."""
    raise click.UsageError("`inmail simulate` is not available yet")
