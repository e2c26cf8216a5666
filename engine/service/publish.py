"""Publish: the workbench asks a running ``inmail serve`` to reload the files it was started with.

The workbench and the service share the folder (the service was started on
its ``policies.yaml`` and ``rules/``), so publishing writes nothing: it is the
service's own ``POST /v1/policy/reload``, called on the editor's behalf, and
its answer (the revision the service now answers with) is shown on the page.
The service may refuse: its problem (a 422 with the diagnostics of a file it
cannot load) is passed through, so the page shows the same diagnostics as
``inmail validate``; a refused token or a service that does not answer are
problems of their own, never a 5xx with a traceback. The token is read once
at start and is never logged nor shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, FastAPI
from starlette.responses import JSONResponse, Response

from engine.codes import C
from engine.service import workbench_models as wm
from engine.service.problems import problem

#: How long the service has to reload (a reload loads and compiles the rules: about a second).
TIMEOUT = 10.0
_LONGEST_URL = 2_000


@dataclass(frozen=True)
class PublishTarget:
    """The service to publish to: its base URL and the bearer token it wants (if any)."""

    url: str
    token: str | None = field(default=None, repr=False)


def check_url(url: str) -> str:
    """The base URL of a service, without a trailing ``/``; refused unless it is plain http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is not a number is a ValueError here
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or len(url) > _LONGEST_URL
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in url)
    ):
        shown = url[:200] if "@" not in url else "with a user and password"  # a password is not echoed
        raise C.invalid_argument(
            f"--publish-to `{shown}` is not the base URL of a service",
            help="give it as http://HOST:PORT (or https://...), e.g. http://127.0.0.1:8700",
        )
    del port
    return url.rstrip("/")


def add_publish(app: FastAPI, target: PublishTarget | None) -> None:
    """``GET /wb/api/publish`` (is publishing configured, and where to) and ``POST`` (publish)."""
    r = APIRouter(prefix="/wb/api", tags=["workbench"])

    @r.get("/publish", response_model=wm.PublishTargetOut)
    def where() -> dict[str, Any]:
        return {"configured": target is not None, "url": target.url if target else None}

    refusals = wm.problem_responses(400, 403, 409, 413, 415, 422, 502)

    @r.post("/publish", response_model=wm.PublishedOut, responses=refusals)
    def publish(body: wm.PublishBody) -> Response:
        """Reload the service started with ``--publish-to``; the revision it now answers with."""
        if target is None:
            raise C.no_publish_target(
                "the workbench was started without a service to publish to",
                help="start it with --publish-to URL (the base URL of a running `inmail serve`)",
            )
        return reload(target)

    app.include_router(r)


def reload(target: PublishTarget) -> Response:
    """``POST {url}/v1/policy/reload`` and its answer, as the workbench gives it (see the module)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    where = f"the service at `{target.url}`"
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            answer = client.post(target.url + "/v1/policy/reload", headers=headers, content=b"{}")
    except httpx.TimeoutException:
        return _failed(f"{where} did not answer in {TIMEOUT:g} s", C.publish_failed)
    except httpx.HTTPError as exc:
        return _failed(f"{where} cannot be reached ({type(exc).__name__})", C.publish_failed)
    body = _json(answer)
    if answer.status_code == 200 and {"revision", "previous", "changed"} <= body.keys():
        return JSONResponse(
            {
                "revision": str(body["revision"]),
                "previous": str(body["previous"]),
                "changed": bool(body["changed"]),
                "url": target.url,
            }
        )
    if answer.status_code == 401:
        return _failed(
            f"{where} refused the token" if target.token else f"{where} wants a token",
            C.publish_token_refused,
            help="give the service's token with --publish-token-file FILE",
        )
    if answer.status_code == 422 and isinstance(body.get("code"), str):
        found = body.get("diagnostics")
        return problem(
            body["code"],
            f"{where} refused the reload and keeps its policy: {body.get('detail', '')}",
            status=422,
            diagnostics=found if isinstance(found, list) else [],
            url=target.url,
        )
    code = body.get("code") if isinstance(body.get("code"), str) else None
    return _failed(
        f"{where} answered {answer.status_code}" + (f" ({code})" if code else "") + " to the reload",
        C.publish_failed,
    )


def _failed(detail: str, code: C, help: str | None = None) -> Response:
    return problem(code, detail, help=help)


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
