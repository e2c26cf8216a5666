"""The OpenAPI document as a client generator reads it: method names, closed sets of values, the token.

A generated client names its methods after the operationIds and types its
fields from the schema, so these are part of the service's contract.
"""

from __future__ import annotations

from typing import Any

from engine import CODES
from engine.rules import catalog
from engine.service.problems import STATUS, status_of

from .conftest import MakeClient

CALLS = ["subscribe", "send", "respond", "purchase", "cancel", "changePlan", "setPayment", "connect"]
READS = ["getBalance", "getHistory", "decide", "getPlans", "getPolicy", "reloadPolicy"]
HEALTH = ["getHealth", "getReadiness", "getMetrics"]


def _operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for path in doc["paths"].values() for op in path.values()}


def test_every_route_has_a_method_name_a_generator_can_use(make_client: MakeClient) -> None:
    doc = make_client().get("/openapi.json").json()
    ops = _operations(doc)
    assert sorted(ops) == sorted(CALLS + READS + HEALTH)
    assert len(ops) == sum(len(p) for p in doc["paths"].values())  # unique


def test_fixed_values_are_enums(make_client: MakeClient) -> None:
    schemas = make_client().get("/openapi.json").json()["components"]["schemas"]
    decision = schemas["DecisionOut"]["properties"]
    assert set(decision["event"]["enum"]) == set(catalog.EVENT_KINDS)
    assert set(decision["outcome"]["enum"]) == {o for kind in catalog.OUTCOMES.values() for o in kind}
    assert "no_credits" in decision["reason"]["enum"] and None in decision["reason"]["enum"]
    assert set(decision["status"]["enum"]) == {"replied", "accepted", "declined", None}
    assert "consume" in schemas["Entry"]["properties"]["kind"]["enum"]
    assert set(schemas["LotOut"]["properties"]["source"]["enum"]) == {"monthly", "credit_back", "purchase"}


def test_a_problems_code_is_an_enum_of_the_catalog(make_client: MakeClient) -> None:
    """A client generated from the document knows every code a problem may carry, and no other."""
    schemas = make_client().get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["Problem"]["properties"]["code"]["enum"]) == {str(c) for c in CODES}
    assert {str(c): c.status for c in CODES if c.status not in (None, 422)} == STATUS
    assert all(status_of(str(c)) == c.status for c in CODES if c.status is not None)


def test_a_token_is_in_the_schema_only_when_the_server_has_one(make_client: MakeClient) -> None:
    open_doc = make_client().get("/openapi.json").json()
    assert "securitySchemes" not in open_doc.get("components", {})
    c = make_client(token="t0ken-for-tests")
    doc = c.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    ops = _operations(doc)
    assert all(ops[name].get("security") == [{"bearer": []}] for name in CALLS + READS + ["getMetrics"])
    assert "security" not in ops["getHealth"] and "security" not in ops["getReadiness"]


def test_every_refusal_is_documented_as_the_problem_json_it_is_sent_as(make_client: MakeClient) -> None:
    """A generator types an error from the media type it arrives with: every 4xx/5xx of every
    route is ``application/problem+json`` with the Problem schema (so a client sees ``code``),
    and nothing says ``application/json`` for a refusal."""
    doc = make_client().get("/openapi.json").json()
    problem = {"$ref": "#/components/schemas/Problem"}
    seen = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                content = response.get("content", {})
                assert content == {"application/problem+json": {"schema": problem}}, (path, method, status)
                seen += 1
    assert seen > 50


def test_the_document_is_valid_openapi(make_client: MakeClient) -> None:
    """What a generator checks first, with and without a token: a valid OpenAPI 3.1 document."""
    from openapi_spec_validator import validate

    for config in ({}, {"token": "t0ken-for-tests"}):
        doc = make_client(**config).get("/openapi.json").json()
        assert doc["openapi"].startswith("3.1")
        validate(doc)  # raises on the first thing wrong
