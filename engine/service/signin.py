"""Sign-in for a shared workbench: one token for the team, a name for each editor, a session cookie.

A workbench started with ``--token-file`` (required on a ``--host`` other
than loopback, since the page writes the policy) answers nothing but its
sign-in page until the browser holds a session: every other route, the
page, its JSON, ``/v1``, ``/metrics`` and the API docs alike, is behind
:class:`SignInGate`. Signing in takes the token and the editor's name; the
session cookie it sets is ``HttpOnly`` (the page's scripts never see it) and
``SameSite=Strict`` (a request another site makes carries no cookie), on top
of the Host/Origin guard every server of ours has. The name is the author of
the editor's versions (git commits), so History says who changed what.

Scripts may send ``Authorization: Bearer <token>`` instead of a cookie; they
have no name, so their saves are committed under git's own identity.
Sessions live in this process only: a restart asks everyone to sign in
again (their drafts are in their browsers and survive it). Wrong tokens are
counted per client address; past :data:`MAX_FAILURES` in a minute that
address is answered ``429 too_many_attempts`` until the minute is over, so
a token cannot be guessed at the speed of the network.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from engine.codes import C
from engine.service.models import Problem
from engine.service.problems import problem

#: The session cookie's name.
COOKIE = "inmail_wb_session"
#: How long a session lasts without signing in again.
SESSION_SECONDS = 12 * 3600
#: Wrong tokens one client address may send in :data:`WINDOW_SECONDS` before it is made to wait.
MAX_FAILURES = 10
WINDOW_SECONDS = 60.0
#: The most sessions kept at once (the oldest is dropped first): a bound on memory.
MAX_SESSIONS = 1_000
#: What answers without a session: the sign-in page, what it loads, and the liveness probe.
OPEN_PATHS = frozenset(
    {"/signin", "/wb/api/signin", "/healthz", "/wb/static/workbench.css", "/wb/static/wb/signin.js"}
)
_PAGE = Path(__file__).with_name("static") / "signin.html"


@dataclass
class Sessions:
    """The token, the sessions made with it (id -> editor's name and expiry) and recent failures.

    ``clock`` is seconds on a monotonic scale; tests give their own."""

    token: str = field(repr=False)
    clock: Callable[[], float] = time.monotonic
    _open: dict[str, tuple[str, float]] = field(default_factory=dict, repr=False)
    _failed: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def token_ok(self, given: str) -> bool:
        """Compared in constant time, so the answer's timing does not tell how much of it was right."""
        return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), self.token.encode())

    def start(self, name: str) -> str:
        """A new session for ``name``: its id, 256 random bits."""
        sid = secrets.token_urlsafe(32)
        with self._lock:
            while len(self._open) >= MAX_SESSIONS:
                self._open.pop(next(iter(self._open)))
            self._open[sid] = (name, self.clock() + SESSION_SECONDS)
        return sid

    def editor(self, sid: str | None) -> str | None:
        """The name of the session ``sid``; None when there is none or it has expired."""
        if not sid:
            return None
        with self._lock:
            found = self._open.get(sid)
            if found is None:
                return None
            if found[1] <= self.clock():
                del self._open[sid]
                return None
            return found[0]

    def end(self, sid: str | None) -> None:
        with self._lock:
            self._open.pop(sid or "", None)

    def wait(self, client: str) -> float:
        """Seconds ``client`` must wait before its next try (0: it may try now)."""
        with self._lock:
            failed = self._recent(client)
            return 0.0 if len(failed) < MAX_FAILURES else max(1.0, failed[0] + WINDOW_SECONDS - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            if client not in self._failed and len(self._failed) >= MAX_SESSIONS:
                self._failed.pop(next(iter(self._failed)))
            self._recent(client).append(self.clock())

    def _recent(self, client: str) -> deque[float]:
        failed = self._failed.setdefault(client, deque(maxlen=MAX_FAILURES))
        while failed and failed[0] <= self.clock() - WINDOW_SECONDS:
            failed.popleft()
        return failed


def session_id(scope: Scope) -> str | None:
    """The session cookie of a request, if it sends one."""
    for name, value in scope["headers"]:
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a cookie header we cannot read is no session
                return None
            if COOKIE in jar:
                return jar[COOKIE].value
    return None


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, given = value.decode("latin-1").partition(" ")
            return given.strip() if scheme.lower() == "bearer" else None
    return None


def editor_of(request: Request) -> str | None:
    """The signed-in editor's name (for a version's author), or None."""
    return getattr(request.state, "editor", None)


class SignInGate:
    """ASGI middleware: a request passes with a live session or the bearer token, else it is sent to
    the sign-in page (a page a browser asked for) or answered ``401 unauthorized``."""

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        name = self.sessions.editor(session_id(scope))
        bearer = _bearer(scope)
        if name is not None or (bearer is not None and self.sessions.token_ok(bearer)):
            scope.setdefault("state", {})["editor"] = name
            await self.app(scope, receive, send)
            return
        accept = dict(scope["headers"]).get(b"accept", b"").decode("latin-1")
        if scope["method"] in ("GET", "HEAD") and "text/html" in accept:
            back = quote(scope["path"], safe="/")
            response: Response = RedirectResponse(f"/signin?next={back}", status_code=303)
        else:
            response = problem(
                C.unauthorized,
                "sign in first: this workbench is shared and needs its token",
                help="open /signin in a browser, or send `Authorization: Bearer <token>`",
                instance=scope["path"],
                headers={"WWW-Authenticate": "Bearer"},
            )
        await response(scope, receive, send)


class SignInBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    token: str = Field(min_length=1, max_length=4096, description="The workbench's token.")
    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[^<>\x00-\x1f\x7f]*[^<>\x00-\x1f\x7f\s][^<>\x00-\x1f\x7f]*$",
        description="The editor's name, the author of the versions they save (one line, no `<` `>`).",
    )


class SignedIn(BaseModel):
    name: str | None = Field(description="The signed-in editor, or None (a bearer token, no name).")
    shared: bool = Field(description="Whether this workbench asks for sign-in (it has a token).")


def add_signin(app: FastAPI, sessions: Sessions | None) -> None:
    """The sign-in page and routes; with ``sessions`` None (a workbench on loopback without a token)
    only ``/wb/api/me`` is there, saying nobody needs to sign in."""
    r = APIRouter(prefix="/wb/api", tags=["workbench"])

    @r.get("/me", response_model=SignedIn)
    def me(request: Request) -> dict[str, Any]:
        return {"name": editor_of(request), "shared": sessions is not None}

    if sessions is not None:

        @r.post(
            "/signin",
            response_model=SignedIn,
            responses={s: {"model": Problem} for s in (400, 401, 403, 413, 415, 422, 429)},
        )
        def signin(body: SignInBody, request: Request) -> Response:
            """Take the token and a name; set the session cookie (HttpOnly, SameSite=Strict)."""
            client = request.client.host if request.client else "?"
            wait = sessions.wait(client)
            if wait:
                return problem(
                    C.too_many_attempts,
                    f"too many wrong tokens from {client}: wait {wait:.0f} s before trying again",
                    instance=request.url.path,
                    headers={"Retry-After": str(int(wait + 0.999))},
                )
            if not sessions.token_ok(body.token):
                sessions.failed(client)
                return problem(
                    C.unauthorized, "that is not this workbench's token", instance=request.url.path
                )
            name = body.name.strip()
            answer = JSONResponse({"name": name, "shared": True})
            answer.set_cookie(
                COOKIE,
                sessions.start(name),
                max_age=SESSION_SECONDS,
                path="/",
                httponly=True,
                samesite="strict",
            )
            return answer

        @r.post("/signout", response_model=SignedIn)
        def signout(request: Request) -> Response:
            """End this browser's session; the page goes back to sign-in."""
            sessions.end(session_id(request.scope))
            answer = JSONResponse({"name": None, "shared": True})
            answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
            return answer

        @app.get("/signin", include_in_schema=False)
        async def page() -> FileResponse:
            return FileResponse(_PAGE, headers={"Cache-Control": "no-store"})

    app.include_router(r)
