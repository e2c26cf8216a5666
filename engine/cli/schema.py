"""``inmail schema``: print the JSON Schema an editor uses to complete and check a YAML file."""

from __future__ import annotations

import click

from engine.codes import C
from engine.rules import catalog
from engine.schema import KINDS, render, schema, schema_path
from engine.source.diagnostics import hint


@click.command("schema")
@click.argument("kind", type=click.Choice(KINDS))
@click.option(
    "--event",
    default=None,
    metavar="EVENT",
    help="With `rules`: only the rules of this event kind (send, respond, ...).",
)
@click.option(
    "--path",
    "show_path",
    is_flag=True,
    help="Print where the shipped file is instead (for an editor's settings).",
)
def schema_command(kind: str, event: str | None, show_path: bool) -> None:
    """Print the JSON Schema (draft-07) of KIND: policy, rules or scenario.

    The same schemas ship with the engine; the YAML files in this project
    name them on their first line, so an editor with yaml-language-server
    completes keys and underlines mistakes as you type.
    """
    if event is not None and kind != "rules":
        raise C.invalid_argument("--event narrows the `rules` schema only")
    if event is not None and event not in catalog.EVENT_KINDS:
        raise C.unknown_event(f"there is no event kind `{event}`", help=hint(event, catalog.EVENT_KINDS))
    if show_path:
        click.echo(str(schema_path(kind)))
        return
    click.echo(render(schema(kind, event)), nl=False)
