"""Impact reports the page can follow and cancel: a comparison over a store's year is minutes, not a request.

``POST /wb/api/impact/jobs`` (the saved policy against the draft) and ``POST
/wb/api/history/impact`` (one version against another) check what they are
given at once (unknown scenarios, no store, an unknown revision, a draft that
does not load are refused there, as 4xx problems) and then compare on a
thread of their own, answering ``202`` with the job's id. ``GET
/wb/api/impact/jobs/{job}`` says how many calls have been compared so far,
then the report (or the problem that stopped it); ``POST
.../{job}/cancel`` stops it at the next call: the comparison asks after
every call whether it should go on, so a cancel takes effect within one
call's time and the thread ends. Jobs live in the workbench process; a
finished one is kept :data:`KEEP_SECONDS` for the page to read, and at most
:data:`MAX_RUNNING` run at once (the machine has other work: the service).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from starlette.responses import JSONResponse

from engine.codes import C
from engine.errors import EngineError
from engine.impact import compare_policies
from engine.service import versions
from engine.service import workbench_models as wm
from engine.service.folder import POLICY, Folder
from engine.service.problems import diagnostics
from engine.service.stores import BoundStore, pick
from engine.source.paths import packaged_rules_dir

_log = logging.getLogger("inmail.service")

#: Comparisons running at once; one more is refused (``impact_busy``) until one ends.
MAX_RUNNING = 2
#: How long a finished job's answer is kept for the page.
KEEP_SECONDS = 600.0
#: The most jobs kept at once, running or finished (the oldest finished go first).
MAX_KEPT = 50

#: What a job does: given a callback to call after each compared call (it raises to cancel).
Work = Callable[[Callable[[int], None]], dict[str, Any]]


class _Cancelled(Exception):
    pass


@dataclass
class Job:
    id: str
    state: str = "running"  # running, done, failed, cancelled
    calls: int = 0
    report: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    ended: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.id,
            "state": self.state,
            "calls": self.calls,
            "report": self.report,
            "problem": self.problem,
        }


class Jobs:
    """The workbench's comparisons, by id; ``clock`` (seconds, monotonic) for how long they are kept."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def start(self, work: Work) -> Job:
        with self._lock:
            self._forget()
            if sum(j.state == "running" for j in self._jobs.values()) >= MAX_RUNNING:
                raise C.impact_busy(
                    f"{MAX_RUNNING} impact reports are being worked out already: wait for one, or cancel it"
                )
            job = Job(secrets.token_hex(8))
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, work), name=f"impact-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            found = self._jobs.get(job_id)
        if found is None:
            raise C.unknown_job(f"no impact report `{job_id[:40]}` (finished ones are kept ten minutes)")
        return found

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        job.stop.set()
        return job

    def _forget(self) -> None:
        now = self._clock()
        for key, job in list(self._jobs.items()):
            if job.ended is not None and now - job.ended > KEEP_SECONDS:
                del self._jobs[key]
        finished = [j for j in self._jobs.values() if j.ended is not None]
        for job in finished[: max(0, len(self._jobs) - MAX_KEPT + 1)]:
            del self._jobs[job.id]

    def _run(self, job: Job, work: Work) -> None:
        def progress(calls: int) -> None:
            job.calls = calls
            if job.stop.is_set():
                raise _Cancelled

        try:
            report = work(progress)
        except _Cancelled:
            job.state = "cancelled"
        except EngineError as exc:
            found = getattr(exc, "diagnostics", None)
            job.problem = {
                "code": str(exc.code),
                "detail": exc.message,
                "diagnostics": diagnostics(found) if found else [],
            }
            job.state = "failed"
        except Exception:  # a bug: said as one, in full in the log, never a hung page
            _log.exception("impact report %s failed", job.id)
            job.problem = {
                "code": str(C.internal_error),
                "detail": "the comparison failed: see the workbench's log",
            }
            job.state = "failed"
        else:
            job.report, job.state = report, "done"
        job.ended = self._clock()


class JobOut(BaseModel):
    job: str
    state: str = Field(description="`running`, `done`, `failed` or `cancelled`.")
    calls: int = Field(description="Calls compared so far (each side).")
    report: dict[str, JsonValue] | None = Field(description="The impact report, once done.")
    problem: dict[str, JsonValue] | None = Field(description="What stopped it, when failed: code, detail.")


class VersionsImpactBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    from_: str = Field(alias="from", description="The older commit (the base side).")
    to: str = Field(description="The newer commit (the new side).")
    scenarios: list[str] = Field(default_factory=list, description="Names of the folder's scenarios.")
    store: bool = Field(False, description="Replay a store given at start (`--db`) instead.")
    db: int = Field(0, ge=0, le=1000, description="Which store given at start (its place in `stores`).")


def source(
    folder: Folder, stores: Sequence[BoundStore], scenarios: Sequence[str], use_store: bool, index: int = 0
) -> dict[str, Any]:
    """What a comparison replays: a store given at start, or the named scenarios of the folder."""
    if use_store:
        return {"db": pick(stores, index).url}
    known = folder.scenarios()
    unknown = [n for n in scenarios if n not in known]
    if unknown or not scenarios:
        raise C.unknown_scenario(
            f"choose scenarios of the folder (unknown: {', '.join(unknown)[:200] or '-'})"
        )
    return {"scenarios": [known[n] for n in scenarios]}


def compare(
    folder: Folder,
    base: Mapping[str, str | None],
    new: Mapping[str, str | None],
    src: Mapping[str, Any],
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The report of the folder's files with ``base`` in place against them with ``new`` in place."""
    with ExitStack() as stack:
        saved, saved_rules = stack.enter_context(folder.draft(base))
        policy, rules = stack.enter_context(folder.draft(new))
        report = compare_policies(
            base_policy=saved,
            base_rules=saved_rules,
            new_policy=policy,
            new_rules=rules,
            progress=progress,
            **src,
        )
    return report.to_dict()


def at_revision(folder: Folder, rev: str) -> dict[str, str | None]:
    """The folder's files as commit ``rev`` had them (a file made since: absent; no rules folder then:
    the packaged rules, which is what the folder answered with)."""
    texts: dict[str, str | None] = dict(versions.texts_at(folder.root, rev))
    if POLICY not in texts:
        raise C.unknown_revision(f"commit `{rev[:12]}` has no {POLICY} in this folder")
    if not any(n.startswith("rules/") for n in texts):
        for path in sorted(packaged_rules_dir().glob("*.yaml")):
            texts[f"rules/{path.name}"] = path.read_text(encoding="utf-8")
    for name in folder.names():
        texts.setdefault(name, None)
    return texts


def add_impact_jobs(
    r: APIRouter, folder: Folder, stores: Sequence[BoundStore], jobs: Jobs | None = None
) -> None:
    """The job routes under ``/wb/api``."""
    running = jobs or Jobs()
    bad = wm.problem_responses(400, 403, 404, 409, 413, 415, 422)

    def started(work: Work) -> JSONResponse:
        return JSONResponse(running.start(work).to_dict(), status_code=202)

    @r.post("/impact/jobs", status_code=202, response_model=JobOut, responses=bad)
    def start_route(body: wm.ImpactBody) -> JSONResponse:
        """Start comparing the saved files with the draft; follow it with ``GET /impact/jobs/{job}``."""
        src = source(folder, stores, body.scenarios, body.store, body.db)
        folder.draft_texts(body.files)
        return started(lambda progress: compare(folder, {}, body.files, src, progress))

    @r.post("/history/impact", status_code=202, response_model=JobOut, responses=bad)
    def versions_route(body: VersionsImpactBody) -> JSONResponse:
        """Start comparing two versions of the folder (``from`` as the base, ``to`` as the new side)."""
        if not versions.tracked(folder.root):
            raise C.unknown_revision("this folder is not in a git work tree: it has no versions")
        a, b = versions.revision(folder.root, body.from_), versions.revision(folder.root, body.to)
        src = source(folder, stores, body.scenarios, body.store, body.db)
        base, new = at_revision(folder, a), at_revision(folder, b)
        return started(lambda progress: compare(folder, base, new, src, progress))

    @r.get("/impact/jobs/{job}", response_model=JobOut, responses=wm.problem_responses(404))
    def job_route(job: str) -> dict[str, Any]:
        return running.get(job).to_dict()

    @r.post("/impact/jobs/{job}/cancel", response_model=JobOut, responses=bad)
    def cancel_route(job: str) -> dict[str, Any]:
        """Stop the comparison at its next call; its state turns ``cancelled`` when it has stopped."""
        return running.cancel(job).to_dict()
