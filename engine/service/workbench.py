"""The workbench's routes: a policy editor's page and the JSON it calls, on the service's own app.

Every route that takes a draft (``files``: the texts being edited, by name)
works on a temporary copy of the folder with those texts in place
(:meth:`Folder.draft`), so checking, trying a decision, running a scenario or
an impact report never touches the folder; only ``save``, ``undo`` and the
History's ``restore`` and ``init`` write, and only the folder's policy and
rule files (and, in git, commits of them). The page itself is static
(``engine/service/static``): no build step, no CDN, nothing fetched from the
network.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles

from engine.codes import C
from engine.core.engine import Engine
from engine.docs.sources import read_features, read_requirements
from engine.errors import EngineError, InvalidInput
from engine.model import LedgerEntry, Lot
from engine.policy import Policy, load_policy
from engine.rules import catalog
from engine.scenario.load import load_scenario
from engine.scenario.run import Runner
from engine.service import impact_jobs, prechecks
from engine.service import workbench_models as wm
from engine.service.folder import POLICY, Folder, token
from engine.service.problems import diagnostics
from engine.service.publish import PublishTarget, add_publish
from engine.service.signin import editor_of
from engine.service.state import Service, log
from engine.service.stores import BoundStore
from engine.service.versions import add_versions
from engine.service.workbench_views import add_views
from engine.source.paths import resolve_policy, resolve_rules

STATIC = Path(__file__).with_name("static")
MAX_SCENARIO = 1_000_000
_BAD = wm.problem_responses(400, 403, 404, 409, 413, 415, 422)


#: The largest request body the workbench takes: a draft of every file, or a scenario of
#: :data:`MAX_SCENARIO` characters, with room to spare (the service's own default is 64 KiB).
MAX_BODY = 4 * 1024 * 1024


def add_workbench(
    app: FastAPI,
    svc: Service,
    folder: Folder,
    stores: Sequence[BoundStore] = (),
    publish: PublishTarget | None = None,
) -> None:
    """Mount the page at ``/`` and its JSON routes under ``/wb/api``; ``stores``: the stores whose
    event logs the impact page may replay and whose accounts a save must not strand; ``publish``:
    the service Publish reloads (else Publish answers that none was given)."""
    r = APIRouter(prefix="/wb/api", tags=["workbench"])

    def vet(policy: Policy) -> None:
        """Refuse a save (or an undo) that leaves an account of any store on a plan it drops."""
        prechecks.refuse_plans_in_use(prechecks.plans_in_use(policy, svc.engine, stores))

    @r.get("/files", response_model=wm.FilesOut)
    def files() -> dict[str, Any]:
        return {
            "folder": str(folder.root),
            "files": folder.files(),
            "store": bool(stores),
            "stores": [s.label for s in stores],
        }

    @r.post("/check", response_model=wm.CheckOut, responses=_BAD)
    def check(body: wm.DraftBody) -> dict[str, Any]:
        """Diagnostics of the draft; the plans of its policy when it loads."""
        policy, revision, found = folder.check(body.files)
        try:  # the saved file, which may itself be broken (opened here to be fixed)
            saved: list[dict[str, Any]] | None = _load(resolve_policy(None, cwd=folder.root)).plan_rows()
        except InvalidInput:
            saved = None
        return {
            "ok": revision is not None,
            "revision": revision,
            "diagnostics": diagnostics(found),
            "plans": policy.plan_rows() if policy is not None else None,
            "saved_plans": saved,
        }

    @r.post(
        "/save",
        response_model=wm.SavedOut | wm.DiffOut,
        responses=_BAD,
    )
    def save(body: wm.SaveBody, request: Request) -> Response:
        """Write one file if the folder stays valid and no account is on a plan it drops
        (``plan_in_use``); then reload the service. ``dry_run``: write nothing; the diff and the
        checks before save (:mod:`engine.service.prechecks`)."""
        folder.path(body.file)
        if body.dry_run:
            return JSONResponse(
                {
                    "file": body.file,
                    "diff": folder.diff(body.file, body.text),
                    "checks": _checks(folder, svc, stores, body.file, body.text),
                }
            )

        author = editor_of(request) or body.author  # a signed-in editor saves under their own name
        found = folder.save(body.file, body.text, body.token, vet, body.note, author)
        if found:
            raise InvalidInput(found)  # a problem with every diagnostic; nothing was written
        return JSONResponse(
            {"file": body.file, "token": _token(folder, body.file), "revision": _reload(svc, folder)}
        )

    @r.post("/undo", response_model=wm.UndoneOut, responses=_BAD)
    def undo(body: wm.FileBody, request: Request) -> Response:
        if not folder.undo(body.file, vet, editor_of(request)):
            raise C.nothing_to_undo(f"no save of `{body.file}` to undo")
        return JSONResponse(
            {
                "file": body.file,
                "token": _token(folder, body.file),
                "text": folder.read(body.file) or "",
                "revision": _reload(svc, folder),
            }
        )

    @r.get("/scenarios", response_model=wm.ScenariosOut)
    def scenarios() -> dict[str, Any]:
        return {
            "scenarios": [
                {"name": n, "text": p.read_text(encoding="utf-8")} for n, p in folder.scenarios().items()
            ]
        }

    @r.post("/run", response_model=wm.RunOut, responses=_BAD)
    def run(body: wm.RunBody) -> dict[str, Any]:
        """Run a scenario text against the draft: its steps, expectations and the ledger behind the chart."""
        if len(body.scenario) > MAX_SCENARIO:
            raise C.invalid_file(f"a scenario may hold at most {MAX_SCENARIO:,} characters")
        with folder.draft(body.files) as (policy_path, rules_dir), tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "scenario.yaml"
            path.write_text(body.scenario, encoding="utf-8")
            name = Path(body.name).name or "scenario.yaml"
            try:
                scenario = load_scenario(path, _existing(policy_path), display=name)
            except InvalidInput as exc:
                return {"ok": False, "diagnostics": diagnostics(exc.diagnostics)}
            with Engine.open(policy=scenario.policy, rules=rules_dir, log=False) as eng:
                result = Runner(scenario, eng).run()
                live = {a: eng.balance(a).lots for a in result.history}
            return {
                "ok": True,
                "result": result.to_dict(),
                "timezone": scenario.policy.timezone,
                "failures": [
                    {"step_line": f.step_line, "line": f.loc.line, "text": f.describe()}
                    for f in result.failures
                ],
                "ledger": {a: [e.to_dict() for e in entries] for a, entries in result.history.items()},
                "lots": {a: _lots(entries, live[a]) for a, entries in result.history.items()},
            }

    @r.post("/impact", response_model=wm.JsonOut, responses=_BAD)
    def impact(body: wm.ImpactBody) -> dict[str, Any]:
        """The saved policy and rules vs the draft, over the chosen scenarios of the folder (or the
        store), answered when done; ``/impact/jobs`` does the same with progress and cancel."""
        src = impact_jobs.source(folder, stores, body.scenarios, body.store, body.db)
        return impact_jobs.compare(folder, {}, body.files, src)

    @r.get("/spec", response_model=wm.SpecOut)
    def spec() -> dict[str, Any]:
        """Requirements -> their feature scenarios (the folder's ``features/``, when it has them) ->
        the rules citing them, with their descriptions (the saved rules)."""
        book = svc.engine.rulebook
        features = folder.root / "features"
        titles = read_requirements(features / "REQUIREMENTS.md") if features.is_dir() else {}
        scenarios = read_features(features) if features.is_dir() else []
        out: dict[str, dict[str, Any]] = {
            rid: {"title": req.title, "scenarios": [], "rules": []} for rid, req in titles.items()
        }

        def entry(rid: str) -> dict[str, Any]:
            return out.setdefault(rid, {"title": "", "scenarios": [], "rules": []})

        for sc in scenarios:
            for rid in sc.requirements:
                entry(rid)["scenarios"].append({"feature": sc.feature, "line": sc.line, "name": sc.name})
        for event in catalog.EVENT_KINDS:
            for rule in book.rules(event):
                for rid in rule.requirements:
                    entry(rid)["rules"].append(
                        {"rule": rule.id, "event": event, "description": rule.description}
                    )
        return {"features": features.is_dir(), "requirements": dict(sorted(out.items()))}

    add_views(r, svc, folder, stores)
    impact_jobs.add_impact_jobs(r, folder, stores)
    add_publish(app, publish)
    add_versions(r, folder, lambda: _reload(svc, folder), vet)
    app.include_router(r)
    app.mount("/wb/static", StaticFiles(directory=STATIC), name="workbench-static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        # asked again every time (a shared workbench sends a signed-out browser to sign in)
        return FileResponse(STATIC / "workbench.html", headers={"Cache-Control": "no-cache"})


def _checks(
    folder: Folder, svc: Service, stores: Sequence[BoundStore], file: str, text: str
) -> dict[str, Any]:
    """The checks before save of ``text`` as ``file`` (:mod:`engine.service.prechecks`); the scenarios
    run only when the folder loads with it and it differs from the saved text."""
    changed = {file: text}
    policy, revision, _ = folder.check(changed)
    loads = policy is not None and revision is not None
    plans = prechecks.plans_in_use(policy, svc.engine, stores) if policy is not None else []
    runs = (
        prechecks.expectation_changes(folder, changed)
        if loads and text != folder.read(file)
        else {"expectations": [], "broken": [], "scenarios": 0}
    )
    return {
        "loads": loads,
        "plans_in_use": [p.to_dict() for p in plans],
        **runs,
        "features": prechecks.features(folder),
    }


def _token(folder: Folder, name: str) -> str:
    return token(folder.on_disk(name))


def _reload(svc: Service, folder: Folder) -> str:
    """The service follows the folder's saved files (its own, else the packaged ones); the revision.

    The file is written already; should the service refuse it (``plan_in_use``: the save checked
    that no account is on a plan it drops, but one may have been made through ``/v1`` since), it
    keeps its policy and says so in the log."""
    try:
        return svc.engine.reload(resolve_policy(None, cwd=folder.root), resolve_rules(None, cwd=folder.root))
    except EngineError as exc:
        log.warning("workbench: saved, but the service keeps its policy: %s", exc.code)
        return svc.engine.revision


def _load(policy_path: Path) -> Policy:
    return load_policy(policy_path, display=POLICY)


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _rule_file(file: str) -> str:
    return "rules/" + Path(file).name


def _lots(entries: Sequence[LedgerEntry], live: Sequence[Lot]) -> list[dict[str, Any]]:
    """Each lot's life for the chart: from its grant to its expiry (a live lot: when it will expire;
    a used-up one: its last use), with how it ended."""
    made = {
        e.lot: e
        for e in entries
        if e.lot is not None and e.kind in ("grant", "purchase", "credit_back") and e.amount > 0
    }
    last = {e.lot: e for e in entries if e.lot is not None}
    ends = {lot.id: lot for lot in live}
    out = []
    for lot_id, first in sorted(made.items(), key=lambda kv: (kv[1].at, kv[0] or 0)):
        final = last[lot_id]
        if lot_id in ends:
            end, how = ends[lot_id].expires_at.isoformat(), "live"
        else:
            end, how = final.at.isoformat(), final.kind
        out.append(
            {
                "lot": lot_id,
                "kind": first.kind,
                "amount": first.amount,
                "from": first.at.isoformat(),
                "to": end,
                "end": how,
            }
        )
    return out
