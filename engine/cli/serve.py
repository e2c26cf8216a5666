"""`inmail serve`: the engine as an HTTP service (FastAPI on uvicorn), for apps not written in Python.

The service itself is :mod:`engine.service`; this command reads the options,
the token (``--token-file`` or ``INMAIL_TOKEN``) and hands over. FastAPI and
uvicorn come with the ``serve`` extra (``pip install -e '.[serve]'``).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from engine.cli._common import policy_option, rules_option
from engine.codes import C


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; one that is not loopback needs a token.",
)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option(
    "--db",
    default="inmail.db",
    show_default=True,
    metavar="URL",
    help="The store: a SQLite file, sqlite:///FILE, postgresql://..., or `memory` (one worker).",
)
@policy_option
@rules_option
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes on the one store.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A file holding the bearer token every /v1 call must give (default: $INMAIL_TOKEN).",
)
@click.option(
    "--decision-log",
    default=None,
    metavar="FILE",
    help="Append one JSON line per decision to FILE (`-`: standard output).",
)
@click.option(
    "--max-body", default=65_536, show_default=True, type=int, help="Largest request body, in bytes."
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Another name clients use in `Host` (besides the bind address and localhost); repeatable.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A web origin (https://app.example) whose pages may call the service; repeatable.",
)
@click.option(
    "--access-log",
    type=click.Choice(["off", "json"]),
    default="off",
    show_default=True,
    help="`json`: one JSON line per request on standard error (time, client, route, status, code, ms).",
)
@click.option(
    "--metrics-open",
    is_flag=True,
    help="Let /metrics answer without the token (for a scraper inside a trusted network).",
)
def serve(
    host: str,
    port: int,
    db: str,
    policy_path: str | None,
    rules_dir: str | None,
    workers: int,
    token_file: str | None,
    decision_log: str | None,
    max_body: int,
    allowed_hosts: tuple[str, ...],
    cors_origins: tuple[str, ...],
    access_log: str,
    metrics_open: bool,
) -> None:
    """Serve the engine over HTTP: OpenAPI at /openapi.json, interactive docs at /docs."""
    try:  # everything the server will import, so a missing package is said here, not as a traceback
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
        import uvicorn  # noqa: F401

        from engine.service.run import serve as run
        from engine.service.state import ServiceConfig
    except ImportError as exc:
        raise C.missing_dependency(
            f"the service needs its extra packages ({exc.name} is missing)",
            help="pip install 'inmail-engine[serve]'",
        ) from None
    token = _token(token_file)
    if not 1_024 <= max_body <= 16_777_216:
        raise C.invalid_argument("--max-body must be from 1,024 to 16,777,216 bytes")
    run(
        ServiceConfig(
            db=db,
            policy=policy_path,
            rules=rules_dir,
            token=token,
            decision_log=decision_log,
            max_body=max_body,
            host=host,
            allowed_hosts=allowed_hosts,
            cors_origins=cors_origins,
            access_log=access_log == "json",
            metrics_open=metrics_open,
        ),
        host=host,
        port=port,
        workers=workers,
    )


def _token(token_file: str | None) -> str | None:
    if token_file is None:
        return os.environ.get("INMAIL_TOKEN") or None
    try:
        text = Path(token_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise C.invalid_token(f"cannot read the token file `{token_file}`: {exc}") from None
    if not text or "\n" in text:
        raise C.invalid_token(f"the token file `{token_file}` must hold one line, the token")
    return text
