"""Every operation of the service's OpenAPI schema, fuzzed by Schemathesis, against that schema.

The route tests check the answers we thought of; this module checks the promise the schema makes
for requests nobody thought of: whatever a client sends, the service answers with a status the
schema documents (never a 5xx), in the documented media type, with a body valid against the
documented model. Schemathesis generates the requests from ``/openapi.json`` itself (its examples,
coverage and fuzzing phases, valid and invalid data), so a route added later is fuzzed too.

Random text almost never names a stored account, message or plan, so a fuzzer alone would test
little more than the refusals. Each operation therefore runs on a fresh service seeded with a
small world (see :func:`_seed`), and a case hook steers about half of the generated values
towards names and values that world knows, so the calls reach the rules and the ledger too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp

from engine.core.engine import Engine
from engine.rules import catalog
from engine.rules.conditions import resolve_choices
from engine.service.app import create_app
from engine.service.state import Service, ServiceConfig

from .conftest import NOW

T0 = "2026-01-15T09:00:00Z"

#: Examples per operation and phase: every operation reaches its refusals and its decisions, and
#: the module stays well inside a minute on two cores. Derandomized, so CI sees the same requests.
MAX_EXAMPLES = 40

#: (a) no 5xx; (b) the status, media type, headers and body are what the schema documents.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _seed(engine: Engine) -> str:
    """The world the steered values name; returns the id of the message sent without an id."""
    engine.subscribe("alice", "career", at=T0)
    engine.connect("alice", "bob", at=T0)
    engine.send("alice", "carol", at="2026-01-16T10:00:00Z", message_id="m1")  # an unanswered InMail
    engine.send("alice", "bob", at="2026-01-16T10:00:00Z", message_id="m0")  # free: a connection
    default = engine.send("alice", "dora", at="2026-01-16T11:00:00Z").message  # `alice/<n>`
    engine.subscribe("erin", "sales_navigator", at=T0, payment="expired")
    engine.subscribe("frank", "business", at=T0)
    engine.cancel("frank", at="2026-01-20")
    assert default is not None
    return default


def _service() -> Service:
    """A fresh memory store on conftest's fixed clock, seeded."""
    svc = Service(ServiceConfig(db="memory", allowed_hosts=("testserver",)), clock=lambda: NOW)
    _seed(svc.engine)
    return svc


#: Only for the schema (and the policy's names): Schemathesis ends an app's lifespan, which closes
#: its service, after each test, so every operation gets a fresh app from the ``app`` fixture.
_SCHEMA_SERVICE = Service(ServiceConfig(db="memory", allowed_hosts=("testserver",)), clock=lambda: NOW)
_DEFAULT_ID = _seed(_SCHEMA_SERVICE.engine)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(service=_SCHEMA_SERVICE))

_POLICY = _SCHEMA_SERVICE.engine.policy
_INSTANTS = [T0, "2026-01-20", "2026-02-15T08:30:00+01:00", NOW.isoformat(), "2026-06-01T00:00:00Z"]

#: Values the seeded world knows, by the name of the path parameter, query parameter, body field or
#: header they go in (``with`` is a member for connect and a response type for respond: both go in).
POOLS: dict[str, list[Any]] = {
    "account": ["alice", "bob", "erin", "frank", "zoe"],
    "message": ["m1", "m0", _DEFAULT_ID, "m9"],
    "event": list(catalog.EVENT_KINDS),
    "plan": list(_POLICY.plans),
    "at": _INSTANTS,
    "billing_anchor": _INSTANTS,
    "to": ["carol", "bob", "frank", "alice"],
    "with": ["bob", "carol", *_POLICY.responses],
    "message_id": ["m1", "m2", "m3"],
    "status": ["valid", "expired"],
    "payment": ["valid", "expired"],
    "credits": [1, 10, 1_000_000, 1_000_001],
    "Idempotency-Key": ["k1", "k2"],
}


def _fact_value(event: str, name: str) -> st.SearchStrategy[bool | int | str]:
    spec = catalog.CATALOG[event][name]
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "int":
        return st.sampled_from([0, 1, 5, 91, -1, catalog.MAX_FACT_INT, catalog.MAX_FACT_INT + 1])
    return st.sampled_from(sorted(resolve_choices(spec, _POLICY) or ["x"]))


def _facts(event: str) -> st.SearchStrategy[dict[str, bool | int | str]]:
    """A few facts of the event's catalog, each of its type: what a what-if caller would send."""
    names = st.lists(st.sampled_from(catalog.fact_names(event)), max_size=4, unique=True)
    return names.flatmap(lambda ns: st.fixed_dictionaries({n: _fact_value(event, n) for n in ns}))


def steer(draw: st.DrawFn, values: Mapping[str, Any], pools: Mapping[str, list[Any]]) -> dict[str, Any]:
    """``values`` with each one that has a pool either kept or swapped for one of the pool's."""
    return {
        k: draw(st.sampled_from(pools[k])) if k in pools and draw(st.booleans()) else v
        for k, v in values.items()
    }


def steer_body(
    draw: st.DrawFn, body: Mapping[str, Any], pools: Mapping[str, list[Any]], event: object
) -> Any:
    """A JSON body steered like :func:`steer`, and its ``facts`` (if any) sometimes a few of ``event``'s."""
    out = steer(draw, body, pools)
    if "facts" in out and event in catalog.CATALOG and draw(st.booleans()):
        out["facts"] = draw(_facts(str(event)))
    return out


#: How every operation is fuzzed: the same requests on every run (CI sees what a developer saw),
#: no example database, no deadline (a draft is compiled on some routes), fixtures per operation.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@st.composite
def _steered(draw: st.DrawFn, case: schemathesis.Case) -> schemathesis.Case:
    """The case, with each value that has a pool either kept or swapped for one of the pool's."""
    if case.path_parameters:
        case.path_parameters = steer(draw, case.path_parameters, POOLS)
    if case.query:
        case.query = steer(draw, case.query, POOLS)
    if case.headers:
        case.headers.update(steer(draw, case.headers, POOLS))  # case-insensitive, as headers are
    if isinstance(case.body, dict):
        case.body = steer_body(draw, case.body, POOLS, (case.path_parameters or {}).get("event"))
    return case


@schema.hook
def flatmap_case(context: schemathesis.HookContext, case: schemathesis.Case) -> st.SearchStrategy[Any]:
    return _steered(case)


#: What the fuzzing sent: requests per operation, and responses by status class.
REQUESTS: Counter[str] = Counter()
STATUSES: Counter[str] = Counter()


@pytest.fixture
def app() -> Iterator[ASGIApp]:
    """A fresh seeded service for each operation: its result depends on no other operation's calls."""
    svc = _service()
    yield create_app(service=svc)
    svc.close()  # idempotent; Schemathesis has usually closed it already, ending the app's lifespan


@schema.parametrize()
@settings(FUZZ, max_examples=MAX_EXAMPLES)
def test_every_answer_is_documented_and_none_is_a_server_error(case: schemathesis.Case, app: ASGIApp) -> None:
    REQUESTS[case.operation.label] += 1
    response = case.call(app=app)
    STATUSES[f"{response.status_code // 100}xx"] += 1
    case.validate_response(response, checks=CHECKS)


def test_a_message_sent_without_an_id_takes_its_response_under_the_id_it_got(client: TestClient) -> None:
    """The default id is ``<sender>/<n>``: its slash, sent as ``%2F``, must not split the route."""
    client.post("/v1/accounts/alice/subscribe", json={"plan": "career", "at": T0})
    sent = client.post("/v1/accounts/alice/send", json={"to": "carol", "at": "2026-01-16"}).json()
    assert "/" in sent["message"]
    r = client.post(
        f"/v1/messages/{quote(sent['message'], safe='')}/respond", json={"with": "reply", "at": "2026-01-17"}
    )
    assert (r.status_code, r.json()["outcome"]) == (200, "credited_back"), r.text


def test_zz_the_fuzzing_reached_every_operation() -> None:
    """Last in the module: how much was sent, printed (``-s`` / ``-rA``) and in the assertion message."""
    if not REQUESTS:
        pytest.skip("no fuzz test ran in this session (deselected)")
    total, errors = REQUESTS.total(), STATUSES["5xx"]
    summary = (
        f"schemathesis: {total} requests, {errors} server errors over {len(REQUESTS)} operations "
        f"({', '.join(f'{n} {s}' for s, n in sorted(STATUSES.items()))})"
    )
    print(summary)
    operations = sum(1 for _ in schema.get_all_operations())
    if len(REQUESTS) == operations:  # the whole module ran, not a -k selection of it
        assert total >= 20 * operations, summary
    assert errors == 0, summary
