"""Errors as ``application/problem+json`` (RFC 9457), one status per engine code.

An HTTP client needs two things from a refusal: a status its library acts on
(404: no such thing, 409: a conflict with what is stored, 422: a value the
engine cannot take) and the engine's stable ``code`` to branch on. The codes
are the same ones the CLI prints and :class:`~engine.errors.EngineError`
carries, and each one's status is in the catalog beside its meaning
(:mod:`engine.codes`), so one table serves every door. A policy refused on
reload also carries its ``diagnostics`` (file, line, column, code, message,
help), exactly what ``inmail validate`` prints.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from engine.codes import INPUT_STATUS, C
from engine.errors import EngineError, InvalidInput
from engine.source.diagnostics import Diagnostic, printable

PROBLEM_TYPE = "application/problem+json"
#: The service's log (engine.service.state logs there too): an internal error is written in full.
_log = logging.getLogger("inmail.service")

#: Codes whose status is not 422 ("a value the engine cannot take"), from the catalog (:mod:`engine.codes`).
STATUS: dict[str, int] = {str(c): c.status for c in C if c.status not in (None, INPUT_STATUS)}

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    414: "URI too long",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal error",
    502: "Bad gateway",
    503: "Store unavailable",
}


def status_of(code: str) -> int:
    return STATUS.get(code, INPUT_STATUS)


def problem(
    code: str,
    detail: str,
    *,
    help: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    status: int | None = None,
    **extra: Any,
) -> Response:
    """One problem response: ``type`` names the code, so a client may branch on either.

    ``status`` overrides the code's own for the one code two statuses share: ``invalid_request``
    is 422 for a body of the wrong shape, 400 for one that is not strict JSON (a key twice).
    """
    code = str(code)  # a member of the catalog is a str subclass: the body holds plain text
    status = status or status_of(code)
    body: dict[str, Any] = {
        "type": f"urn:inmail:problem:{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": printable(detail),
    }
    if help:
        body["help"] = printable(help)
    if instance:
        body["instance"] = instance
    body.update(extra)
    if status == 503:
        headers = {"Retry-After": "1", **(headers or {})}
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type=PROBLEM_TYPE, headers=headers
    )


def from_error(exc: EngineError, instance: str | None = None) -> Response:
    """The problem for an engine error, with the diagnostics of a refused policy or rules file."""
    if isinstance(exc, InvalidInput):
        errors = [d for d in exc.diagnostics if d.severity == "error"]
        first = errors[0] if errors else None
        detail = f"{len(errors)} problem{'s' if len(errors) != 1 else ''} found" + (
            f"; first: {first.message}" if first else ""
        )
        return problem(exc.code, detail, instance=instance, diagnostics=diagnostics(exc.diagnostics))
    return problem(exc.code, exc.message, help=exc.help, instance=instance)


def diagnostics(found: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    """Diagnostics as JSON: where (file, line, column), what (severity, code, message) and help."""
    return [
        {
            "file": d.loc.file if d.loc else None,
            "line": d.loc.line if d.loc else None,
            "column": d.loc.column if d.loc else None,
            "severity": d.severity,
            "code": d.code,
            "message": printable(d.message),
            "help": None if d.help is None else printable(d.help),
        }
        for d in found
    ]


class Unauthorized(Exception):
    """A route's bearer token is missing or wrong: answered as ``unauthorized`` (401)."""


def install_handlers(app: FastAPI) -> None:
    """Every error a route lets out as a problem: the engine's with its code, the framework's with ours."""

    @app.exception_handler(EngineError)
    async def engine_error(request: Request, exc: EngineError) -> Response:
        return from_error(exc, request.url.path)

    @app.exception_handler(Unauthorized)
    async def unauthorized(request: Request, exc: Unauthorized) -> Response:
        return problem(
            C.unauthorized,
            "this route needs `Authorization: Bearer <token>`",
            instance=request.url.path,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "loc": [str(x) for x in e.get("loc", ())],
                "message": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(C.malformed_json, "the body is not valid JSON", instance=request.url.path)
        where = ".".join(errors[0]["loc"]) if errors else ""
        message = str(errors[0]["message"]) if errors else "invalid request"
        return problem(
            C.invalid_request,
            f"{where}: {message}" if where else message,
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: C.not_found, 405: C.method_not_allowed}.get(exc.status_code, C.malformed_body)
        detail = {
            404: f"no route `{request.url.path}`",
            405: f"`{request.method}` is not allowed on `{request.url.path}`",
        }.get(exc.status_code, str(exc.detail))
        return problem(code, detail, instance=request.url.path, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:  # a bug: said plainly, logged in full
        _log.exception("internal error on %s %s", request.method, request.url.path)
        return problem(
            C.internal_error, "the service failed on this request; it is logged", instance=request.url.path
        )
