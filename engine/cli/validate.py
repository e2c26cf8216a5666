"""`inmail validate` and `inmail plans`: the two commands a policy editor runs after an edit.

``validate`` is the editor's compiler: it loads the policy and the rules
exactly as the engine would, and either prints one line
saying what it found or every problem with its line and column. ``plans``
shows the account types side by side (R20) so an edit can be checked by eye.
Both find the policy the way every command does (:mod:`engine.source.paths`).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine.cli._common import display_path, policy_option, rules_option
from engine.policy import Policy, load_policy
from engine.policy.words import PLAN_COLUMNS
from engine.rules.book import RuleBook
from engine.source.diagnostics import Diagnostic, render_all
from engine.source.paths import resolve_policy, resolve_rules

#: How many hex digits of a revision a person sees (enough to tell two edits apart).
SHORT_REVISION = 12


def _load(policy_path: str | None) -> tuple[Policy, str]:
    path = resolve_policy(policy_path)
    shown = display_path(path, policy_path)
    return load_policy(path, display=shown), shown


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _check_rules(rules_dir: str | None, policy: Policy) -> tuple[str, str, list[Diagnostic]]:
    """Load the rules against ``policy``; return (summary, revision, warnings).

    Raises :class:`~engine.errors.InvalidRules` when a rules file is wrong, which
    the ``inmail`` group turns into diagnostics.
    """
    shown = display_path(resolve_rules(rules_dir), rules_dir)
    # Load through the name the person sees, so diagnostics read `rules/send.yaml:3:5`.
    with RuleBook.load(Path(shown), policy) as book:
        counts = {event: len(book.rules(event)) for event in book.events}
        warnings = list(book.warnings)
        revision = book.revision
    files = sum(1 for n in counts.values() if n)
    summary = f"{shown}: valid ({_plural(sum(counts.values()), 'rule')} in {_plural(files, 'file')}"
    if warnings:
        summary += f", {_plural(len(warnings), 'warning')}"
    return summary + ")", revision, warnings


@click.command()
@policy_option
@rules_option
def validate(policy_path: str | None, rules_dir: str | None) -> None:
    """Check the policy and the rules for mistakes.

    Prints one line when everything is valid (exit 0). Otherwise prints every
    problem as FILE:LINE:COLUMN: CODE: MESSAGE with a `help:` line where a fix
    is known, and exits 2. Warnings are printed but do not fail the check.
    """
    policy, shown = _load(policy_path)
    line = f"{shown}: valid ({_plural(len(policy.plans), 'plan')}"
    rules_summary, revision, warnings = _check_rules(rules_dir, policy)
    if warnings:
        click.echo(render_all(warnings), err=True)
    click.echo(f"{line}); {rules_summary}; revision {revision[:SHORT_REVISION]}")


#: Column order of `inmail plans`; also the keys of each JSON object (a stable contract).
PLAN_FIELDS = ("plan", "premium", "monthly_allotment", "cap", "credit_lifetime_days", "purchasable")


#: Narrowest table width; below it rich would drop columns.
MIN_WIDTH = 80


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _print_table(policy: Policy, shown: str) -> None:
    # rich is imported here so that other commands do not pay for it.
    from rich import box
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table

    table = Table(title=f"Plans in {shown}", title_justify="left", box=box.SIMPLE_HEAD)
    numbers = {"monthly_allotment", "cap", "credit_lifetime_days"}
    for name in PLAN_FIELDS:
        table.add_column(
            PLAN_COLUMNS[name],
            style="bold" if name == "plan" else None,
            justify="right" if name in numbers else "left",
            no_wrap=name == "plan",  # a long title wraps onto a second line in a narrow terminal
        )
    for row in policy.plan_rows():
        table.add_row(
            row["plan"],
            _yes(row["premium"]),
            str(row["monthly_allotment"]),
            str(row["cap"]),
            f"{row['credit_lifetime_days']} days",
            _yes(row["purchasable"]),
        )
    table.caption = (
        f"{PLAN_COLUMNS['monthly_allotment']}: granted at each renewal; "
        f"{PLAN_COLUMNS['cap']}: the most credits one can hold.\n"
        f"Bought credits last {policy.purchase.credit_lifetime_days} days and do not count toward the cap."
    )
    table.caption_justify = "left"
    console = Console(highlight=False)
    if not console.is_terminal:  # a file or a pipe has no width to fit: the table is printed whole
        whole = Measurement.get(console, console.options.update(max_width=1_000), table).maximum
        console = Console(highlight=False, width=max(console.width, whole))
    elif console.width < MIN_WIDTH:  # rich would squeeze columns away; let the terminal wrap instead
        console = Console(highlight=False, width=MIN_WIDTH)
    console.print(table)


@click.command()
@policy_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people, or JSON (a list of objects with stable keys) for programs.",
)
def plans(policy_path: str | None, fmt: str) -> None:
    """Compare the account types side by side.

    For each plan: whether it is Premium, the monthly allotment, the cap on
    the balance, how long a credit lasts, and whether extra credits can be
    bought.
    """
    policy, shown = _load(policy_path)
    if fmt == "json":
        click.echo(json.dumps(policy.plan_rows(), indent=2))
        return
    _print_table(policy, shown)


__all__ = ["PLAN_FIELDS", "plans", "validate"]
