"""What an event kind is: one declaration that every door of the engine reads.

An event kind (a ``send``, a ``cancel``, a ``renew``) used to be written out
in every stage that met it: the Engine method, its argument checks, the
scenario reader and exporter, the impact and replay tables, the HTTP route,
the rules vocabulary. Now a kind is one :class:`EventKind` in its own module
of :mod:`engine.events`, and each stage derives what it needs from it:

- the rules catalog: its facts, outcomes, reasons and effects;
- the :class:`~engine.Engine`: the typed method (generated), the argument
  checks (by each :class:`Arg`'s type), the call shape that runs it, the
  idempotency binding and the event log's form;
- scenario files: the step key, its fields and how each is checked;
- impact and replay: how a logged call is made again;
- the HTTP service: the route, its body and its operationId.

This module sits below the rules and the core, so it holds data and small
pure functions only: what a call *does* to the ledger is the rules' choice
of effects, carried out by the effect table, and how a call is run is one of
the few call shapes of :mod:`engine.core.calls`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FactType = Literal["bool", "int", "str"]

#: Symbolic choice sets resolved against the loaded policy.
PLAN_NAMES = "<plans>"
RESPONSE_TYPES = "<responses>"

PAYMENT_STATUSES = ("valid", "expired")
MESSAGE_KINDS = ("inmail", "free")


#: Each fact type once: the Python type of its values, and how a message names it.
FACT_TYPES: dict[str, tuple[type, str]] = {
    "bool": (bool, "true or false"),
    "int": (int, "a whole number"),
    "str": (str, "text"),
}


def fact_type_of(value: object) -> FactType | None:
    """The fact type ``value`` has (a bool is not an int here), or None."""
    for name, (python, _) in FACT_TYPES.items():
        if type(value) is python:
            return name  # type: ignore[return-value]
    return None


@dataclass(frozen=True)
class FactSpec:
    """A fact a condition may read: its type, allowed values (for text) and meaning."""

    name: str
    type: FactType
    doc: str
    choices: tuple[str, ...] | str | None = None


def fact(name: str, type_: FactType, doc: str, choices: tuple[str, ...] | str | None = None) -> FactSpec:
    return FactSpec(name, type_, doc, choices)


def account_facts(prefix: str) -> tuple[FactSpec, ...]:
    """The facts of an event's acting account: ``sender.*`` or ``account.*``, and ``plan.*``."""
    who = "the sender" if prefix == "sender" else "the account"
    return (
        fact(f"{prefix}.premium", "bool", f"{who} has an active subscription to a Premium plan"),
        fact(f"{prefix}.plan", "str", f"the plan {who} is on (kept after a cancel)", PLAN_NAMES),
        fact(
            f"{prefix}.payment",
            "str",
            f"whether the card on file of {who} is valid or expired",
            PAYMENT_STATUSES,
        ),
        fact(f"{prefix}.balance", "int", f"usable credits {who} holds at this instant"),
        fact("plan.premium", "bool", f"the plan of {who} is a Premium plan"),
        fact("plan.purchasable", "bool", f"members on the plan of {who} may buy credits"),
        fact("plan.monthly_allotment", "int", f"credits the plan of {who} grants at each renewal"),
        fact("plan.cap", "int", f"the most capped credits the plan of {who} may hold"),
    )


#: How an argument is checked, typed and read from a scenario:
#: ``account`` an account that must exist (the acting one); ``name`` any other name (a recipient,
#: a connection); ``message`` a message that exists; ``new_message`` an optional id for a new one;
#: ``plan`` a plan of the policy; ``payment`` a card status; ``response`` a response type of the
#: policy; ``credits`` a whole number of credits; ``instant`` a time (read like ``at``).
ArgType = Literal[
    "account", "name", "message", "new_message", "plan", "payment", "response", "credits", "instant"
]

#: An argument without a default is required (and positional in the Engine method).
REQUIRED: Any = ...
#: The default of an ``instant`` argument that means "the call's own instant" (a billing anchor).
AT = "<at>"


@dataclass(frozen=True)
class Arg:
    """One argument of a call, as every door spells it.

    ``name`` is the Python parameter, the key in the event log and in an impact
    call; ``scenario`` its key in a scenario step (None: not written there);
    ``http`` its field in the request body, ``"path"`` for the one in the URL
    (None: not in HTTP). ``what`` names it in a refusal ("the sender").
    ``party``: another account the call changes (a scenario step shows its balance).
    """

    name: str
    type: ArgType
    what: str
    doc: str = ""
    scenario: str | None = None
    http: str | None = None
    default: Any = REQUIRED
    example: Any = None
    party: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


#: How the core runs a call (:mod:`engine.core.calls`): ``account`` one existing account acts
#: (facts: its own and the kind's ``extra_facts``); ``subscribe`` opens or restarts an account;
#: ``send`` creates a message; ``respond`` answers one; ``system`` is not a call (the timeline
#: raises it when something falls due).
Shape = Literal["account", "subscribe", "send", "respond", "system"]

Describe = Callable[[Mapping[str, Any]], str]
ExtraFacts = Callable[[Any, Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class EventKind:
    """Everything the engine knows of one event kind, in one place.

    ``name`` is the kind's one name: the rules file's ``event``, a Decision's
    ``event``, the scenario step key and the HTTP route's last segment (with
    ``-`` for ``_``). ``method`` is the Engine method that makes the call (and
    its name in the event log); it is the name too, except where a verb reads
    better (``set_payment``). ``order`` places the kind in every listing.
    """

    name: str
    order: int
    summary: str
    actor: Literal["account", "sender"]
    outcomes: tuple[str, ...]
    effects: Mapping[str, str]
    reasons: tuple[str, ...] = ()
    facts: tuple[FactSpec, ...] = ()
    shape: Shape = "account"
    method: str = ""
    doc: str = ""
    args: tuple[Arg, ...] = ()
    route: str = ""
    #: facts a call adds to the acting account's, from the policy and the checked arguments
    extra_facts: ExtraFacts | None = None
    #: the step as a scenario table shows it, from the checked arguments
    describe: Describe | None = None
    #: two arguments that must differ, and what is said when they do not
    distinct: tuple[str, str, str] | None = None
    #: outcomes that allow only some of the kind's effects (a denied send creates no message, so
    #: nothing that needs one can happen)
    outcome_effects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: what the call does to a subscription, as a scenario reader tracks it ahead of a run
    subscription: Literal["start", "end", "move"] | None = None
    #: the required arguments, in order (positional in the Engine method, first in the event log)
    positional: tuple[Arg, ...] = field(init=False, repr=False, compare=False)
    #: the arguments with a default, in order
    optional: tuple[Arg, ...] = field(init=False, repr=False, compare=False)
    #: every argument's name, in order; and the ``instant`` ones (read like ``at``): derived once
    #: here because every call of the kind reads them
    names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    instants: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.shape != "system" and not self.method:
            object.__setattr__(self, "method", self.name)
        object.__setattr__(self, "positional", tuple(a for a in self.args if a.required))
        object.__setattr__(self, "optional", tuple(a for a in self.args if not a.required))
        object.__setattr__(self, "names", tuple(a.name for a in self.args))
        object.__setattr__(self, "instants", tuple(a.name for a in self.args if a.type == "instant"))

    @property
    def is_call(self) -> bool:
        return self.shape != "system"

    @property
    def all_facts(self) -> tuple[FactSpec, ...]:
        return (*account_facts(self.actor), *self.facts)

    @property
    def acting(self) -> Arg:
        """The argument naming the account (or, for a response, the message) the call acts on."""
        return self.args[0]

    @property
    def via_message(self) -> bool:
        """Whether the call acts on a message (then on the account that sent it), not an account."""
        return self.acting.type == "message"

    @property
    def parties(self) -> tuple[str, ...]:
        """The arguments naming other accounts whose state the call changes (a connection's other end)."""
        return tuple(a.name for a in self.args[1:] if a.party)

    def arg_of(self, type_: ArgType) -> str | None:
        """The name of the kind's first argument of ``type_`` (its plan, its new message's id), if any."""
        return next((a.name for a in self.args if a.type == type_), None)

    @property
    def operation_id(self) -> str:
        """The HTTP operation's name for client generators: the method in camelCase."""
        head, *rest = self.method.split("_")
        return head + "".join(p.capitalize() for p in rest)

    def scenario_fields(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(required, optional) keys of the kind's step in a scenario file."""
        req = tuple(a.scenario for a in self.args if a.scenario and a.required)
        opt = tuple(a.scenario for a in self.args if a.scenario and not a.required)
        return req, opt

    def text(self, args: Mapping[str, Any]) -> str:
        """The call in a line (a scenario table, an impact report)."""
        if self.describe is not None:
            return self.describe(args)
        return " ".join([self.name, *(str(args[a.name]) for a in self.positional)])
