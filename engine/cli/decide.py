"""`inmail decide`: ask the rules about one event, without a ledger, and see which rule answers.

This is how a policy editor tries a change to ``rules/`` or ``policies.yaml``:
name the event, set the facts that matter with ``--fact name=value`` and read
the outcome, the reason, the rule that decided and the requirement it cites.
Facts not given take the defaults of :mod:`engine.rules.defaults`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine.cli._common import display_path, policy_option, rules_option
from engine.codes import C
from engine.policy import Policy, load_policy
from engine.rules import catalog
from engine.rules.book import RuleBook
from engine.rules.conditions import fact_problem
from engine.rules.defaults import DEFAULTS_TEXT, Value, check_event, given_facts, what_if
from engine.source.diagnostics import hint
from engine.source.paths import PathProblem, path_kind, resolve_policy, resolve_rules


def parse_value(event: str, name: str, text: str, policy: Policy) -> Value:
    """Read ``text`` as the declared type of fact ``name``; InvalidCall with a clear message if it is not."""
    specs = catalog.CATALOG[event]
    if name not in specs:
        raise C.unknown_fact(f"`{event}` has no fact `{name}`", help=hint(name, specs))
    spec = specs[name]
    value: Value = text
    if spec.type == "bool" and text.strip().lower() in ("true", "false"):
        value = text.strip().lower() == "true"
    elif spec.type == "int" and text.strip().lstrip("-").isdigit():
        value = int(text.strip(), 10)
    problem = fact_problem(name, value, spec, policy)  # the one check, as for JSON facts
    if problem is not None:
        raise C.invalid_fact(problem[0], help=problem[1])
    return value


def _from_json(event: str, path: str, policy: Policy) -> dict[str, Value]:
    file = Path(path)
    try:
        kind = path_kind(file)
    except PathProblem as exc:
        raise C.invalid_fact(str(exc)) from None
    if kind not in ("file", "missing"):
        raise C.invalid_fact(f"`{path}` is not a regular file")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise C.invalid_fact(f"cannot read facts from `{path}`: {exc}") from None
    except ValueError:  # a number beyond Python's 4,300-digit limit for reading integers
        raise C.invalid_fact(
            f"a number in `{path}` has more digits than any fact can hold",
            help=f"facts are whole numbers up to {catalog.MAX_FACT_INT:,}",
        ) from None
    except RecursionError:
        raise C.invalid_fact(f"the JSON in `{path}` nests too deeply") from None
    if not isinstance(data, dict):
        raise C.invalid_fact(f"`{path}` must hold a JSON object of fact name to value")
    return given_facts(event, data, policy, f" (in `{path}`)")


def _shown(v: Value) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


@click.command(epilog=f"Defaults: {DEFAULTS_TEXT}.")
@click.argument("event")
@click.option(
    "--fact",
    "fact_args",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set one fact, e.g. --fact sender.premium=false (repeatable).",
)
@click.option(
    "--facts",
    "facts_file",
    type=click.Path(dir_okay=False),
    default=None,
    help='A JSON file of facts ({"sender.balance": 0, ...}); --fact wins over it.',
)
@policy_option
@rules_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def decide(
    event: str,
    fact_args: tuple[str, ...],
    facts_file: str | None,
    policy_path: str | None,
    rules_dir: str | None,
    fmt: str,
) -> None:
    """Decide one EVENT (send, respond, purchase, ...) from facts, and show the rule that decided."""
    check_event(event)
    ppath = resolve_policy(policy_path)
    policy = load_policy(ppath, display=display_path(ppath, policy_path))
    given: dict[str, Value] = _from_json(event, facts_file, policy) if facts_file else {}
    for arg in fact_args:
        name, sep, text = arg.partition("=")
        if not sep or not name.strip():
            raise C.invalid_fact(f"write a fact as NAME=VALUE, e.g. `sender.premium=false`, not `{arg}`")
        given[name.strip()] = parse_value(event, name.strip(), text, policy)
    rpath = resolve_rules(rules_dir)
    with RuleBook.load(Path(display_path(rpath, rules_dir)), policy, memo=False) as book:
        answer, rule = what_if(book, policy, event, given)
        read = book.facts_read(event)
        count = len(book.rules(event))
    if fmt == "json":
        click.echo(json.dumps(answer, indent=2))
        return
    facts, revision = answer["facts"], answer["revision"]
    headline = answer["outcome"] + (f" / {answer['reason']}" if answer["reason"] else "")
    click.echo(headline)
    click.echo(
        f"  rule:     {rule.id} ({', '.join(rule.requirements)}), "
        f"rule {rule.position + 1} of {count} in {rule.loc.file}:{rule.loc.line}"
    )
    click.echo(f"  why:      {rule.description}")
    click.echo(f"  effects:  {', '.join(answer['effects']) or 'none'}")
    click.echo("  facts the rules read:")
    for name in read:
        mark = "" if name in given else "  (default)"
        click.echo(f"    {name} = {_shown(facts[name])}{mark}")
    click.echo(f"  revision: {revision}")
