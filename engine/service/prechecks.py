"""Checks before save: what writing one file of the folder would break (refused) or change (listed).

A save is checked three ways before the person confirms it, and the save
dialog shows all three under the diff:

- **Plans in use**: a policy without a plan some account is on cannot be
  saved (``plan_in_use``). Those accounts could no longer be decided: the
  workbench's own service would keep its old policy, and ``inmail serve``
  on the bound store (``--db``) would refuse to start. Both stores count:
  the bound one, and the in-memory one behind the workbench's ``/v1``.
  The save route refuses it whatever the page did; the dry run lists it.
- **Expectations that assume the old numbers**: the folder's scenarios run
  under the saved files and under the folder as the save would leave it;
  an ``expect`` that held before and fails after is listed with where it
  is written, what it expects and what it gets now. Listed, not refused: a
  new allotment is meant to change balances, and the scenario is then
  updated to the new numbers. A scenario that ran before and no longer
  loads or runs is listed too (a plan it uses was removed, say).
- **Features**: the BDD feature files are not run here (they take the
  whole test suite's fixtures); the answer says how many there are, and
  the dialog says to run them before merging.

Runs are remembered by the texts they ran on (the policy, every rules file and
the scenario), so the saved side, which is the same for every dry run until
the next save, runs once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.codes import C
from engine.core.engine import Engine
from engine.errors import EngineError, InvalidInput
from engine.policy import Policy
from engine.scenario.load import load_scenario
from engine.scenario.run import Failure, Runner
from engine.service.folder import Folder
from engine.service.stores import BoundStore
from engine.source.diagnostics import Diagnostic
from engine.store.base import open_store

#: How many accounts on a removed plan are named (the rest are counted).
EXAMPLES = 3
#: Runs remembered (a folder has a handful of scenarios; two sides each, and a few drafts).
_REMEMBERED = 256


@dataclass(frozen=True)
class PlanInUse:
    """Accounts of one store on a plan the edited policy no longer has."""

    plan: str
    store: str  # "store": a bound store (--db); "service": the workbench's own /v1
    accounts: int
    examples: tuple[str, ...]
    name: str | None = None  # which bound store, when the workbench has several

    def message(self) -> str:
        one = self.accounts == 1
        place = "of the workbench's service (`/v1`)"
        if self.store == "store":
            place = f"of the store `{self.name}`" if self.name else "of the store"
        names = ", ".join(self.examples) + (", …" if self.accounts > len(self.examples) else "")
        return (
            f"{self.accounts} account{'' if one else 's'} {place} {'is' if one else 'are'} on "
            f"`{self.plan}` ({names})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "store": self.store,
            "name": self.name,
            "accounts": self.accounts,
            "examples": list(self.examples),
            "message": self.message(),
        }


def plans_in_use(policy: Policy, service: Engine, stores: Sequence[BoundStore]) -> list[PlanInUse]:
    """The plans some account of a bound store or of the service is on that ``policy`` does not
    have, with how many accounts and the first few by name."""
    counted: list[tuple[str, str | None, dict[str, tuple[int, tuple[str, ...]]]]] = []
    for store in stores:
        with closing(open_store(store.url, create=False)) as db:
            counted.append(("store", store.label if len(stores) > 1 else None, db.plan_counts(EXAMPLES)))
    counted.append(("service", None, service.plan_counts(EXAMPLES)))
    return [
        PlanInUse(plan, where, n, names, label)
        for where, label, counts in counted
        for plan, (n, names) in sorted(counts.items())
        if plan not in policy.plans
    ]


def refuse_plans_in_use(found: list[PlanInUse]) -> None:
    """``plan_in_use`` naming every removed plan and how many accounts are on it; nothing if none."""
    if found:
        plans = ", ".join(dict.fromkeys(f"`{f.plan}`" for f in found))
        raise C.plan_in_use(
            "; ".join(f.message() for f in found),
            help=f"keep {plans} in the policy, or move those accounts to another plan first",
        )


# --- expectations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ran:
    """A scenario's run: the expectations that failed, or why it did not load or run."""

    failures: tuple[Failure, ...] = ()
    problem: Diagnostic | None = None


_runs: dict[str, _Ran] = {}
_runs_lock = threading.Lock()


def expectation_changes(folder: Folder, changed: Mapping[str, str]) -> dict[str, Any]:
    """The folder's scenarios under the saved files and under ``changed`` in place: ``expectations``
    (held before, fail now), ``broken`` (ran before, do not load or run now), ``scenarios`` (how many
    ran before, and so were compared)."""
    before = _run_all(folder, {})
    after = _run_all(folder, changed)
    expectations: list[dict[str, Any]] = []
    broken: list[dict[str, Any]] = []
    compared = 0
    for name, old in before.items():
        new = after[name]
        if old.problem is not None:
            continue  # it did not run on the saved files either: nothing to compare
        compared += 1
        if new.problem is not None:
            loc = new.problem.loc
            broken.append(
                {
                    "scenario": name,
                    "line": loc.line if loc is not None and loc.file == name else None,
                    "code": new.problem.code,
                    "message": new.problem.message,
                }
            )
            continue
        held = {_key(f) for f in old.failures}
        for f in new.failures:
            if _key(f) not in held:
                d = f.to_dict()
                expectations.append(
                    {
                        "scenario": name,
                        "line": d["line"],
                        "column": d["column"],
                        "step_line": d["step_line"],
                        "key": f.key,
                        "what": f.label,
                        "expected": d["expected"],
                        "now": d["got"],
                        "text": f.describe(),
                    }
                )
    return {"expectations": expectations, "broken": broken, "scenarios": compared}


def features(folder: Folder) -> int:
    """How many BDD feature files the folder has (``features/*.feature``): not run here."""
    return sum(1 for p in (folder.root / "features").glob("*.feature") if p.is_file())


def _key(f: Failure) -> tuple[int, int, str]:
    return (f.loc.line, f.loc.column, f.key)


def _run_all(folder: Folder, changed: Mapping[str, str]) -> dict[str, _Ran]:
    found = folder.scenarios()
    texts = {**{name: folder.read(name) for name in folder.names()}, **changed}
    files = hashlib.sha256()
    for name, text in sorted(texts.items()):
        files.update(f"{name}\0{text}\0".encode())
    out: dict[str, _Ran] = {}
    todo: dict[str, tuple[str, Path]] = {}
    for name, path in found.items():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out[name] = _Ran(problem=Diagnostic(C.file_not_found, f"cannot read `{name}`: {exc}"))
            continue
        h = files.copy()
        h.update(f"scenario\0{name}\0{text}".encode())
        key = h.hexdigest()
        with _runs_lock:
            known = _runs.get(key)
        if known is not None:
            out[name] = known
        else:
            todo[name] = (key, path)
    if todo:
        with folder.draft(changed) as (policy_path, rules_dir):
            for name, (key, path) in todo.items():
                out[name] = ran = _run(name, path, policy_path, rules_dir)
                with _runs_lock:
                    if len(_runs) >= _REMEMBERED:
                        _runs.pop(next(iter(_runs)))
                    _runs[key] = ran
    return {name: out[name] for name in found}


def _run(name: str, path: Path, policy_path: Path, rules_dir: Path) -> _Ran:
    try:
        scenario = load_scenario(path, policy_path if policy_path.is_file() else None, display=name)
        with Engine.open(policy=scenario.policy, rules=rules_dir, log=False) as eng:
            return _Ran(failures=tuple(Runner(scenario, eng).run().failures))
    except InvalidInput as exc:
        first = next((d for d in exc.diagnostics if d.severity == "error"), None)
        return _Ran(problem=first or Diagnostic(exc.code, str(exc)))
    except EngineError as exc:
        return _Ran(problem=Diagnostic(exc.code, exc.message))
