"""The one request guard of every server of ours (the service and the workbench), before any route.

A server on loopback without a token is reachable by every web page the
machine's browser opens, so the guard refuses what a browser can be made to
send on another site's behalf, and what no honest client sends:

- a ``Host`` the server does not serve (``403 invalid_host``): a page on a
  name that resolves to 127.0.0.1 (DNS rebinding) sends its own name;
- a state-changing request (any method but GET, HEAD, OPTIONS) whose
  ``Origin`` or ``Sec-Fetch-Site`` names another site (``403
  cross_site_request``), unless ``--cors-origin`` names that origin;
- a state-changing request that is not ``Content-Type: application/json``,
  even with an empty body (``415 unsupported_media_type``): a browser sends
  a body-less or form POST to another site without asking first, but never
  a JSON one;
- a URL whose path is not UTF-8, or whose query names a parameter twice
  (``400 invalid_request``: which one would count is a guess);
- a URL or header block larger than an honest client sends (``414
  uri_too_long``, ``431 headers_too_large``), checked here, below the HTTP
  parser's own limit, so the refusal is problem+json like every other;
- a body over ``max_body`` (``413 body_too_large``, counted as it arrives,
  so a body sent in chunks without a ``Content-Length`` is refused too), and
  a JSON body that is malformed, nests too deeply, says ``NaN`` or gives one
  key twice (``400 malformed_json`` / ``400 invalid_request``): a duplicate
  key would otherwise be decided silently by whichever copy the parser keeps.

The body of a state-changing request is read here, whole, and handed on to
the app unchanged; nothing of a refused request reaches the engine.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.codes import C
from engine.service.problems import problem

#: Host names every server answers to, whatever its bind address.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
#: The most a request line's target (path and query) may hold, in bytes.
MAX_TARGET = 8_192
#: The most all header lines together may hold, in bytes (uvicorn's parser stops at 64 KiB: see run.py).
MAX_HEADERS = 16_384
#: The parser's own limit on a request head, set above ours so that ours answers first.
PARSER_LIMIT = 65_536
#: JSON nesting deeper than this is refused before it is parsed (no body of ours nests past 4).
MAX_DEPTH = 64
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORT = {"http": 80, "https": 443}


@dataclass(frozen=True)
class GuardRules:
    """Which hosts and origins a server accepts, and its body limit."""

    hosts: frozenset[str] = LOOPBACK_NAMES
    any_address: bool = False  # bound to 0.0.0.0 / ::: any IP address literal is one of ours
    cors_origins: frozenset[str] = frozenset()
    max_body: int = 65_536

    @classmethod
    def make(
        cls,
        bind: str,
        allowed_hosts: Iterable[str] = (),
        cors_origins: Iterable[str] = (),
        max_body: int = 65_536,
    ) -> GuardRules:
        wildcard = bind in ("0.0.0.0", "::", "")
        hosts = set(LOOPBACK_NAMES) | {h.lower().strip("[]") for h in allowed_hosts}
        if not wildcard:
            hosts.add(bind.lower().strip("[]"))
        return cls(
            frozenset(hosts), wildcard, frozenset(o.lower().rstrip("/") for o in cors_origins), max_body
        )

    def host_allowed(self, name: str) -> bool:
        if name in self.hosts:
            return True
        if self.any_address:
            try:
                ipaddress.ip_address(name)
                return True
            except ValueError:
                return False
        return False


def split_host(value: str) -> tuple[str, int | None] | None:
    """A ``Host`` header's name (lowercase, IPv6 without brackets) and port; None if it is not one."""
    try:
        parts = urlsplit(f"http://{value}")
        name, port = parts.hostname, parts.port
    except ValueError:
        return None
    if (
        not name
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
        or any(c.isspace() for c in value)
    ):
        return None
    return name, port


def check_origin(value: str) -> str | None:
    """An origin as ``scheme://host[:port]``, lowercase and with a default port left out; None if not one."""
    try:
        parts = urlsplit(value.strip())
        name, port = parts.hostname, parts.port
    except ValueError:
        return None
    if (
        parts.scheme not in _DEFAULT_PORT
        or not name
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        return None
    shown = f"[{name}]" if ":" in name else name
    return f"{parts.scheme}://{shown}" + ("" if port in (None, _DEFAULT_PORT[parts.scheme]) else f":{port}")


class _Gone(Exception):
    pass


class _Refused(Exception):
    def __init__(
        self, code: C, detail: str, help: str | None = None, status: int | None = None, **extra: Any
    ) -> None:
        super().__init__(code)
        self.code, self.detail, self.help, self.status, self.extra = code, detail, help, status, extra


class RequestGuard:
    """The ASGI middleware that applies :class:`GuardRules` to every HTTP request."""

    def __init__(self, app: ASGIApp, rules: GuardRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            headers = self._check_head(scope)
            if scope["method"] in _SAFE:
                await self.app(scope, receive, send)
                return
            self._check_site(headers)
            body = await self._read_body(headers, receive)
        except _Gone:
            return
        except _Refused as r:
            await problem(
                r.code, r.detail, help=r.help, instance=scope.get("path", ""), status=r.status, **r.extra
            )(scope, receive, send)
            return
        given = False

        async def replay() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    # --- the request head -------------------------------------------------------------------------

    def _check_head(self, scope: Scope) -> dict[str, str]:
        path = scope.get("raw_path") or scope.get("path", "").encode()
        target = len(path) + len(scope.get("query_string", b""))
        if target > MAX_TARGET:
            raise _Refused(C.uri_too_long, f"the URL holds {target:,} bytes, more than {MAX_TARGET:,}")
        try:
            unquote_to_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(
                C.invalid_request, "the URL's path is not UTF-8 once its %-escapes are decoded", status=400
            ) from None
        names = Counter(
            name
            for name, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        )
        twice = sorted(n for n, times in names.items() if times > 1)
        if twice:
            raise _Refused(
                C.invalid_request, f"the query gives `{twice[0][:100]}` more than once", status=400
            )
        size = sum(len(k) + len(v) + 4 for k, v in scope["headers"])
        if size > MAX_HEADERS:
            raise _Refused(C.headers_too_large, f"the headers hold {size:,} bytes, more than {MAX_HEADERS:,}")
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            name = k.decode("latin-1").lower()
            if name == "host" and "host" in headers:
                raise _Refused(C.invalid_host, "the request names its `Host` twice")
            headers[name] = v.decode("latin-1")
        host = headers.get("host")
        parsed = split_host(host) if host is not None else None
        if parsed is None or not self.rules.host_allowed(parsed[0]):
            shown = "no `Host` header" if host is None else f"`Host: {host[:200]}`"
            raise _Refused(
                C.invalid_host,
                f"this server does not answer to {shown}",
                help="call it by the address it listens on, `localhost`, or a name given with --allowed-host",
            )
        return headers

    def _check_site(self, headers: dict[str, str]) -> None:
        """Refuse a state-changing request another site's page made (its browser says so)."""
        origin = headers.get("origin")
        allowed = False
        advice = "call the server from its own pages, or start it with --cors-origin ORIGIN"
        if origin is not None:
            normal = check_origin(origin)
            own = check_origin(f"http://{headers['host']}")
            allowed = normal is not None and normal in self.rules.cors_origins
            if not allowed and (
                normal is None or own is None or normal.partition("://")[2] != own.partition("://")[2]
            ):
                raise _Refused(
                    C.cross_site_request,
                    f"a request from `{origin[:200]}` may not change anything here",
                    help=advice,
                )
        site = headers.get("sec-fetch-site", "").strip().lower()
        if site not in ("", "same-origin", "none") and not allowed:
            raise _Refused(
                C.cross_site_request,
                f"a request from another site (`Sec-Fetch-Site: {site[:40]}`) may not change anything here",
                help=advice,
            )
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json" and not (ctype.startswith("application/") and ctype.endswith("+json")):
            shown = f"`{ctype[:100]}`" if ctype else "no `Content-Type`"
            raise _Refused(
                C.unsupported_media_type,
                f"a request that changes something must be JSON, not {shown} (even with no body)",
                help="send the header `Content-Type: application/json`",
            )

    # --- the body ---------------------------------------------------------------------------------

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self.rules.max_body
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise _Refused(C.invalid_header, "`Content-Length` must be a number of bytes")
            if int(length) > limit:
                raise _Refused(C.body_too_large, f"a request body may hold at most {limit:,} bytes")
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nobody to answer
                raise _Gone
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                raise _Refused(C.body_too_large, f"a request body may hold at most {limit:,} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.strip():
            strict_json(body)
        return body


def strict_json(body: bytes) -> Any:
    """Parse a body as JSON, refusing what ``json.loads`` would take but no client of ours means."""
    depth = nested = 0
    quoted = escaped = False
    # json.loads recurses once per level and may exhaust the stack: count the depth first, byte by
    # byte, but only for a body with enough brackets to be deep (most have a handful)
    opened = body.count(b"[") + body.count(b"{")
    for byte in body if opened > MAX_DEPTH else b"":
        if quoted:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                quoted = False
        elif byte == 0x22:
            quoted = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            nested = max(nested, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    if nested > MAX_DEPTH:
        raise _Refused(C.malformed_json, f"the body nests {nested} levels deep, more than {MAX_DEPTH}")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise _Refused(
                    C.invalid_request,
                    f"the key `{key[:100]}` is given twice",
                    status=400,
                    errors=[
                        {"loc": ["body", key[:100]], "message": "duplicate key", "type": "duplicate_key"}
                    ],
                )
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise _Refused(C.malformed_json, f"`{name}` is not a JSON number")

    try:
        return json.loads(body, object_pairs_hook=pairs, parse_constant=constant)
    except (ValueError, RecursionError):
        raise _Refused(C.malformed_json, "the body is not valid JSON") from None
