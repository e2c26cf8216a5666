"""``inmail docs``: the living documentation, a static site that opens from disk."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli._common import policy_option, rules_option
from engine.codes import C
from engine.source.paths import resolve_policy, resolve_rules


@click.command("docs")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder to write the site into (created if needed).",
)
@click.option(
    "--results",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    metavar="FILE",
    help="Cucumber JSON of a feature run (pytest tests/bdd --cucumberjson=FILE): pass/fail per scenario.",
)
@click.option(
    "--coverage",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    metavar="FILE",
    help="The same run's rule counts (INMAIL_BDD_COVERAGE_OUT=FILE): how often each rule decided.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True),
    default=".",
    show_default=True,
    help="The project folder (its features/ and examples/scenarios/).",
)
@policy_option
@rules_option
def docs(
    out_dir: str,
    results: str | None,
    coverage: str | None,
    root: str,
    policy_path: str | None,
    rules_dir: str | None,
) -> None:
    """Build the living documentation: each requirement, its scenarios, its rules, their decisions.

    Open DIR/index.html in a browser; nothing else is needed. Without
    --results the scenarios show as "not run"; without --coverage the rule
    counts as "not measured".
    """
    from engine.docs import build_site, check_site, gather

    base = Path(root)
    if not (base / "features").is_dir():
        raise C.file_not_found(
            f"`{base}` has no features/ folder; run from the project folder or pass --root"
        )
    src = gather(
        base,
        resolve_policy(policy_path),
        resolve_rules(rules_dir),
        Path(results) if results else None,
        Path(coverage) if coverage else None,
    )
    pages = build_site(Path(out_dir), src)
    problems = check_site(Path(out_dir), src)
    for problem in problems:
        click.echo(f"error: broken_site: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    traced = len(src.traces)
    rules = sum(len(rf.rules) for rf in src.files.values())
    click.echo(
        f"wrote {len(pages)} pages to {out_dir} ({traced} of {rules} rules traced from the examples); "
        f"open {Path(out_dir) / 'index.html'}"
    )
