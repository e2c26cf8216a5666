"""The event registry: each kind declared once, and every door derived from it.

The toy-kind test is the recipe of docs/architecture.md ("Adding an event
kind") carried out: in a copy of the package it adds one module to
``engine/events`` and one rules file, touches nothing else, and finds the new
kind in the scenario reader, the rules, the event log, the log's scenario
export, an impact report and the OpenAPI document.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine import Engine, EngineError
from engine.events import CALLS, KINDS, _generate
from engine.rules import catalog

ROOT = Path(__file__).resolve().parents[2]


def test_the_engine_methods_are_generated_from_the_kinds() -> None:
    """``engine/core/_methods.py`` is what ``python -m engine.events._generate`` writes."""
    assert _generate.TARGET.read_text(encoding="utf-8") == _generate.source(), (
        "engine/core/_methods.py is stale: run `python -m engine.events._generate`"
    )
    for kind in CALLS:
        assert callable(getattr(Engine, kind.method)), kind.method


def test_the_rules_vocabulary_is_the_kinds() -> None:
    assert tuple(KINDS) == catalog.EVENT_KINDS
    for kind in KINDS.values():
        assert list(catalog.CATALOG[kind.name]) == [f.name for f in kind.all_facts]
        assert catalog.OUTCOMES[kind.name] == kind.outcomes
        assert catalog.EFFECTS[kind.name] == dict(kind.effects)
    assert {k.name for k in CALLS} == set(KINDS) - {"renew", "expire", "remind"}
    assert KINDS.by_method("set_payment") is KINDS["payment"] is KINDS.call("payment")


def test_each_kind_derives_its_argument_tables_once_and_right() -> None:
    """The door reads these on every call, so they are made when a kind is declared; they must say
    what the arguments say (and a copy of a kind made with other arguments gets its own)."""
    for kind in KINDS.values():
        assert kind.positional == tuple(a for a in kind.args if a.required)
        assert kind.optional == tuple(a for a in kind.args if not a.required)
        assert kind.names == tuple(a.name for a in kind.args)
        assert kind.instants == tuple(a.name for a in kind.args if a.type == "instant")
    assert KINDS["subscribe"].instants == ("billing_anchor",)
    fewer = dataclasses.replace(KINDS["send"], args=KINDS["send"].args[:2])
    assert fewer.names == ("sender", "recipient") and fewer.optional == ()
    assert fewer == dataclasses.replace(KINDS["send"], args=KINDS["send"].args[:2])


def test_a_call_kind_is_found_by_its_name_or_its_method_and_nothing_else() -> None:
    assert KINDS.known_call("payment") is KINDS.known_call("set_payment") is KINDS["payment"]
    for name in ("renew", "expire", "remind", "withdraw", "Payment", " payment", ""):
        assert KINDS.known_call(name) is None
    with Engine.open() as eng:
        eng.subscribe("alice", "career", at="2026-01-01")
        by_method = eng.call("set_payment", {"account": "alice", "status": "expired"}, at="2026-01-02")
        by_name = eng.call("payment", {"account": "alice", "status": "valid"}, at="2026-01-03")
        assert (by_method.event, by_name.event) == ("payment", "payment")
        assert [c.method for c in eng.log()] == ["subscribe", "set_payment", "set_payment"]


@pytest.mark.parametrize(
    ("event", "args", "code"),
    [
        ("withdraw", {"account": "alice"}, "unknown_event"),
        ("renew", {"account": "alice"}, "unknown_event"),  # raised by the timeline, not callable
        ("cancel", {"account": "alice", "reason": "x"}, "invalid_argument"),
        ("purchase", {"account": "alice"}, "invalid_argument"),
        ("cancel", ["alice"], "invalid_argument"),
        (7, {}, "invalid_name"),
        ("", {}, "invalid_name"),
        (" cancel", {"account": "alice"}, "unknown_event"),
        (["cancel"], {"account": "alice"}, "invalid_name"),
        ("purchase", {"account": "alice", "credits": "5"}, "invalid_quantity"),
        ("connect", {"account": "alice", "other": "alice"}, "self_connection"),
    ],
)
def test_a_call_by_kind_is_checked_like_a_method(event: object, args: object, code: str) -> None:
    with Engine.open() as eng:
        eng.subscribe("alice", "career", at="2026-01-01")
        with pytest.raises(EngineError) as err:
            eng.call(event, args, at="2026-01-02")  # type: ignore[arg-type]
        assert err.value.code == code
        assert [c.method for c in eng.log()] == ["subscribe"]


def test_a_call_by_kind_is_the_method() -> None:
    with Engine.open() as a, Engine.open() as b:
        for eng in (a, b):
            eng.subscribe("alice", "career", at="2026-01-01")
        one = a.purchase("alice", 5, at="2026-01-02", key="k")
        other = b.call("purchase", {"account": "alice", "credits": 5}, at="2026-01-02", key="k")
        assert (one.outcome, one.rule, one.balance) == (other.outcome, other.rule, other.balance)
        again = b.call(KINDS["purchase"], {"account": "alice", "credits": 5}, at="2026-01-02", key="k")
        assert again.id == other.id


TOY_KIND = '''
"""``note``: a toy event kind, added by the test of the recipe."""

from engine.events.base import Arg, EventKind, fact

KIND = EventKind(
    name="note",
    order=120,
    actor="account",
    summary="Leave a note on the account",
    doc="Leave a note on ``account``; the rules skip a long one.",
    route="/accounts/{account}/note",
    args=(
        Arg("account", "account", "an account name", "The member.", scenario="account", http="path"),
        Arg("text", "name", "the note", "What the note says.", scenario="text", http="text", example="hi"),
    ),
    extra_facts=lambda policy, a: {"note.long": len(a["text"]) > 10},
    facts=(fact("note.long", "bool", "the note is longer than ten characters"),),
    outcomes=("noted", "skipped"),
    reasons=("too_long",),
    effects={},
)
'''

TOY_RULES = """\
event: note
rules:
  - id: long-notes-skipped
    requirement: R01
    description: A long note is skipped.
    when: {note.long: true}
    then: {outcome: skipped, reason: too_long}
  - id: notes-kept
    requirement: R01
    description: Any other note is kept.
    then: {outcome: noted}
"""

TOY_SCENARIO = """\
title: notes
accounts:
  alice: {plan: career, since: 2026-01-01}
timeline:
  - at: 2026-01-02
    note: {account: alice, text: short}
    expect: {outcome: noted}
  - at: 2026-01-03
    note: {account: alice, text: a note far too long}
    expect: {outcome: skipped, reason: too_long}
"""

TOY_RUN = """\
import datetime as dt
import json
from engine import Engine, compare_policies
from engine.scenario.export import log_to_scenario
from engine.scenario.load import load_scenario
from engine.scenario.run import run_scenario
from engine.service.app import create_app
from engine.service.state import ServiceConfig

import engine

out = {"where": engine.__file__}
result = run_scenario(load_scenario("toy.yaml"))
out["scenario"] = [[s.outcome, s.reason, s.rule] for s in result.steps]
with Engine.open(db="toy.db") as eng:
    eng.subscribe("alice", "career", at="2026-01-01")
    d = eng.call("note", {"account": "alice", "text": "hello"}, at="2026-01-02", key="n1")
    out["decision"] = [d.event, d.outcome, d.rule]
    out["log"] = [[c.method, c.args.get("text")] for c in eng.log()]
    exported = log_to_scenario(eng.log(), "exported")
open("exported.yaml", "w").write(exported)
out["exported"] = [s.outcome for s in run_scenario(load_scenario("exported.yaml")).steps]
report = compare_policies(base_policy="policies.yaml", new_policy="policies.yaml", db="toy.db")
data = report.to_dict()
out["impact"] = [data["decisions"], data["changed"], data["rules"].get("note/notes-kept")]
doc = create_app(ServiceConfig()).openapi()
op = doc["paths"]["/v1/accounts/{account}/note"]["post"]
out["openapi"] = [op["operationId"], sorted(doc["components"]["schemas"]["NoteBody"]["properties"])]
print(json.dumps(out))
"""


def test_a_new_event_kind_needs_only_its_module_and_its_rules(tmp_path: Path) -> None:
    """The recipe: one module in engine/events, one rules file; every door finds the kind."""
    skip = shutil.ignore_patterns("__pycache__", "*.so")
    shutil.copytree(ROOT / "engine", tmp_path / "engine", ignore=skip)
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    (tmp_path / "features").mkdir()
    shutil.copy(ROOT / "features" / "REQUIREMENTS.md", tmp_path / "features")
    shutil.copy(ROOT / "policies.yaml", tmp_path)
    (tmp_path / "engine" / "events" / "note.py").write_text(TOY_KIND)
    (tmp_path / "rules" / "note.yaml").write_text(TOY_RULES)
    (tmp_path / "toy.yaml").write_text(TOY_SCENARIO)
    (tmp_path / "run.py").write_text(TOY_RUN)
    done = subprocess.run(
        [sys.executable, "run.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["scenario"] == [["noted", None, "notes-kept"], ["skipped", "too_long", "long-notes-skipped"]]
    assert out["decision"] == ["note", "noted", "notes-kept"]
    assert out["log"] == [["subscribe", None], ["note", "hello"]]
    assert out["exported"] == ["noted"]
    assert out["where"] == str(tmp_path / "engine" / "__init__.py")
    assert out["impact"] == [2, 0, {"base": 1, "new": 1}], textwrap.shorten(json.dumps(out), 400)
    assert out["openapi"] == ["note", ["at", "text"]]


def test_without_at_a_call_happens_at_the_engines_clock_and_a_retry_at_the_first_calls() -> None:
    """The engine owns "no ``at``": a new call reads the clock an edge gave it, once its key is known
    unused; a retry under that key takes the first call's instant and gets the first answer."""
    now = [dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)]
    with Engine.open(clock=lambda: now[0]) as eng:
        first = eng.subscribe("alice", "career", key="s1")
        assert first.at == now[0]
        now[0] += dt.timedelta(hours=5)
        again = eng.subscribe("alice", "career", key="s1")
        assert (again.id, again.at) == (first.id, first.at)
        with pytest.raises(EngineError) as err:
            eng.subscribe("alice", "business", key="s1")
        assert err.value.code == "idempotency_key_reused"
        bought = eng.purchase("alice", 5)
        assert bought.at == now[0]
        assert [c.method for c in eng.log()] == ["subscribe", "purchase"]


def test_without_a_clock_at_is_needed() -> None:
    with Engine.open() as eng:
        with pytest.raises(EngineError) as err:
            eng.subscribe("alice", "career")
        assert err.value.code == "invalid_argument"
        assert eng.accounts() == []
    with pytest.raises(EngineError) as err:
        Engine.open(clock="now")  # type: ignore[arg-type]
    assert err.value.code == "invalid_argument"
