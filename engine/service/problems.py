"""Errors as ``application/problem+json`` (RFC 9457), one status per engine code.

An HTTP client needs two things from a refusal: a status its library acts on
(404: no such thing, 409: a conflict with what is stored, 422: a value the
engine cannot take) and the engine's stable ``code`` to branch on. The codes
are the same ones the CLI prints and :class:`~engine.errors.EngineError`
carries, so one table of meanings serves every door. A policy refused on
reload also carries its ``diagnostics`` (file, line, column, code, message,
help), exactly what ``inmail validate`` prints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from engine.errors import EngineError, InvalidInput
from engine.source.diagnostics import Diagnostic, printable

PROBLEM_TYPE = "application/problem+json"

#: Codes whose status is not 422 ("a value the engine cannot take").
STATUS: dict[str, int] = {
    "unknown_account": 404,
    "unknown_message": 404,
    "unknown_event": 404,
    "not_found": 404,
    "unknown_scenario": 404,
    "no_store": 409,
    "changed_on_disk": 409,
    "nothing_to_undo": 409,
    "account_exists": 409,
    "message_exists": 409,
    "idempotency_key_reused": 409,
    "time_went_back": 409,
    "malformed_json": 400,
    "malformed_body": 400,
    "invalid_key": 400,
    "invalid_header": 400,
    "unauthorized": 401,
    "invalid_host": 403,
    "cross_site_request": 403,
    "uri_too_long": 414,
    "headers_too_large": 431,
    "method_not_allowed": 405,
    "body_too_large": 413,
    "unsupported_media_type": 415,
    "store_conflict": 503,
    "store_unavailable": 503,
    "closed": 503,
    "rule_engine_failure": 500,
    "internal_error": 500,
}

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
    431: "Request header fields too large",
    500: "Internal error",
    503: "Store unavailable",
}


def status_of(code: str) -> int:
    return STATUS.get(code, 422)


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
