"""The HTTP routes: each one turns a request into one Engine call and the answer into JSON.

The routes hold no logic of their own; the engine decides, checks and
refuses, and :mod:`engine.service.problems` turns a refusal into its status.
What is HTTP's alone is here: the ``Idempotency-Key`` header (a replay
answers ``Idempotent-Replayed: true``), the bearer token, the body limits
(:mod:`engine.service.guard`), and the default ``at`` (the server's clock).
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.responses import JSONResponse, Response

from engine import __version__
from engine.model import Decision
from engine.rules import catalog
from engine.rules.defaults import check_event, given_facts, what_if
from engine.service import models as m
from engine.service.guard import GuardRules, RequestGuard
from engine.service.metrics import CONTENT_TYPE, Measured
from engine.service.problems import Unauthorized, install_handlers
from engine.service.state import Service, ServiceConfig


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
    workbench_store: str | None = None,
) -> FastAPI:
    """The service's ASGI app (``config`` default: what ``inmail serve`` put in the environment);
    with ``workbench`` (a policy folder), also the workbench page and its routes on that folder
    (``workbench_store``: a store its impact page may replay)."""
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
    app.add_middleware(Measured, metrics=svc.metrics)  # outermost: the guard's refusals count too
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
        dependencies=[Depends(token), *bearer],
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
        from engine.service.workbench import add_workbench

        add_workbench(app, svc, Folder(workbench), workbench_store)

    _api_docs(app)

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
#: `send_v1_accounts__account__send_post`. Routes not named here get their function's name in camelCase.
OPERATION_IDS = {
    "change_plan": "changePlan",
    "payment": "setPayment",
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
    def answer(decision: Decision, replayed: bool) -> Response:
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return JSONResponse(decision_json(decision), headers=headers)

    def route(path: str, summary: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return r.post(
            path, response_model=m.DecisionOut, summary=summary, tags=["calls"], responses=_POST_PROBLEMS
        )

    @route("/accounts/{account}/subscribe", "Start a subscription (opening the account if new)")
    async def subscribe(account: AccountName, body: m.SubscribeBody, key: IdempotencyKey = None) -> Response:
        args = {
            "account": account,
            "plan": body.plan,
            "billing_anchor": body.billing_anchor,
            "payment": body.payment or "valid",
        }
        return answer(
            *await svc.call(
                "subscribe",
                args,
                body.at,
                key,
                lambda e, at, k: e.subscribe(
                    account,
                    body.plan,
                    at=at,
                    billing_anchor=body.billing_anchor,
                    payment=body.payment or "valid",
                    key=k,
                ),
            )
        )

    @route("/accounts/{account}/send", "May this member InMail `to` now? If so, the message goes out")
    async def send(account: AccountName, body: m.SendBody, key: IdempotencyKey = None) -> Response:
        args = {"sender": account, "recipient": body.to, "message_id": body.message_id}
        return answer(
            *await svc.call(
                "send",
                args,
                body.at,
                key,
                lambda e, at, k: e.send(account, body.to, at=at, message_id=body.message_id, key=k),
            )
        )

    # `:path`: a default message id, `<sender>/<n>`, holds a slash (sent as `%2F`, decoded before routing)
    @route("/messages/{message:path}/respond", "The recipient responds; the rules decide the credit back")
    async def respond(
        message: Annotated[str, Path(description="The message id a send returned.")],
        body: m.RespondBody,
        key: IdempotencyKey = None,
    ) -> Response:
        args = {"message_id": message, "response_type": body.with_}
        return answer(
            *await svc.call(
                "respond", args, body.at, key, lambda e, at, k: e.respond(message, body.with_, at=at, key=k)
            )
        )

    @route("/accounts/{account}/purchase", "Buy extra credits, if the plan may")
    async def purchase(account: AccountName, body: m.PurchaseBody, key: IdempotencyKey = None) -> Response:
        return answer(
            *await svc.call(
                "purchase",
                {"account": account, "credits": body.credits},
                body.at,
                key,
                lambda e, at, k: e.purchase(account, body.credits, at=at, key=k),
            )
        )

    @route("/accounts/{account}/cancel", "Cancel the subscription (the rules forfeit the balance)")
    async def cancel(
        account: AccountName, body: m.AtBody | None = None, key: IdempotencyKey = None
    ) -> Response:
        at = body.at if body is not None else None
        return answer(
            *await svc.call(
                "cancel", {"account": account}, at, key, lambda e, at, k: e.cancel(account, at=at, key=k)
            )
        )

    @route("/accounts/{account}/change-plan", "Move to another plan")
    async def change_plan(
        account: AccountName, body: m.ChangePlanBody, key: IdempotencyKey = None
    ) -> Response:
        return answer(
            *await svc.call(
                "change_plan",
                {"account": account, "plan": body.plan},
                body.at,
                key,
                lambda e, at, k: e.change_plan(account, body.plan, at=at, key=k),
            )
        )

    @route("/accounts/{account}/payment", "Record the card on file as valid or expired")
    async def payment(account: AccountName, body: m.PaymentBody, key: IdempotencyKey = None) -> Response:
        return answer(
            *await svc.call(
                "payment",
                {"account": account, "status": body.status},
                body.at,
                key,
                lambda e, at, k: e.set_payment(account, body.status, at=at, key=k),
            )
        )

    @route("/accounts/{account}/connect", "Make two members 1st-degree connections")
    async def connect(account: AccountName, body: m.ConnectBody, key: IdempotencyKey = None) -> Response:
        return answer(
            *await svc.call(
                "connect",
                {"account": account, "other": body.with_},
                body.at,
                key,
                lambda e, at, k: e.connect(account, body.with_, at=at, key=k),
            )
        )


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
        event: Annotated[str, Path(description=f"One of {', '.join(catalog.EVENT_KINDS)}.")],
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
            "rules": {ev: [x.id for x in book.rules(ev)] for ev in catalog.EVENT_KINDS},
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
