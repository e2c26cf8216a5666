"""``inmail impact``: what a policy edit changes, before it ships.

The same calls (scenario files, or a seeded synthetic year) are played
under the base policy and the new one, each from an empty store, and the
report says what moved, headline sentences first: decisions that changed
and how, rules fired, the credits per plan, and the accounts whose ledger,
decisions or final balance differ, with the first step where each one's
history parts. ``--format markdown`` is the same report as a pull-request
comment. Exit 0 when the report is made; with ``--fail-on-change``, 1 when
any account or any plan's total changed (a gate for a policy repository);
2 for invalid input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from engine.cli._common import stdout_console
from engine.cli._gitbase import base_side
from engine.cli._progress import ProgressBar
from engine.codes import C
from engine.impact import ImpactReport, compare_policies, to_markdown
from engine.impact.words import plan_title

#: How many of the most affected accounts the table lists (JSON lists them all).
SHOWN_ACCOUNTS = 10


@click.command("impact")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--base",
    "base_policy",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="OLD.yaml|git:REV",
    help="The policy before the edit: a file, or git:REV for the --policy file (./policies.yaml) as it "
    "was at a git revision (then the rules too, unless --base-rules says otherwise).",
)
@click.option(
    "--base-rules",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR|git:REV",
    help="The rules before the edit: a folder, or git:REV for the --rules folder (./rules) at a git "
    "revision (default: --base's revision when it is git:REV, else the same rules as the new side).",
)
@click.option(
    "--policy",
    "new_policy",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="NEW.yaml",
    help="The edited policy (default: ./policies.yaml, else the packaged one).",
)
@click.option(
    "--rules",
    "new_rules",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="The edited rules (default: ./rules, else the packaged ones).",
)
@click.option(
    "--synthetic",
    type=click.IntRange(1, 1_000_000),
    default=None,
    metavar="N",
    help="Play a seeded year of N accounts (the benchmark's workload) instead of FILES.",
)
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help="Play a store's event log (its real history) instead of FILES; the store is only read.",
)
@click.option(
    "--log-dir",
    default=None,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Play a store's event log from partition files (`inmail log --format parquet`) instead of "
    "FILES; each worker reads its own file.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 1024),
    default=1,
    show_default=True,
    metavar="N",
    help="With --synthetic, --db or --log-dir: alone, split the accounts over N local worker processes "
    "(--cluster local:N: same report, faster); with --cluster, how many partitions (default: 4 per "
    "local worker, 16 on a scheduler).",
)
@click.option(
    "--cluster",
    default=None,
    metavar="local[:N]|tcp://HOST:PORT",
    help="Run the partitions on Dask: N local worker processes (--jobs N alone is local:N), or a "
    "running scheduler. Needs: pip install -e '.[dask]'.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="markdown: a pull-request comment (headline, per-plan table, accounts collapsed).",
)
@click.option(
    "--fail-on-change",
    is_flag=True,
    help="Exit 1 when any account changed (ledger, decisions or final balance) or any plan's total differs.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE.png",
    help="Chart of all usable credits over time, base vs new (needs: pip install -e '.[plot]').",
)
def impact(
    files: tuple[str, ...],
    base_policy: str,
    base_rules: str | None,
    new_policy: str | None,
    new_rules: str | None,
    synthetic: int | None,
    db: str | None,
    log_dir: str | None,
    jobs: int,
    cluster: str | None,
    fmt: str,
    fail_on_change: bool,
    plot_path: str | None,
) -> None:
    """Compare the base policy with the new one over FILES (scenarios), --synthetic N, --db URL or
    --log-dir DIR."""
    if sum((bool(files), synthetic is not None, db is not None, log_dir is not None)) != 1:
        raise click.UsageError("give scenario FILES, --synthetic N, --db URL or --log-dir DIR (one of them)")
    if (jobs > 1 or cluster is not None) and files:
        raise click.UsageError(
            "--jobs and --cluster split a --synthetic year or a history (--db, --log-dir); scenario files "
            "run in one process"
        )
    if plot_path is not None and Path(plot_path).suffix.lower() != ".png":
        raise click.BadParameter(
            f"the chart is a PNG image: name it `*.png`, not `{plot_path}`", param_hint="'--plot'"
        )
    base = base_side(base_policy, base_rules, new_policy, new_rules)  # git:REV: files kept until the end
    base_policy, base_rules = base.policy, base.rules
    split = jobs > 1 or cluster is not None
    bar = ProgressBar("partitions" if split else "comparing")  # split: workers tell only when they finish
    try:
        report = compare_policies(
            base_policy=base_policy,
            new_policy=new_policy,
            base_rules=base_rules or new_rules,
            new_rules=new_rules,
            scenarios=list(files),
            synthetic=synthetic,
            db=db,
            log_dir=log_dir,
            progress=None if split else bar,
            jobs=jobs,
            cluster=cluster,
            partition_progress=bar.at if split else None,
        )
    finally:
        bar.close()
    base.announce(fmt)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif fmt == "markdown":
        click.echo(to_markdown(report.to_dict()), nl=False)
    else:
        _table(report)
    if plot_path is not None:
        _plot(report, Path(plot_path))
    sys.exit(1 if fail_on_change and report.anything_changed else 0)


def _table(r: ImpactReport) -> None:
    """The report for a person at a terminal, in the order of the JSON: the headline first."""
    console = stdout_console()
    doc = r.to_dict()
    accounts = doc["accounts"]
    tone = "red" if doc["losses"]["accounts"] else "green" if not r.anything_changed else ""
    for sentence in doc["headline"]:
        console.print(escape(sentence), style=tone or None)
    console.print(
        f"base {r.base.revision} -> new {r.new.revision}: {r.decisions} decisions compared, "
        f"{r.changed} changed, {r.not_applicable} not applicable; "
        f"{len(accounts)} account{'s' if len(accounts) != 1 else ''} changed"
    )
    if r.transitions:
        t = Table(title="How decisions changed")
        for col in ("base", "new", "count", "example"):
            t.add_column(col, justify="right" if col == "count" else "left")
        for (a, b), n in r.ranked_transitions():
            t.add_row(escape(a), escape(b), str(n), escape(r.examples[(a, b)][1]))
        console.print(t)
    rules = sorted(k for k in set(r.base.rules) | set(r.new.rules) if r.base.rules[k] != r.new.rules[k])
    if rules:
        t = Table(title="Rules that fired a different number of times")
        for col in ("rule", "base", "new"):
            t.add_column(col, justify="left" if col == "rule" else "right")
        for k in rules:
            t.add_row(k, str(r.base.rules[k]), str(r.new.rules[k]))
        console.print(t)
    moved = [(p, m, v) for p, ms in doc["totals"].items() for m, v in ms.items() if v["base"] or v["new"]]
    if moved:
        t = Table(title="Credits per plan")
        for col in ("plan", "movement", "base", "new", "change"):
            t.add_column(col, justify="left" if col in ("plan", "movement") else "right")
        for p, m, v in moved:
            change = f"{v['change']:+d}" if v["change"] else ""
            t.add_row(escape(plan_title(p)), m.replace("_", " "), str(v["base"]), str(v["new"]), change)
        console.print(t)
    if accounts:
        t = Table(title=f"Most affected accounts ({min(len(accounts), SHOWN_ACCOUNTS)} of {len(accounts)})")
        for col in ("account", "plan", "sends", "granted", "balance", "changed", "first different step"):
            t.add_column(col, justify="right" if col in ("sends", "granted", "balance") else "left")
        for name, a in list(accounts.items())[:SHOWN_ACCOUNTS]:
            first = a["first_divergence"] or {}
            step = str(first.get("text", "")) + (f" ({first['where']})" if first.get("where") else "")
            t.add_row(
                escape(name),
                escape(plan_title(a["plan"])),
                _pair(a["sends"]["base"], a["sends"]["new"]),
                _pair(a["granted"]["base"], a["granted"]["new"]),
                _pair(a["base"], a["new"]),
                ", ".join(a["changed"]),
                escape(step),
            )
        console.print(t)
    console.print(f"Replay: {escape(doc['replay']['text'])}.", style="dim")


def _pair(base: int | None, new: int | None) -> str:
    return _n(new) if base == new else f"{_n(base)} -> {_n(new)}"


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


def _plot(r: ImpactReport, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise C.missing_dependency(
            "--plot needs matplotlib, which is not installed",
            help="pip install 'inmail-engine[plot]' (in a checkout: pip install -e '.[plot]')",
        ) from None
    fig, ax = plt.subplots(figsize=(9, 4))
    for label, side in (("base", r.base), ("new", r.new)):
        points = side.daily()
        ax.step(
            [d for d, _ in points],  # type: ignore[arg-type]  # matplotlib's stubs miss dates
            [v for _, v in points],
            where="post",
            label=f"{label} ({side.revision})",
        )
    ax.set_ylabel("usable credits, all accounts")
    ax.legend()
    fig.autofmt_xdate()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise C.unwritable_output(f"cannot write `{path}`: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
