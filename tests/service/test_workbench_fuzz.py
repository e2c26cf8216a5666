"""Every workbench route (``/wb/api``), fuzzed by Schemathesis against the workbench's own OpenAPI document.

The page is not the only client of these routes: whatever a request holds, the answer is one the
document declares (never a 5xx), with a body valid against the declared model. The folder is a
copy of the repository's policy, rules and scenarios in a temporary directory, so a save the fuzzer
gets through (it needs the file's token, which a steered value supplies) writes only there; half of
the generated values are swapped for names the folder knows (files, events, scenarios, facts), so
the requests reach the loaders, the rules and the round trip, not only the refusals.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import settings
from starlette.types import ASGIApp

from engine.rules import catalog
from engine.service.app import create_app
from engine.service.folder import Folder, token
from engine.service.state import Service, ServiceConfig

from .test_openapi_fuzz import CHECKS, FUZZ, steer, steer_body

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 12

_TMP = tempfile.mkdtemp(prefix="inmail-wb-fuzz-")
atexit.register(shutil.rmtree, _TMP, True)
FOLDER = Path(_TMP)
shutil.copy(ROOT / "policies.yaml", FOLDER / "policies.yaml")
shutil.copytree(ROOT / "rules", FOLDER / "rules")
shutil.copytree(ROOT / "examples" / "scenarios", FOLDER / "examples" / "scenarios")


def _service() -> Service:
    return Service(
        ServiceConfig(
            db="memory",
            policy=str(FOLDER / "policies.yaml"),
            rules=str(FOLDER / "rules"),
            allowed_hosts=("testserver",),
        )
    )


schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(service=_service(), workbench=FOLDER)
).include(path_regex="^/wb/api/")

_FILES = [n for n in Folder(FOLDER).names()]
_TEXT = (FOLDER / "policies.yaml").read_text(encoding="utf-8")
POOLS: dict[str, list[Any]] = {
    "file": [*_FILES, "../etc/passwd", "rules/nope.yaml"],
    "event": list(catalog.EVENT_KINDS),
    "text": [_TEXT, _TEXT.replace("cap: 15", "cap: 1"), "plans: [", ""],
    "token": [token(_TEXT), ""],
    "scenarios": [
        [f"examples/scenarios/{p.name}"] for p in sorted((FOLDER / "examples/scenarios").glob("*.yaml"))
    ][:2],
    "files": [
        {},
        {"policies.yaml": _TEXT.replace("cap: 15", "cap: 1")},
        {"rules/send.yaml": "event: send\n"},
    ],
    "edits": [
        [{"path": ["plans", "career", "cap"], "value": 20}],
        [
            {
                "path": ["plans", "team"],
                "value": {"premium": True, "monthly_allotment": 5, "cap": 15, "purchasable": False},
            }
        ],
        [{"path": ["plans", "nope", "cap"], "remove": True}],
        [{"path": ["rules", 99, "when"], "value": 1}],
    ],
}


@st.composite
def _steered(draw: st.DrawFn, case: schemathesis.Case) -> schemathesis.Case:
    if isinstance(case.body, dict):
        body = steer(draw, case.body, POOLS)
        case.body = steer_body(draw, body, {}, body.get("event"))  # the event the body names, once steered
    return case


@schema.hook
def flatmap_case(context: schemathesis.HookContext, case: schemathesis.Case) -> st.SearchStrategy[Any]:
    return _steered(case)


REQUESTS: Counter[str] = Counter()


@pytest.fixture
def app() -> Iterator[ASGIApp]:
    svc = _service()
    yield create_app(service=svc, workbench=FOLDER)
    svc.close()


@schema.parametrize()
@settings(FUZZ, max_examples=MAX_EXAMPLES)
def test_every_workbench_answer_is_documented_and_none_is_a_server_error(
    case: schemathesis.Case, app: ASGIApp
) -> None:
    REQUESTS[case.operation.label] += 1
    response = case.call(app=app)
    case.validate_response(response, checks=CHECKS)


def test_zz_every_workbench_route_was_fuzzed() -> None:
    if not REQUESTS:
        pytest.skip("no fuzz test ran in this session (deselected)")
    routes = {r.split(" ", 1)[1] for r in REQUESTS}
    assert {
        "/wb/api/form",
        "/wb/api/edit",
        "/wb/api/table",
        "/wb/api/decide",
        "/wb/api/save",
        "/wb/api/publish",
    } <= routes, REQUESTS
