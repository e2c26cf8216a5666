"""Refuse a request body before anything reads it: too large (413) or not JSON (415).

A plain ASGI middleware, so that the limit holds for a body sent in chunks
without a ``Content-Length`` too: the bytes are counted as they arrive and
the request is answered 413 as soon as they pass the limit. Nothing of such
a request reaches the engine.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.service.problems import problem


class BodyTooLarge(Exception):
    pass


class BodyGuard:
    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        path = scope.get("path", "")
        if length is not None:
            if not length.isdigit():
                await problem("invalid_header", "`Content-Length` must be a number of bytes",
                              instance=path)(scope, receive, send)
                return
            if int(length) > self.max_body:
                await self._too_large(scope, receive, send)
                return
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        json_body = ctype == "application/json" or ctype.endswith("+json")
        if not json_body and ((ctype and length != "0") or (not ctype and length not in (None, "0"))):
            shown = f"`{ctype}`" if ctype else "a body without a Content-Type"
            await problem("unsupported_media_type", f"the body must be `application/json`, not {shown}",
                          help="send the header `Content-Type: application/json`",
                          instance=path)(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Any = problem("body_too_large", f"a request body may hold at most {self.max_body:,} bytes",
                                instance=scope.get("path", ""))
        await response(scope, receive, send)
