"""The service's request bodies and response shapes, as OpenAPI shows them.

Request bodies are strict (``extra="forbid"``, no type coercion): a field the
route does not know, or ``"credits": "5"``, is a 422 naming the field, not a
guess. Values the engine checks itself (names, instants, plans, counts) are
left to it, so a bad one gets the same code over HTTP as from the API. A
call's body is not written out here: it is made from its event kind's
arguments (:mod:`engine.events`), so a new kind, or a new argument, has its
body without an edit to the service.

The response models document what the routes return; the routes build the
JSON from the engine's records directly (their ``to_dict``, and
:func:`engine.service.app.decision_json` for a decided call), and the schema
tests check every response against these models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, create_model

from engine.codes import C
from engine.events import CALLS, Arg, EventKind
from engine.policy import LOT_SOURCES, RESPONSE_STATUSES
from engine.rules import catalog

_AT = Field(
    None,
    description=(
        "When the event happens: `2026-01-15`, `2026-01-15T10:00:00Z` or with an offset `+01:00` (RFC 3339 "
        "calendar forms only; without an offset, in the policy's time zone, a date alone is its midnight). "
        "Default: the server's clock."
    ),
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _example(**body: Any) -> ConfigDict:
    """A body's example as the docs' "Try it out" fills it in: without ``at``, so it runs now, on any
    store (an instant in the example would be refused as ``time_went_back`` on a store in use)."""
    return ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [body]})


class AtBody(_Body):
    model_config = _example()

    at: str | None = _AT


#: A body example other than its required fields' own examples: recording a valid card is harmless
#: to try on a store in use (the field's own example shows the value that matters, ``expired``).
_BODY_EXAMPLES: dict[str, dict[str, Any]] = {"payment": {"status": "valid"}}


def _field(arg: Arg) -> tuple[Any, Any]:
    """A body field of ``arg``: named by the argument, spelled in JSON as its ``http`` name.

    An optional one is ``null`` by default whatever the engine's default is (the route fills
    that in, so the schema does not repeat it); a credit count is a whole number, the rest text
    (instants, plans and names are the engine's to check).
    """
    python: Any = int if arg.type == "credits" else str
    examples = None if arg.example is None else [arg.example]
    alias = arg.http if arg.http != arg.name else None
    if arg.required:
        return python, Field(description=arg.doc or None, examples=examples, alias=alias)
    return python | None, Field(None, description=arg.doc or None, examples=examples, alias=alias)


def body_fields(kind: EventKind) -> tuple[Arg, ...]:
    """The arguments of ``kind`` a request body carries (not the URL's, not the ones HTTP leaves out)."""
    return tuple(a for a in kind.args if a.http not in (None, "path"))


def _body(kind: EventKind) -> type[BaseModel]:
    """The request body of a call: its required fields, ``at``, then its optional ones.

    Named ``<Kind>Body`` (``ChangePlanBody``), as the generated clients know them; a kind
    whose arguments all sit in the URL takes :class:`AtBody`.
    """
    fields = body_fields(kind)
    if not fields:
        return AtBody
    required = [a for a in fields if a.required]
    definitions: dict[str, Any] = {
        **{a.name: _field(a) for a in required},
        "at": (str | None, _AT),
        **{a.name: _field(a) for a in fields if not a.required},
    }
    example = _BODY_EXAMPLES.get(kind.name) or {str(a.http): a.example for a in required}
    name = "".join(part.capitalize() for part in kind.name.split("_")) + "Body"
    model: type[BaseModel] = create_model(
        name, __config__=_example(**example), __module__=__name__, **definitions
    )
    return model


#: Each call's request body, by event kind (the route reads the arguments by their names).
BODIES: dict[str, type[BaseModel]] = {kind.name: _body(kind) for kind in CALLS}


class DecideBody(_Body):
    facts: dict[str, bool | int | str] = Field(
        default_factory=dict,
        description="Facts of the event's catalog; the others take their defaults.",
        examples=[{"sender.premium": True, "sender.balance": 0}],
    )


# --- responses ------------------------------------------------------------------------------------


def _one_of(values: Iterable[str], description: str | None = None, nullable: bool = False) -> Any:
    """A text field whose values the engine fixes: an ``enum`` in the schema, so a generated client
    gets a union type (``"sent" | "denied" | ...``) instead of ``string``."""
    enum: list[JsonValue] = [*sorted(set(values)), *([None] if nullable else [])]
    return Field(description=description, json_schema_extra={"enum": enum})


_EVENTS = catalog.EVENT_KINDS
_OUTCOMES = [o for kind in catalog.OUTCOMES.values() for o in kind]
_REASONS = [r for kind in catalog.REASONS.values() for r in kind]
_KINDS = ("grant", "consume", "credit_back", "expire", "forfeit_cap", "forfeit_cancel", "purchase")


class Entry(BaseModel):
    seq: int
    account: str
    at: str
    kind: str = _one_of(_KINDS, "What moved the credits (a grant, a send consuming one, ...).")
    lot: int | None
    amount: int = Field(description="Signed: + adds credits, - removes them.")
    balance_after: int
    event: str
    rule: str
    requirements: list[str]
    message: str | None
    note: str


class SystemEvent(BaseModel):
    event: str = _one_of(("renew", "expire", "remind"), "renew, expire or remind")
    at: str
    outcome: str = _one_of(_OUTCOMES)
    reason: str | None = _one_of(_REASONS, "Why, for an outcome that refuses or skips; else null.", True)
    rule: str
    requirements: list[str]
    effects: list[str]
    revision: str
    account: str | None
    message: str | None
    balance: int | None
    entries: list[Entry]


class DecisionOut(BaseModel):
    """What the engine decided, why, under which policy, and what it wrote."""

    decision_id: int | None = Field(
        description="The call's sequence number in the store's event log "
        "(`inmail log`); the same on an idempotent replay."
    )
    event: str = _one_of(_EVENTS)
    at: str
    account: str | None
    outcome: str = _one_of(_OUTCOMES)
    reason: str | None = _one_of(
        _REASONS, "Why, for an outcome that refuses (`denied`, ...); else null.", True
    )
    status: str | None = _one_of(RESPONSE_STATUSES, "How a response records the message; else null.", True)
    rule: str = Field(description="The rule that decided.")
    rules: list[str] = Field(description="Every rule that fired for the call, system events first.")
    requirements: list[str]
    effects: list[str]
    revision: str = Field(description="Content hash of the policy and rules in force.")
    balance: int | None
    purchase_possible: bool | None
    message: str | None
    entries: list[Entry]
    system_events: list[SystemEvent]


class LotOut(BaseModel):
    id: int
    source: str = _one_of(LOT_SOURCES)
    amount: int
    remaining: int
    granted_at: str
    expires_at: str


class BalanceOut(BaseModel):
    account: str
    at: str
    credits: int
    lots: list[LotOut]


class HistoryOut(BaseModel):
    account: str
    entries: list[Entry]


class VerdictOut(BaseModel):
    event: str
    outcome: str
    reason: str | None
    rule: str
    requirements: list[str]
    effects: list[str]
    description: str
    revision: str
    facts: dict[str, bool | int | str] = Field(description="Every fact the rules saw, defaults included.")
    given: list[str] = Field(description="The facts the request gave; the others are defaults.")


class PlanOut(BaseModel):
    plan: str
    premium: bool
    monthly_allotment: int
    cap: int
    credit_lifetime_days: int
    purchasable: bool


class PlansOut(BaseModel):
    revision: str
    plans: list[PlanOut]


class PolicyOut(BaseModel):
    revision: str
    source: str
    timezone: str
    plans: list[PlanOut]
    settings: dict[str, Any] = Field(description="credits, renewal, cap, credit_back, reminder, purchase")
    responses: dict[str, str]
    rules: dict[str, list[str]] = Field(description="Rule ids by event kind, in the order they are tried.")


class ReloadOut(BaseModel):
    revision: str
    previous: str
    changed: bool


class Health(BaseModel):
    status: str
    revision: str | None = None


class ProblemDiagnostic(BaseModel):
    file: str | None
    line: int | None
    column: int | None
    severity: str
    code: str
    message: str
    help: str | None


class Problem(BaseModel):
    """RFC 9457 problem details, with the engine's stable code."""

    type: str
    title: str
    status: int
    code: str = _one_of(
        (str(c) for c in C),
        "Stable, snake_case: branch on it (the README's table of codes says what each means).",
    )
    detail: str
    help: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None
    diagnostics: list[ProblemDiagnostic] | None = None
