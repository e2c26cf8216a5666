"""Rendering simulation results: a rich table for people, JSON for machines.

The table interleaves the scenario's steps with what happened between them
(renewals, expiries, cap forfeits, reminders, account set-ups), so a policy
editor can follow every credit; a failed expectation is shown on its step
with expected vs got and the scenario line, then listed again as
``file:line:col`` so an editor can jump to it.

JSON shape (a contract, see docs/semantics.md): one scenario gives
``{"title", "steps": [...], "balances", "expectations": {"passed", "failed"}}``;
several give ``{"files": [{"file", "title", "steps", "balances", "expectations"}, ...],
"expectations": {"passed", "failed"}}`` (totals), so a machine never has to
guess whether it holds one result or many from the top-level type alone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pendulum
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.codes import C
from engine.scenario.load import Event
from engine.scenario.run import ScenarioResult, StepResult, SystemEvent, show


def to_json(results: Sequence[ScenarioResult]) -> str:
    """The JSON document for one or several scenario results."""
    doc: dict[str, Any]
    if len(results) == 1:
        doc = results[0].to_dict()
    else:
        doc = {
            "files": [{"file": r.scenario.file, **r.to_dict()} for r in results],
            "expectations": {
                "passed": sum(r.passed for r in results),
                "failed": sum(r.failed for r in results),
            },
        }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def render_table(results: Sequence[ScenarioResult], console: Console, details: bool | None = None) -> None:
    """Print each scenario's table (one file, or ``details``), its failures, a summary line and a total.

    Several files give one summary line each (and their failures) unless
    ``details`` asks for every table too.
    """
    tables = len(results) == 1 if details is None else details
    for result in results:
        if tables:
            console.print(_table(result, narrow=console.width < NARROW))
        for f in result.failures:
            console.print(
                Text(
                    f"{f.loc}: {C.expectation_failed}: {f.describe()} (step at line {f.step_line})",
                    style="bold red",
                )
            )
        console.print(_summary(result))
        if tables:
            console.print()
    if len(results) > 1:
        passed = sum(r.passed for r in results)
        failed = sum(r.failed for r in results)
        bad = sum(1 for r in results if not r.ok)
        style = "bold red" if failed else "bold green"
        console.print(
            Text(
                f"total: {len(results)} scenarios, {passed} expectations passed, "
                f"{failed} failed ({bad} scenario{'s' if bad != 1 else ''} failing)",
                style=style,
            )
        )


def _summary(result: ScenarioResult) -> Text:
    word, style = ("PASS", "bold green") if result.ok else ("FAIL", "bold red")
    return Text(
        f"{word} {result.scenario.file}: {result.passed} expectations passed, {result.failed} failed",
        style=style,
    )


#: Below this many columns the table drops its borders and folds long cells instead of cutting them.
NARROW = 120


def _table(result: ScenarioResult, narrow: bool = False) -> Table:
    tz = result.scenario.policy.timezone
    table = Table(
        title=result.scenario.title,
        title_justify="left",
        show_lines=False,
        expand=False,
        box=box.SIMPLE_HEAD if narrow else box.HEAVY_HEAD,
        padding=(0, 1 if not narrow else 0),
        pad_edge=not narrow,
    )
    for name, justify in (
        ("line", "right"),
        ("at", "left"),
        ("event", "left"),
        ("outcome", "left"),
        ("reason", "left"),
        ("balance after", "left"),
        ("rule", "left"),
    ):
        # no cell is cut short with an ellipsis: times and outcomes stay whole, the rest folds
        table.add_column(
            name,
            justify=justify,  # type: ignore[arg-type]
            no_wrap=name in ("line", "at", "outcome"),
            overflow="fold",
            min_width={"outcome": 13}.get(name),
        )
    for step in result.steps:
        event = step.step.event  # a start grant follows the subscribe that brought it about
        own_first = event is None or event.kind.subscription != "start"
        for ev in (*step.system_events, *(step.own_events if own_first else ())):
            for row in _system_rows(ev, tz):
                table.add_row(*row, style="dim")
        _step_rows(table, step, tz)
        for ev in () if own_first else step.own_events:
            for row in _system_rows(ev, tz):
                table.add_row(*row, style="dim")
    for ev in result.trailing:
        for row in _system_rows(ev, tz):
            table.add_row(*row, style="dim")
    return table


def when(at: dt.datetime, tz: str) -> str:
    """A compact local time: the date alone at midnight, else date and minutes."""
    local = pendulum.instance(at).in_timezone(tz)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return local.strftime("%Y-%m-%d")
    if local.second:
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def _balances(names: Sequence[str], balances: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {balances[n]}" for n in names if n in balances)


def _step_rows(table: Table, step: StepResult, tz: str) -> None:
    """The step's row; a failed expectation is written into the cell it is about, in red."""
    event = step.step.event
    text = event.describe() if event is not None else "checkpoint"
    if event is not None and step.message and _unnamed_new_message(event):
        text += f" ({step.message})"  # the id the engine numbered the message with
    cells = {
        "event": Text(text),
        "outcome": Text(step.outcome or ""),
        "reason": Text(step.reason or ""),
        "balance": Text(_balances(step.involved, step.balances)),
    }
    for f in step.failures:
        where = {"outcome": "outcome", "reason": "reason", "status": "outcome", "reminded": "event"}.get(
            f.key, "balance"
        )
        cell = cells[where]
        if f.key == "status":
            cell.append(f" status {show(f.got)}")
        elif f.key == "reminded":
            cell.append(f" reminded {show(f.got)}")
        elif f.key.startswith("balance.") and f.key[8:] not in step.involved:
            cell.append(f" {f.key[8:]} {show(f.got)}")
        who = f"{f.key[8:]} " if f.key.startswith("balance.") and len(step.involved) > 1 else ""
        cell.append(f" ✗ expected {who}{show(f.expected)}", style="bold red")
    line = Text(str(step.step.line), style="bold red" if step.failures else "")
    table.add_row(
        line,
        when(step.step.at, tz),
        cells["event"],
        cells["outcome"],
        cells["reason"],
        cells["balance"],
        step.rule or "",
    )


def _unnamed_new_message(event: Event) -> bool:
    """The step makes a message it did not name (a send without ``id``), so the table names it."""
    return any(a.type == "new_message" and event.args[a.name] is None for a in event.kind.args)


def _system_rows(ev: SystemEvent, tz: str) -> list[tuple[str, ...]]:
    """One row per system event; a renewal that hit the cap also gets a ``cap forfeit`` row."""
    at = when(ev.at, tz)
    line = str(ev.line) if ev.line is not None else ""
    who = ev.account or ""
    granted = sum(c.amount for c in ev.changes if c.amount > 0)
    forfeited = -sum(c.amount for c in ev.changes if c.kind == "forfeit_cap")
    after = f"{who} {ev.balance}" if who and ev.balance is not None else ""
    before_cap = f"{who} {ev.balance + forfeited}" if forfeited and ev.balance is not None else after
    rule = ", ".join(ev.rules)
    if ev.label:
        desc = ev.label
    elif ev.event == "renew":
        desc = f"renew {who}" + (f" +{granted}" if ev.outcome == "renewed" else "")
    elif ev.event == "expire":
        lost = -sum(c.amount for c in ev.changes if c.amount < 0)
        desc = f"expire {who}" + (f" -{lost}" if lost else "")
    elif ev.event == "remind":
        desc = f"remind {ev.message or ''} (from {who})"
    else:
        desc = f"{ev.event} {who}" + (f" +{granted}" if granted else "")
    rows: list[tuple[str, ...]] = [(line, at, desc, ev.outcome, ev.reason or "", before_cap, rule)]
    if forfeited:
        rows.append(("", at, f"cap forfeit {who} -{forfeited}", "forfeited", "", after, f"{rule}: apply_cap"))
    return rows
