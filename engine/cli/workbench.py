"""`inmail workbench [FOLDER]`: a web page on loopback where a policy editor edits, tries and compares.

The page and its routes are :mod:`engine.service.workbench`; it writes only
FOLDER's ``policies.yaml`` and ``rules/*.yaml``. It needs the ``serve`` extra.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine.cli.serve import _token
from engine.codes import C
from engine.errors import InvalidInput
from engine.source.diagnostics import render_all
from engine.source.paths import packaged_policy_path, packaged_rules_dir, resolve_policy, resolve_rules

if TYPE_CHECKING:
    from engine.service.publish import PublishTarget


@click.command()
@click.argument("folder", type=click.Path(file_okay=False), default=".")
@click.option("--port", default=8710, show_default=True, type=int)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on; any but loopback needs --token-file (editors sign in with it).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A file holding the token editors sign in with (one line); then every page and route needs it.",
)
@click.option(
    "--db",
    "db",
    multiple=True,
    metavar="URL",
    help="A store whose event log the impact page may replay (its real history); repeatable.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Another name the page is opened by (besides 127.0.0.1 and localhost); repeatable.",
)
@click.option(
    "--publish-to",
    "publish_to",
    default=None,
    metavar="URL",
    help="A running `inmail serve` on the same folder that the page's Publish reloads (http://HOST:PORT).",
)
@click.option(
    "--publish-token-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A file holding the bearer token of the service given with --publish-to.",
)
def workbench(
    folder: str,
    port: int,
    host: str,
    token_file: str | None,
    db: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    publish_to: str | None,
    publish_token_file: str | None,
) -> None:
    """Open the policy workbench on FOLDER (default: here) at http://HOST:PORT/ (default 127.0.0.1:8710).

    Shared with others (--host 0.0.0.0 or a name), it needs --token-file: a sign-in page asks
    each editor for the token and a name, the author of the versions they save."""
    try:
        import uvicorn

        from engine.service.app import create_app
        from engine.service.guard import PARSER_LIMIT
        from engine.service.run import check_guard, check_port, is_loopback
        from engine.service.state import Service, ServiceConfig
        from engine.service.workbench import MAX_BODY
    except ImportError as exc:
        raise C.missing_dependency(
            f"the workbench needs its extra packages ({exc.name} is missing)",
            help="pip install 'inmail-engine[serve]'",
        ) from None
    root = Path(folder).resolve()
    if not root.is_dir():
        raise C.file_not_found(f"`{folder}` is not a folder")
    token = _token(token_file) if token_file is not None else None
    if token is None and not is_loopback(host):  # the page writes the policy: nobody unnamed may
        raise C.token_required(
            f"`{host}` is not a loopback address: a workbench others can reach needs --token-file"
        )
    if token is not None and len(token) > 4096:
        raise C.invalid_token("the token must be 1 to 4,096 characters")
    target = _publish_target(publish_to, publish_token_file)
    check_port(host, port)
    for url in db:
        from engine.core.engine import Engine

        with Engine.open(
            db=url, create=False, policy=resolve_policy(None, cwd=root), rules=resolve_rules(None, cwd=root)
        ):
            pass  # a store that is not there is refused now, not at the first impact report
    config = ServiceConfig(
        db="memory",
        policy=str(resolve_policy(None, cwd=root)),
        rules=str(resolve_rules(None, cwd=root)),
        host=host,
        allowed_hosts=allowed_hosts,
        max_body=MAX_BODY,
    )
    check_guard(config)
    try:
        service = Service(config)
    except InvalidInput as exc:  # a broken folder is what the workbench is for: open it to be fixed
        click.echo(render_all(exc.diagnostics), err=True)
        click.echo(
            "inmail workbench: the folder's files do not load; the page shows why. Until they are "
            "fixed, /v1 answers with the packaged policy.",
            err=True,
        )
        packaged = replace(config, policy=str(packaged_policy_path()), rules=str(packaged_rules_dir()))
        service = Service(packaged)
    app = create_app(
        service=service, workbench=root, workbench_store=db, workbench_publish=target, workbench_token=token
    )
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"inmail workbench: http://{shown}:{port}/ (folder {root})", err=True)
    if token is not None:
        click.echo("inmail workbench: shared; editors sign in with the token at /signin", err=True)
    if target is not None:
        click.echo(f"inmail workbench: Publish reloads the service at {target.url}", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        h11_max_incomplete_event_size=PARSER_LIMIT,
    )


def _publish_target(url: str | None, token_file: str | None) -> PublishTarget | None:
    """The service Publish reloads: its URL checked and its token read now, once (never shown)."""
    from engine.service.publish import PublishTarget, check_url

    if url is None:
        if token_file is not None:
            raise C.invalid_argument("--publish-token-file is for --publish-to: give both")
        return None
    return PublishTarget(check_url(url), _token(token_file) if token_file is not None else None)
