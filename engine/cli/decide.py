"""`inmail decide` (being built; see the issue tracker)."""

from __future__ import annotations

import click


@click.command()
def decide() -> None:
    """Not available yet."""
    raise click.UsageError("`inmail decide` is not available yet")
