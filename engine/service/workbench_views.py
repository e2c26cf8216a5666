"""The workbench's views of a draft: the policy as a form, a rules file as a decision table, edits
through either, the schemas the editor completes from, and trying a decision.

These routes are what lets a person who does not write YAML change the policy:
the form and the table read the draft's text, and a change made in them comes
back as a new text in which only the changed value differs
(:func:`engine.source.roundtrip.apply_edits`), so the YAML view, the form and
the table are three views of one draft and the file keeps its comments.
Nothing here writes the folder. The routes are plain ``def``: loading and
compiling a draft takes a while, and FastAPI runs such routes on its thread
pool, so a slow check never stalls the service's ``/v1`` routes on the event
loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter

from engine.codes import C
from engine.errors import InvalidInput
from engine.policy import Policy, load_policy, load_policy_text
from engine.policy.form import apply_form_edits, policy_form
from engine.rules import catalog
from engine.rules.book import RuleBook
from engine.rules.conditions import resolve_choices
from engine.rules.defaults import check_event, complete_facts, given_facts, what_if
from engine.rules.table import decision_table, explain
from engine.schema import schema
from engine.service import workbench_models as wm
from engine.service.folder import MAX_TEXT, POLICY, Folder
from engine.service.state import Service
from engine.service.stores import BoundStore
from engine.source.roundtrip import EditRefused, apply_edits
from engine.store.base import open_store

_BAD = wm.problem_responses(400, 403, 404, 409, 413, 415, 422)


def add_views(r: APIRouter, svc: Service, folder: Folder, stores: Sequence[BoundStore] = ()) -> None:
    """Add the draft's views to the workbench's router (``/wb/api``); ``stores``: the bound stores."""

    @r.get("/usage", response_model=wm.UsageOut)
    def usage() -> dict[str, Any]:
        """Where each plan is used: the folder's scenarios naming it, and an account on it in the bound
        store, so that removing a plan can say what it would break before anything is saved."""
        plans: dict[str, dict[str, Any]] = {}
        for name, path in folder.scenarios().items():
            for plan in _plans_named(path):
                plans.setdefault(plan, {"scenarios": [], "account": None})["scenarios"].append(name)
        for store in reversed(stores):  # the first store's example wins
            with closing(open_store(store.url, create=False)) as db:
                for plan, account in db.plans_in_use().items():
                    plans.setdefault(plan, {"scenarios": [], "account": None})["account"] = account
        return {"store": bool(stores), "plans": plans}

    @r.get("/schemas", response_model=wm.SchemasOut)
    def schemas() -> dict[str, Any]:
        """The JSON Schemas of the files the page edits, for the editor's completion and hover."""
        return _schemas()

    @r.get("/catalog", response_model=wm.CatalogOut)
    def facts() -> dict[str, Any]:
        """Each event's facts: type, choices (under the saved policy), default, meaning."""
        policy = svc.engine.policy
        out = {}
        for event in catalog.EVENT_KINDS:
            defaults = complete_facts(event, {}, policy)
            out[event] = [
                {
                    "name": s.name,
                    "type": s.type,
                    "doc": s.doc,
                    "default": defaults[s.name],
                    "choices": resolve_choices(s, policy),
                }
                for s in catalog.CATALOG[event].values()
            ]
        return {"events": out}

    @r.post("/defaults", response_model=wm.FactsOut, responses=_BAD)
    def defaults(body: wm.FactsBody) -> dict[str, Any]:
        """Every fact of the event under the draft policy: the given ones, the others their defaults,
        which follow the given ones (a Sales Navigator account may not buy credits by default)."""
        check_event(body.event)
        folder.draft_texts(body.files)
        text = body.files[POLICY] if POLICY in body.files else folder.read(POLICY) or ""
        policy = load_policy_text(text, POLICY)  # the policy alone: no draft folder to write
        return {"facts": complete_facts(body.event, given_facts(body.event, body.facts, policy), policy)}

    @r.post("/decide", response_model=wm.DecideOut, responses=_BAD)
    def decide(body: wm.FactsBody) -> dict[str, Any]:
        """Decide on the draft: the answer, its rule, and each rule above it with what did not match."""
        check_event(body.event)
        with folder.draft(body.files) as (policy_path, rules_dir):
            policy = _load(policy_path)
            with RuleBook.load(rules_dir, policy, memo=False) as book:
                answer, rule = what_if(book, policy, body.event, given_facts(body.event, body.facts, policy))
                return {
                    **answer,
                    "read": list(book.facts_read(body.event)),
                    "file": f"rules/{Path(rule.loc.file).name}",
                    "line": rule.loc.line,
                    "rows": explain(book.rule_file(body.event), policy, answer["facts"]),
                }

    @r.post("/form", response_model=wm.JsonOut, responses=_BAD)
    def form(body: wm.DraftBody) -> dict[str, Any]:
        """The draft's ``policies.yaml`` as a form (``engine.policy.form.policy_form`` states the shape):
        settings and plan keys with their titles and plain-words help, the plans, the response types.
        Read from the text, so a draft that does not load still shows its values."""
        folder.draft_texts(body.files)
        return policy_form(body.files.get(POLICY) or folder.read(POLICY) or "")

    @r.post("/edit", response_model=wm.EditOut, responses=_BAD)
    def edit(body: wm.EditBody) -> dict[str, Any]:
        """A file's text with values set or removed; only those values differ, comments and layout stay.
        Not checked against the policy: ask ``check`` for that."""
        folder.path(body.file)
        if len(body.text) > MAX_TEXT:
            raise C.invalid_file(f"`{body.file}` must be text of at most {MAX_TEXT:,} characters")
        edits: list[dict[str, Any]] = [
            {"path": e.path, "remove": True} if e.remove else {"path": e.path, "value": e.value}
            for e in body.edits
        ]
        if body.file == POLICY:  # a missing section goes where the policy's order puts it
            return {"file": body.file, "text": apply_form_edits(body.text, edits)}
        try:
            return {"file": body.file, "text": apply_edits(body.text, edits, display=body.file)}
        except EditRefused as exc:
            raise InvalidInput(exc.diagnostics) from None

    @r.post("/table", response_model=wm.JsonOut, responses=_BAD)
    def table(body: wm.TableBody) -> dict[str, Any]:
        """A rules file of the draft as a decision table (``engine.rules.table.decision_table`` states
        the shape): rows are its rules in order, columns the facts they read, first match decides."""
        folder.path(body.file)
        event = Path(body.file).stem
        if body.file == POLICY or event not in catalog.EVENT_KINDS:
            raise C.invalid_file(f"`{body.file}` is not a rules file of an event kind")
        policy, files = folder.rule_files(body.files)
        return decision_table(files[event], policy, file=body.file)


def _plans_named(path: Path) -> set[str]:
    """Plan names a scenario uses: values of its ``plan`` keys, and plans its policy overrides."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return set()  # a broken scenario says so when it is run, not here
    found: set[str] = set()
    todo: list[Any] = [doc]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "plan" and isinstance(value, str):
                    found.add(value)
                elif key == "plans" and isinstance(value, dict):
                    found.update(str(k) for k in value)
                todo.append(value)
        elif isinstance(node, list):
            todo.extend(node)
    return found


@cache
def _schemas() -> dict[str, Any]:
    return {
        "policy": schema("policy"),
        "rules": schema("rules"),
        "scenario": schema("scenario"),
        "events": {event: schema("rules", event) for event in catalog.EVENT_KINDS},
    }


def _load(policy_path: Path) -> Policy:
    return load_policy(policy_path, display=POLICY)
