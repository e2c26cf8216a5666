"""The ``inmail`` command: validate policies, compare plans, decide, simulate, print editor schemas.

Each subcommand lives in its own module; this one only assembles the group.
No subcommand handles errors: the group catches every engine error once and
reports it as diagnostics or ``error: code: message`` on stderr with its exit
code, never as a traceback (:class:`~engine.cli._refusal.InmailGroup`).
"""

from __future__ import annotations

import click

from engine import __version__
from engine.cli._refusal import InmailGroup
from engine.cli.decide import decide
from engine.cli.docs import docs
from engine.cli.impact import impact
from engine.cli.ledger import balance, history, log, replay
from engine.cli.schema import schema_command
from engine.cli.serve import serve
from engine.cli.simulate import simulate
from engine.cli.validate import plans, validate
from engine.cli.workbench import workbench


@click.group(cls=InmailGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="inmail")
def main() -> None:
    """InMail credit policy engine: policy as data, decisions that explain themselves."""


main.add_command(validate)
main.add_command(plans)
main.add_command(decide)
main.add_command(simulate)
main.add_command(balance)
main.add_command(history)
main.add_command(log)
main.add_command(replay)
main.add_command(schema_command)
main.add_command(docs)
main.add_command(impact)
main.add_command(serve)
main.add_command(workbench)
