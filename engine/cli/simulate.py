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
import os
import sys
from typing import Any

import click

from engine.cli._common import policy_option, rules_option, stdout_console
from engine.cli._progress import ProgressBar
from engine.errors import EngineError, InvalidInput, InvalidScenario
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


#: calls per transaction of a ``--db`` run (:meth:`Engine.batch`)
EVERY = 1000
#: the files SQLite may make beside a database
_SIDES = ("", "-wal", "-shm", "-journal")


def _run_all(scenarios: list[Scenario], rules: Any, db: str | None) -> list[ScenarioResult]:
    """Run every scenario once; with ``--db``, in batches of :data:`EVERY` calls.

    A step only the engine can refuse (say, a response to a send that was
    denied, so no message exists) is seen only when it is run, and a refused
    run must leave no database behind and no call in one. The batch that is
    open when the refusal comes is rolled back; before a first commit that
    would leave steps to come (a scenario of more than :data:`EVERY` calls),
    the whole scenario is rehearsed in memory, so a refusal still comes
    before anything is committed; and a new SQLite file this run made is
    removed again. Any other database that holds no store yet (a PostgreSQL
    database, an empty file) would keep the tables the run made: there the
    scenario is rehearsed in memory before the database is opened, as every
    ``--db`` run was before batches held their calls.
    """
    from engine.core.engine import Engine

    made = _new_file(db)
    try:
        with contextlib.ExitStack() as stack:
            rehearse = db is not None and made is None and not _holds_store(db)
            total = sum(len(s.accounts) + len(s.steps) for s in scenarios) * (2 if rehearse else 1)
            bar = ProgressBar("simulating", total)
            stack.callback(bar.close)
            if rehearse:
                for scn in scenarios:
                    _rehearse(scn, rules, bar)
            runners: list[Runner] = []
            for scn in scenarios:  # open (and so check the rules for) every scenario before running any
                eng = stack.enter_context(Engine.open(db=db, policy=scn.policy, rules=rules))
                runner = Runner(scn, eng)
                runner.preflight()
                runners.append(runner)
            return [_run(r, bar, rules, rehearsed=rehearse) for r in runners]
    except InvalidScenario:
        for path in made or ():
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise


def _rehearse(scn: Scenario, rules: Any, bar: ProgressBar | None = None) -> None:
    """Run ``scn`` in memory, keeping nothing: raises :class:`InvalidScenario` where the engine refuses."""
    from engine.core.engine import Engine

    with Engine.open(policy=scn.policy, rules=rules, log=False) as rehearsal:
        Runner(scn, rehearsal).run(bar)


def _run(runner: Runner, bar: ProgressBar, rules: Any, rehearsed: bool) -> ScenarioResult:
    """A scenario's calls, committed in batches (a --db store is written in bulk; memory is not batched).

    Reads inside the batch (the accounts due before each step, balances, the
    histories at the end) see its calls without committing them. Unless the
    scenario was ``rehearsed`` already, it is rehearsed (with ``rules``) before
    the batch's first commit that leaves steps to come, so that a refused
    step never leaves part of the run in the store.
    """
    with runner.eng.batch(EVERY) as b:
        if not rehearsed:
            scn = runner.s

            def rehearse_once() -> None:
                b.before_commit = None
                _rehearse(scn, rules)

            b.before_commit = rehearse_once
        return runner.run(bar)


def _new_file(db: str | None) -> tuple[str, ...] | None:
    """The SQLite file (and the files beside it) a run into ``db`` would make, or None when ``db``
    names no file or one that is there already (or a file beside it is)."""
    if db is None or not db.strip() or db == "memory":
        return None
    path = db if "://" not in db else db[len("sqlite:///") :] if db.startswith("sqlite:///") else None
    if path is None or not path:
        return None
    try:
        names = tuple(os.path.abspath(path + side) for side in _SIDES)
        if any(os.path.lexists(name) for name in names):
            return None
    except (OSError, ValueError):  # a name the OS cannot look up: the open says why
        return None
    return names


def _holds_store(db: str) -> bool:
    """Whether ``db`` already holds an inmail store (opened without creating one, and closed)."""
    from engine.store.base import open_store

    try:
        open_store(db, create=False).close()
    except EngineError:
        return False
    return True
