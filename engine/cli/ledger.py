"""`inmail balance` and `inmail history`: look inside a store that a run left behind.

``inmail simulate --db FILE`` keeps its store so a run can be inspected
afterwards; these two commands are that inspection, for people who would
rather not write Python: the balance at an instant with the lots behind it
(R19), and the append-only ledger with the rule behind every line.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.table import Table

from engine.cli._clock import now
from engine.cli._common import policy_option, rules_option, stdout_console
from engine.codes import C
from engine.scenario.report import when
from engine.source.paths import PathProblem, path_kind, resolve_policy, resolve_rules

db_option = click.option(
    "--db",
    "db",
    required=True,
    metavar="URL",
    help="The store: a SQLite file, sqlite:///FILE or a postgresql:// URL.",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output for people (table) or programs (json).",
)


def _open(db: str, policy_path: str | None, rules_dir: str | None) -> Any:
    """Open an existing store; a SQLite file that is not there is an error, not a new empty store."""
    from engine.core.engine import Engine

    path = db[len("sqlite:///") :] if db.startswith("sqlite:///") else (None if "://" in db else db)
    try:
        kind = None if path is None else path_kind(path)
    except PathProblem as exc:
        raise C.invalid_database(str(exc)) from None
    if kind is not None and kind != "file":
        raise C.store_not_found(f"no store at `{path}` (run `inmail simulate FILE --db {db}` first?)")
    return Engine.open(
        db=db, policy=resolve_policy(policy_path), rules=resolve_rules(rules_dir), create=False
    )


@click.command()
@click.argument("account")
@db_option
@click.option(
    "--at",
    "at",
    default=None,
    metavar="TIME",
    help="Instant to ask about (ISO 8601; a date is read in the policy's time zone). Default: now.",
)
@format_option
@policy_option
@rules_option
def balance(
    account: str, db: str, at: str | None, fmt: str, policy_path: str | None, rules_dir: str | None
) -> None:
    """Show ACCOUNT's usable credits at an instant (default: now), and the lots behind them.

    An instant after the account's last event counts what falls due by then
    (renewals, expiries), exactly as the next call would, without storing it:
    this command only reads.
    """
    with _open(db, policy_path, rules_dir) as eng:
        b = eng.balance(account, at=now() if at is None else at)
        tz = eng.policy.timezone
    if fmt == "json":
        click.echo(json.dumps(b.to_dict(), indent=2))
        return
    table = Table(title=f"{b.account}: {b.credits} credits at {when(b.at, tz)}")
    for col in ("lot", "source", "remaining", "of", "granted", "expires"):
        table.add_column(col, justify="right" if col in ("lot", "remaining", "of") else "left", no_wrap=True)
    for lot in b.lots:
        table.add_row(
            str(lot.id),
            lot.source,
            str(lot.remaining),
            str(lot.amount),
            when(lot.granted_at, tz),
            when(lot.expires_at, tz),
        )
    stdout_console().print(table)


@click.command()
@click.argument("account")
@db_option
@format_option
@policy_option
@rules_option
def history(account: str, db: str, fmt: str, policy_path: str | None, rules_dir: str | None) -> None:
    """Show ACCOUNT's ledger: every credit that moved, oldest first, with the rule behind it."""
    with _open(db, policy_path, rules_dir) as eng:
        entries = eng.history(account)
        tz = eng.policy.timezone
    if fmt == "json":
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    table = Table(title=f"ledger of {account}")
    for col in ("#", "at", "kind", "lot", "amount", "balance", "event", "rule (requirements)"):
        table.add_column(
            col,
            justify="right" if col in ("#", "lot", "amount", "balance") else "left",
            no_wrap=col != "rule (requirements)",
        )
    for e in entries:
        table.add_row(
            str(e.seq),
            when(e.at, tz),
            e.kind,
            "" if e.lot is None else str(e.lot),
            f"{e.amount:+d}",
            str(e.balance_after),
            e.event,
            f"{e.rule} ({' '.join(e.requirements)})" if e.requirements else e.rule,
        )
    stdout_console().print(table)


@click.command("log")
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl", "scenario", "parquet"]),
    default="table",
    show_default=True,
    help="table for people; jsonl: one JSON object per call, for programs; "
    "scenario: a scenario file of this history, to run and edit; "
    "parquet: partition files for `inmail impact --log-dir` (with --partitions and --out).",
)
@click.option("--account", default=None, metavar="NAME", help="Only this account's calls.")
@click.option("--since", default=None, metavar="TIME", help="Only calls at or after this instant.")
@click.option(
    "--partitions",
    type=click.IntRange(1, 1024),
    default=None,
    metavar="P",
    help="With --format parquet: how many partition files (accounts a call ties stay in one).",
)
@click.option(
    "--out",
    default=None,
    type=click.Path(),
    metavar="DIR",
    help="With --format parquet: the folder to create for the partition files (it must not exist).",
)
@policy_option
@rules_option
def log(
    db: str,
    fmt: str,
    account: str | None,
    since: str | None,
    partitions: int | None,
    out: str | None,
    policy_path: str | None,
    rules_dir: str | None,
) -> None:
    """Show the store's event log: every decided call (denials included), oldest first.

    Each line holds what is needed to make the call again (its method and
    arguments, its idempotency key) and what was decided, under which
    revision of the policy and rules. ``--format parquet`` writes the whole
    log instead, as partition files a Dask cluster's workers read.
    """
    if fmt == "parquet":
        _partition_files(db, partitions, out, account, since)
        return
    if partitions is not None or out is not None:
        raise click.UsageError("--partitions and --out go with --format parquet")
    with _open(db, policy_path, rules_dir) as eng:
        calls = eng.log(account=account, since=since)
        complete = eng.log_complete
        tz = eng.policy.timezone
    if not complete:
        click.echo(
            "note: this store was made before the event log; calls before its upgrade are not in it", err=True
        )
    if fmt == "jsonl":
        for c in calls:
            click.echo(json.dumps(c.to_dict()))
        return
    if fmt == "scenario":
        from engine.scenario.export import log_to_scenario

        revisions = sorted({c.revision for c in calls})
        click.echo(log_to_scenario(calls, f"history of {db}", ", ".join(revisions) or None), nl=False)
        return
    table = Table(title=f"event log ({len(calls)} call{'s' if len(calls) != 1 else ''})")
    for col in ("#", "at", "call", "account", "decided", "rule", "key"):
        table.add_column(col, justify="right" if col == "#" else "left", no_wrap=col in ("#", "at"))
    for c in calls:
        shown = ", ".join(
            f"{k}={v}" for k, v in c.args.items() if k not in ("at", "account", "sender") and v is not None
        )
        decided = c.outcome + (f"/{c.reason}" if c.reason else "")
        table.add_row(
            str(c.seq), when(c.at, tz), f"{c.method}({shown})", c.account, decided, c.rule, c.key or ""
        )
    stdout_console().print(table)


def _partition_files(
    db: str, parts: int | None, out: str | None, account: str | None, since: str | None
) -> None:
    """``inmail log --format parquet``: the whole log as partition files (:mod:`engine.impact.files`)."""
    from engine.impact.files import MANIFEST, write_partitions

    if out is None or parts is None:
        raise click.UsageError("--format parquet needs --partitions P and --out DIR (a new folder)")
    if account is not None or since is not None:
        raise click.UsageError("partition files hold the whole log: leave out --account and --since")
    m = write_partitions(db, parts, out)
    files = f"{m.parts} partition file{'s' if m.parts != 1 else ''}"
    click.echo(f"wrote {m.calls} logged calls into {files} in {out} (manifest: {MANIFEST})")


@click.command("replay")
@db_option
@click.option(
    "--cluster",
    default=None,
    metavar="local[:N]|tcp://HOST:PORT",
    help="Replay partitions of the accounts on Dask: N local worker processes, or a running scheduler "
    "(its workers open the store themselves). Needs: pip install -e '.[dask]'.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 1024),
    default=None,
    metavar="N",
    help="How many partitions (default: 4 per local worker, 16 on a scheduler); alone, it means "
    "--cluster local:N.",
)
def replay(db: str, cluster: str | None, jobs: int | None) -> None:
    """Rebuild the store's ledger from its event log, in memory, and check it is the stored one.

    Every logged call is made again, under the policy and rules it was decided
    under (the store keeps their texts). Exit 0 when every decision and every
    ledger entry comes out the same, 1 with the first difference, 2 when the
    store cannot be replayed (no store, or one made before the event log).
    """
    from engine.cli._progress import ProgressBar
    from engine.impact.replay import replay_store

    split = cluster is not None or (jobs or 0) > 1  # --jobs N alone: N local workers
    bar = ProgressBar("partitions", enabled=None if split else False)
    try:  # a store that is not there is refused, and never created
        report = replay_store(db, cluster=cluster, parts=jobs or 0, partition_progress=bar.at)
    finally:
        bar.close()
    if report.same:

        def n(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 else 's'}"

        entries = f"{report.entries} ledger entr{'y' if report.entries == 1 else 'ies'}"
        click.echo(
            f"replayed {n(report.calls, 'call')} under {n(report.revisions, 'revision')}: "
            f"{n(report.accounts, 'account')}, {entries}, all the same as stored"
        )
        return
    click.echo(f"difference: {report.difference}")
    sys.exit(1)
