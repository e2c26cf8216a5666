"""The HTTP routes: each one turns a request into one Engine call and the answer into JSON.

The routes hold no logic of their own; the engine decides, checks and
refuses, and :mod:`engine.service.problems` turns a refusal into its status.
What is HTTP's alone is here: the ``Idempotency-Key`` header (a replay
answers ``Idempotent-Replayed: true``), the bearer token, the body limits
(:mod:`engine.service.guard`), and the default ``at`` (the server's clock).

The call routes are not written out here: each event kind of :mod:`engine.events`
declares its route, summary and arguments, and :func:`_calls` makes a route of each.
"""

from __future__ import annotations

import dataclasses
import hmac
import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from engine import __version__
from engine.events import AT, CALLS, KINDS, Arg, EventKind
from engine.model import Decision
from engine.rules.defaults import check_event, given_facts, what_if
from engine.service import models as m
from engine.service.guard import GuardRules, RequestGuard
from engine.service.metrics import CONTENT_TYPE, Measured
from engine.service.problems import Unauthorized, install_handlers
from engine.service.state import Service, ServiceConfig

if TYPE_CHECKING:
    from engine.service.publish import PublishTarget


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": m.Problem, "content": {"application/problem+json": {}}} for s in statuses}


_PROBLEMS = _problems(400, 401, 403, 404, 409, 414, 422, 431)
#: A POST may also be refused for its body before a route sees it (service.guard), or meet a busy store.
_POST_PROBLEMS = _problems(400, 401, 403, 404, 409, 413, 414, 415, 422, 431, 503)

AccountName = Annotated[str, Path(description="The member's account name (any text, e.g. `alice`).")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            "Makes a retry safe: the same key and request give the first answer again, with "
            "`Idempotent-Replayed: true`; the same key with another request is 409 `idempotency_key_reused`."
        ),
    ),
]


def create_app(
    config: ServiceConfig | None = None,
    service: Service | None = None,
    workbench: FilePath | None = None,
    workbench_store: str | Sequence[str] | None = None,
    workbench_publish: PublishTarget | None = None,
    workbench_token: str | None = None,
) -> FastAPI:
    """The service's ASGI app (``config`` default: what ``inmail serve`` put in the environment);
    with ``workbench`` (a policy folder), also the workbench page and its routes on that folder
    (``workbench_store``: a store its impact page may replay; ``workbench_publish``: the running
    service its Publish reloads; ``workbench_token``: every route but the sign-in page needs a
    session made with it, :mod:`engine.service.signin`)."""
    svc = service or Service(config or ServiceConfig.from_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        svc.close()

    app = FastAPI(
        title="inmail-engine",
        version=__version__,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served below from the package's own copies: the docs work offline
        redoc_url=None,
        description=(
            "InMail credits as a service: every decision names its rule, its requirements and the policy "
            "revision. Errors are `application/problem+json` with a stable `code`."
        ),
    )
    app.state.service = svc
    cfg = svc.config
    sessions = None
    if workbench is not None and workbench_token is not None:  # inside the guard: Host is checked first
        from engine.service.signin import Sessions, SignInGate

        sessions = Sessions(workbench_token)
        app.add_middleware(SignInGate, sessions=sessions)
    if cfg.cors_origins:  # inside the guard: only an origin named here gets CORS headers
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cfg.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization", "Idempotency-Key"],
            expose_headers=["Idempotent-Replayed", "Retry-After"],
        )
    app.add_middleware(
        RequestGuard, rules=GuardRules.make(cfg.host, cfg.allowed_hosts, cfg.cors_origins, cfg.max_body)
    )
    # outermost: the guard's refusals are measured (and logged) too
    app.add_middleware(Measured, metrics=svc.metrics, log_clock=svc.clock if cfg.access_log else None)
    install_handlers(app)

    async def token(request: Request) -> None:
        """The bearer token, when one is set (compared in constant time)."""
        expected = svc.config.token
        if expected is not None:
            given = request.headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.strip().encode(), expected.encode()
            ):
                raise Unauthorized

    async def guard(request: Request) -> None:
        """Every /v1 route: the bearer token (when one is set), then any reload another worker made."""
        await token(request)
        svc.follow_reloads()

    # With a token, the schema says so (securitySchemes: bearer), so /docs has an Authorize button
    # and a generated client knows to send it; the check itself is `token` above.
    bearer = [Depends(HTTPBearer(auto_error=False, scheme_name="bearer"))] if svc.config.token else []

    @app.get(
        "/metrics",
        tags=["health"],
        dependencies=[] if cfg.metrics_open else [Depends(token), *bearer],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format."}},
    )
    async def metrics() -> Response:
        """Decisions, latency, refusals, store errors, reloads and the revision, summed over every
        worker (Prometheus text); with a token, it needs the token like /v1."""
        svc.follow_reloads()
        return Response(svc.metrics.render(), media_type=CONTENT_TYPE)

    v1 = APIRouter(
        prefix="/v1",
        dependencies=[Depends(guard), *bearer],
        responses={401: {"model": m.Problem, "description": "A missing or wrong bearer token."}},
    )
    _calls(v1, svc)
    _reads(v1, svc)
    app.include_router(v1)
    if workbench is not None:
        from engine.service.folder import Folder
        from engine.service.signin import add_signin
        from engine.service.stores import bind
        from engine.service.workbench import add_workbench

        add_signin(app, sessions)
        add_workbench(app, svc, Folder(workbench), bind(workbench_store), workbench_publish)

    _api_docs(app)
    _problems_as_problem_json(app)

    @app.get("/healthz", response_model=m.Health, tags=["health"])
    async def healthz() -> dict[str, Any]:
        """Alive: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=m.Health, tags=["health"], responses={503: {"model": m.Problem}})
    async def readyz() -> Any:
        """Ready: the store answers a read and a policy is loaded (the revision in force, as /v1 answers)."""
        svc.follow_reloads()
        svc.engine.check_store()
        return {"status": "ready", "revision": svc.engine.revision}

    return app


_PROBLEM = {"schema": {"$ref": "#/components/schemas/Problem"}}


def _problems_as_problem_json(app: FastAPI) -> None:
    """Document each refusal under the media type it is sent with, ``application/problem+json``, with
    the Problem schema. FastAPI files a response model under the route's own type
    (``application/json``), which is not what a refusal is sent as, and a generated client then
    types the error it receives as unknown: no ``code`` to branch on."""
    make = app.openapi

    def openapi() -> dict[str, Any]:
        doc = make()  # built once and kept by FastAPI; moving the schemas again changes nothing
        for item in doc.get("paths", {}).values():
            for operation in item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status.startswith(("4", "5")) and content.get("application/json") == _PROBLEM:
                        content.pop("application/problem+json", None)
                        content["application/problem+json"] = content.pop("application/json")
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


#: Swagger UI and ReDoc, vendored from npm (swagger-ui-dist 5.36.0, redoc 2.5.2; licenses beside them).
API_DOCS = FilePath(__file__).with_name("static") / "apidocs"


def _api_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` from files shipped in the package: nothing from a CDN,
    no web font, so both pages work on a machine without a network."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from starlette.staticfiles import StaticFiles

    app.mount("/apidocs", StaticFiles(directory=API_DOCS), name="apidocs")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="inmail-engine: API",
            swagger_js_url="/apidocs/swagger-ui-bundle.js",
            swagger_css_url="/apidocs/swagger-ui.css",
            swagger_favicon_url="/apidocs/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> Response:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="inmail-engine: API",
            redoc_js_url="/apidocs/redoc.standalone.js",
            redoc_favicon_url="/apidocs/favicon.png",
            with_google_fonts=False,
        )


#: operationIds for client generators: a method name per route (`client.send(...)`), not FastAPI's
#: `send_v1_accounts__account__send_post`. Routes not named here get their name in camelCase; a call's
#: route is named by its event kind's `operation_id` (`send`, `changePlan`, `setPayment`).
OPERATION_IDS = {
    "balance": "getBalance",
    "history": "getHistory",
    "plans": "getPlans",
    "policy": "getPolicy",
    "reload": "reloadPolicy",
    "healthz": "getHealth",
    "readyz": "getReadiness",
    "metrics": "getMetrics",
}


def operation_id(route: APIRoute) -> str:
    """A route's operationId: the table above, else its function's name in camelCase (``wb`` first for
    the workbench's own routes, whose names may repeat the service's)."""
    name = OPERATION_IDS.get(route.name) or _camel(route.name)
    return "wb" + name[0].upper() + name[1:] if route.path.startswith("/wb/") else name


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def from_environment() -> FastAPI:
    """The app of one ``inmail serve`` worker (uvicorn's factory)."""
    from engine.service.run import register

    return create_app(service=register(Service(ServiceConfig.from_env())))


# --- the calls that decide ------------------------------------------------------------------------


def _calls(r: APIRouter, svc: Service) -> None:
    """A POST route per call kind, all read from :mod:`engine.events`: its path, summary and
    operationId, its URL parameter and its body (:data:`engine.service.models.BODIES`)."""
    for kind in CALLS:
        r.add_api_route(
            kind.route,
            _call_endpoint(svc, kind),
            methods=["POST"],
            name=kind.operation_id,
            summary=kind.summary,
            response_model=m.DecisionOut,
            tags=["calls"],
            responses=_POST_PROBLEMS,
        )


#: The URL parameters every route of an account shares, described once (a call's own
#: description of the argument says what the member does, not how the URL names it).
_PATH_DOCS = {"account": "The member's account name (any text, e.g. `alice`)."}


def _call_endpoint(svc: Service, kind: EventKind) -> Callable[..., Awaitable[Response]]:
    """The endpoint of ``kind``'s route: the URL's parameter and the body's fields are the
    call's arguments; what the body leaves out takes the default the typed method has.

    FastAPI reads an endpoint's parameters from its signature, so this one gets a made-up
    ``__signature__``: the URL parameter (named as in ``kind.route``, ``{message:path}`` for
    respond: a default message id, ``<sender>/<n>``, holds a slash), the body (optional when
    it has no required field, as cancel's) and the ``Idempotency-Key`` header.
    """
    in_url = next(a for a in kind.args if a.http == "path")
    found = re.search(r"\{(\w+)(?::\w+)?\}", kind.route)
    if found is None:
        raise RuntimeError(f"the route of `{kind.name}` has no parameter for `{in_url.name}`")
    param = found.group(1)
    body_model = m.BODIES[kind.name]
    body_optional = not any(a.required for a in m.body_fields(kind))
    keyword = inspect.Parameter.KEYWORD_ONLY
    signature = inspect.Signature(
        [
            inspect.Parameter(
                param, keyword, annotation=Annotated[str, Path(description=_PATH_DOCS.get(param, in_url.doc))]
            ),
            inspect.Parameter("body", keyword, annotation=body_model | None, default=None)
            if body_optional
            else inspect.Parameter("body", keyword, annotation=body_model),
            inspect.Parameter("key", keyword, annotation=IdempotencyKey, default=None),
        ],
        return_annotation=Response,
    )

    async def endpoint(**given: Any) -> Response:
        # no docstring: it would be the operation's description in the OpenAPI document
        body: BaseModel | None = given["body"]
        fields = body.model_dump(exclude={"at"}) if body is not None else {}
        args = {in_url.name: given[param]}
        for a in kind.args:
            if a is not in_url:
                value = fields.get(a.name)
                args[a.name] = _omitted(a) if value is None else value
        decision, replayed = await svc.call(kind, args, getattr(body, "at", None), given["key"])
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return JSONResponse(decision_json(decision), headers=headers)

    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = kind.name
    return endpoint


def _omitted(arg: Arg) -> Any:
    """What an optional argument is when the body leaves it out: its default as the typed Engine
    method has it (``payment="valid"``), None where the engine works it out (a billing anchor is the
    call's ``at``, a message id is generated)."""
    return None if arg.default is None or arg.default == AT else arg.default


# --- reads, what-if and the policy ----------------------------------------------------------------


def _reads(r: APIRouter, svc: Service) -> None:
    @r.get("/accounts/{account}/balance", response_model=m.BalanceOut, tags=["reads"], responses=_PROBLEMS)
    async def balance(
        account: AccountName,
        at: Annotated[
            str | None,
            Query(
                description="The instant (ISO 8601); default: the server's clock. A read: nothing is stored."
            ),
        ] = None,
    ) -> Response:
        return JSONResponse(svc.engine.balance(account, at if at is not None else svc.clock()).to_dict())

    @r.get("/accounts/{account}/history", response_model=m.HistoryOut, tags=["reads"], responses=_PROBLEMS)
    async def history(account: AccountName) -> Response:
        entries = [e.to_dict() for e in svc.engine.history(account)]
        return JSONResponse({"account": account, "entries": entries})

    @r.post("/decide/{event}", response_model=m.VerdictOut, tags=["what-if"], responses=_POST_PROBLEMS)
    async def decide(
        event: Annotated[str, Path(description=f"One of {', '.join(KINDS)}.")],
        body: m.DecideBody | None = None,
        key: IdempotencyKey = None,
    ) -> Response:
        """Ask the rules about facts you give (the others take their defaults); reads and writes no state."""
        check_event(event)
        policy = svc.engine.policy
        given = given_facts(event, body.facts if body is not None else {}, policy)
        return JSONResponse(what_if(svc.engine.rulebook, policy, event, given)[0])

    @r.get("/plans", response_model=m.PlansOut, tags=["policy"])
    async def plans() -> dict[str, Any]:
        return {"revision": svc.engine.revision, "plans": svc.engine.policy.plan_rows()}

    @r.get("/policy", response_model=m.PolicyOut, tags=["policy"])
    async def policy() -> dict[str, Any]:
        pol = svc.engine.policy
        settings = {
            name: dataclasses.asdict(getattr(pol, name))
            for name in ("credits", "renewal", "cap", "credit_back", "reminder", "purchase")
        }
        book = svc.engine.rulebook
        return {
            "revision": svc.engine.revision,
            "source": pol.source,
            "timezone": pol.timezone,
            "plans": pol.plan_rows(),
            "settings": settings,
            "responses": dict(pol.responses),
            "rules": {ev: [x.id for x in book.rules(ev)] for ev in KINDS},
        }

    @r.post("/policy/reload", response_model=m.ReloadOut, tags=["policy"], responses=_POST_PROBLEMS)
    async def reload(key: IdempotencyKey = None) -> dict[str, Any]:
        """Load the policy and rules files again; an invalid change is a 422 and the running policy stays."""
        previous, revision = svc.reload()
        return {"revision": revision, "previous": previous, "changed": revision != previous}


def decision_json(d: Decision) -> dict[str, Any]:
    """The response body of a decided call (also what an idempotent replay returns, unchanged)."""
    data = d.to_dict()
    return {
        "decision_id": d.id,
        "event": d.event,
        "at": data["at"],
        "account": d.account,
        "outcome": d.outcome,
        "reason": d.reason,
        "status": d.status,
        "rule": d.rule,
        "rules": list(d.rules),
        "requirements": data["requirements"],
        "effects": data["effects"],
        "revision": d.revision,
        "balance": d.balance,
        "purchase_possible": d.purchase_possible,
        "message": d.message,
        "entries": data["entries"],
        "system_events": data["system_events"],
    }
