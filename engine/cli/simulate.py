"""``inmail simulate FILE...``: run scenarios, check their expectations (the main job).

Exit codes: 0 when every expectation holds, 1 when one fails, 2 for invalid
input (policy, rules or scenario), with diagnostics and never a traceback.
Every file is validated, and an engine opened for it (which checks the
rules against the scenario's policy), *before* anything runs, so bad input
never leaves a half-run simulation behind (in particular in a ``--db``).

The simulation's time comes from the scenario alone (the progress bar's clock
only decides whether to show itself).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click

from engine.cli._common import policy_option, rules_option, stdout_console
from engine.cli._progress import ProgressBar
from engine.errors import InvalidInput, InvalidScenario
from engine.scenario.load import Scenario, load_scenario
from engine.scenario.report import render_table, to_json
from engine.scenario.run import Runner, ScenarioResult
from engine.source.diagnostics import Diagnostic
from engine.source.paths import resolve_policy, resolve_rules


def _load_all(files: tuple[str, ...], policy: Any) -> list[Scenario]:
    """Validate every file; raise one InvalidScenario with every problem of every file."""
    problems: list[Diagnostic] = []
    scenarios: list[Scenario] = []
    for f in files:
        try:
            scenarios.append(load_scenario(f, policy))
        except InvalidInput as exc:
            problems.extend(d for d in exc.diagnostics if d not in problems)
    if problems:
        raise InvalidScenario(problems)
    return scenarios


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@policy_option
@rules_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for machines (ISO-8601 times).",
)
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help="Store to run against (default: in memory), e.g. sqlite:///run.db, to inspect afterwards.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE.png",
    help="Also draw each account's balance over time into a PNG (needs the `plot` extra).",
)
def simulate(
    files: tuple[str, ...],
    policy_path: str | None,
    rules_dir: str | None,
    fmt: str,
    db: str | None,
    plot_path: str | None,
) -> None:
    """Run scenario FILEs, print every step and check every `expect`.

    Exit 0 when all expectations hold, 1 when one fails, 2 for invalid input.
    """
    if db is not None and len(files) > 1:
        raise click.UsageError("--db takes one scenario file (each run needs an empty store)")
    if plot_path is not None:
        from engine.scenario.plot import _matplotlib

        if not plot_path.lower().endswith(".png"):
            raise click.BadParameter(
                f"the chart is a PNG image: name it `*.png`, not `{plot_path}`", param_hint="'--plot'"
            )
        _matplotlib()  # fail (exit 2) before running anything when the extra is missing
    policy = resolve_policy(policy_path)
    rules = resolve_rules(rules_dir)
    scenarios = _load_all(files, policy)
    results = _run_all(scenarios, rules, db)
    if fmt == "json":
        click.echo(to_json(results))
    else:
        render_table(results, stdout_console())
    if plot_path is not None:
        from engine.scenario.plot import write_png

        write_png(results, plot_path)
        if fmt != "json":
            click.echo(f"chart written to {plot_path}", err=True)
    sys.exit(0 if all(r.ok for r in results) else 1)


def _run_all(scenarios: list[Scenario], rules: Any, db: str | None) -> list[ScenarioResult]:
    """Run every scenario; with ``--db``, rehearse in memory first so a refusal writes nothing.

    A step the engine refuses (say, a response to a send that was denied, so no
    message exists) cannot be seen before running; the rehearsal finds it
    before the database is even opened.
    """
    from engine.core.engine import Engine

    with contextlib.ExitStack() as stack:
        total = sum(len(s.accounts) + len(s.steps) for s in scenarios) * (2 if db is not None else 1)
        bar = ProgressBar("simulating", total)
        stack.callback(bar.close)
        if db is not None:
            for scn in scenarios:
                with Engine.open(policy=scn.policy, rules=rules, log=False) as rehearsal:
                    Runner(scn, rehearsal).run(bar)
        runners: list[Runner] = []
        for scn in scenarios:  # open (and so check the rules for) every scenario before running any
            eng = stack.enter_context(Engine.open(db=db, policy=scn.policy, rules=rules))
            runner = Runner(scn, eng)
            runner.preflight()
            runners.append(runner)
        return [_run(r, bar) for r in runners]


def _run(runner: Runner, bar: ProgressBar) -> ScenarioResult:
    """A scenario's calls, committed in batches (a --db store is written in bulk; memory is not batched)."""
    with runner.eng.batch():
        return runner.run(bar)
