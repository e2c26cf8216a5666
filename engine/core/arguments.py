"""Checking what an embedding app passes in, before anything is loaded, locked or written.

An app may pass anything: ``None``, a number where a name belongs, a
billion credits, a name with terminal escape codes in it. Every public
``Engine`` method runs its arguments through these checks first, so a bad
argument is an :class:`~engine.errors.InvalidCall` with a stable code and the
store is never touched. Names are the same text everywhere they appear (in
diagnostics, in the ledger, in a database column), so they are refused
rather than cleaned when they hold control characters.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from engine.codes import C
from engine.events import AT, REQUIRED, EventKind
from engine.events.base import PAYMENT_STATUSES
from engine.policy import MAX_COUNT, Policy
from engine.source.diagnostics import Diagnostics
from engine.source.marked import YMap, parse_text
from engine.source.paths import PathProblem, path_kind
from engine.source.reader import control_characters

#: Longest account name or message id (the SQL store's column width).
MAX_NAME = 200
#: Longest idempotency key.
MAX_KEY = 400


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def name(value: Any, what: str, code: C = C.invalid_name) -> str:
    """A non-empty name of at most :data:`MAX_NAME` characters, without control characters."""
    # the common case in one C call each: every printable character shows as itself (a control,
    # separator or unassigned character is not printable, so the full check below decides those)
    if type(value) is str and len(value) <= MAX_NAME and value.isprintable() and value.strip():
        return value
    if not isinstance(value, str):
        raise code(f"{what} must be text, got {_shown(value)}")
    if not value.strip():
        raise code(f"{what} must not be empty")
    if len(value) > MAX_NAME:
        raise code(f"{what} is longer than {MAX_NAME} characters")
    if control_characters(value):
        raise code(f"{what} {_shown(value)} holds control characters")
    return value


def optional_name(value: Any, what: str, code: C = C.invalid_name) -> str | None:
    return None if value is None else name(value, what, code)


def key(value: Any) -> str | None:
    """An idempotency key: None, or text of at most :data:`MAX_KEY` characters."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_KEY or control_characters(value):
        raise C.invalid_key(
            f"an idempotency key must be text of 1 to {MAX_KEY} characters without control "
            f"characters, got {_shown(value)}",
        )
    return value


def count(value: Any, what: str) -> int:
    """A whole number of credits from 1 to :data:`~engine.policy.MAX_COUNT` (never a bool or a float)."""
    if type(value) is not int or not 1 <= value <= MAX_COUNT:
        raise C.invalid_quantity(
            f"{what} must be a whole number from 1 to {MAX_COUNT:,}, got {_shown(value)}"
        )
    return value


def size(value: Any, what: str, most: int) -> int:
    """A whole number from 1 to ``most`` that sizes something (a batch), never a bool or a float."""
    if type(value) is not int or not 1 <= value <= most:
        raise C.invalid_argument(f"{what} must be a whole number from 1 to {most:,}, got {_shown(value)}")
    return value


def choice(value: Any, what: str, choices: Any, code: C) -> str:
    """One of ``choices`` (a plan, a payment status, a response type); ``code`` otherwise."""
    if not isinstance(value, str) or value not in choices:
        known = ", ".join(f"`{c}`" for c in choices)
        raise code(f"{what} must be one of {known}, got {_shown(value)}")
    return value


def path_or_none(value: Any, what: str) -> str | os.PathLike[str] | None:
    """A file or folder argument of ``Engine.open``: None, text or a path."""
    if value is None:
        return value
    if isinstance(value, str | os.PathLike):
        try:
            path_kind(value)
        except PathProblem as exc:
            raise C.invalid_argument(f"{what}: {exc}") from None
        return value
    raise C.invalid_argument(f"{what} must be a path (text or pathlib.Path), got {_shown(value)}")


def call_args(kind: EventKind, args: Any, policy: Policy) -> dict[str, Any]:
    """A call's arguments, each checked by its declared type, in the kind's order (defaults filled in).

    An instant argument is left as given (the engine reads it with the policy's calendar, like
    ``at``); every other one is checked here, first to last, then the pair that must differ.
    """
    if not isinstance(args, Mapping):
        raise C.invalid_argument(f"the arguments of `{kind.method}` must be a mapping, got {_shown(args)}")
    names = kind.names
    for given in args:
        if given not in names:
            raise C.invalid_argument(
                f"`{kind.method}` takes no argument {_shown(given)}; it takes {', '.join(names)}",
            )
    values: dict[str, Any] = {}
    for a in kind.args:
        value = args.get(a.name, a.default)
        if value is REQUIRED:
            raise C.invalid_argument(f"`{kind.method}` needs `{a.name}` ({a.what})")
        values[a.name] = _ARG_CHECKS[a.type](value, a.what, policy)
    if kind.distinct is not None:
        first, second, says = kind.distinct
        if values[first] == values[second]:
            raise C.self_connection(f"`{values[first]}` {says}")
    return values


def _plan(value: Any, what: str, policy: Policy) -> str:
    plans = policy.plans
    if not isinstance(value, str) or value not in plans:
        raise C.unknown_plan(f"unknown plan `{value}`; plans: {', '.join(plans)}")
    return value


def _payment(value: Any, what: str, policy: Policy) -> str:
    if not isinstance(value, str) or value not in PAYMENT_STATUSES:
        raise C.invalid_payment_status(f"payment status must be `valid` or `expired`, got `{value}`")
    return value


def _response(value: Any, what: str, policy: Policy) -> str:
    if not isinstance(value, str) or value not in policy.responses:
        raise C.unknown_response_type(
            f"unknown response type `{value}`; known: {', '.join(sorted(policy.responses))}",
        )
    return value


#: How an argument of each declared type is checked (engine.events.base.ArgType).
_ARG_CHECKS: dict[str, Callable[[Any, str, Policy], Any]] = {
    "account": lambda v, what, p: name(v, what),
    "name": lambda v, what, p: name(v, what),
    "message": lambda v, what, p: name(v, what, C.invalid_message_id),
    "new_message": lambda v, what, p: optional_name(v, what, C.invalid_message_id),
    "plan": _plan,
    "payment": _payment,
    "response": _response,
    "credits": lambda v, what, p: count(v, what),
    "instant": lambda v, what, p: v,
}


def with_instants(kind: EventKind, values: dict[str, Any], t: dt.datetime) -> dict[str, Any]:
    """The arguments with each instant left to default (a billing anchor) made the call's ``t``."""
    late = [n for n in kind.instants if values[n] is None or values[n] == AT]
    return {**values, **dict.fromkeys(late, t)} if late else values


@dataclass(frozen=True)
class Idempotency:
    """A call's idempotency key and the call it is bound to: a retry must repeat the same call.

    The request is written with the call's instant, which a call without ``at`` only learns
    inside its transaction (the first call's instant on a retry, else the engine's clock).
    """

    key: str
    kind: EventKind
    values: dict[str, Any]

    def request(self, t: dt.datetime) -> str:
        """The call as its key keeps it: the kind, its required arguments, ``t``, the optional ones."""
        kind, values = self.kind, with_instants(self.kind, self.values, t)
        args = [*(values[a.name] for a in kind.positional), t, *(values[a.name] for a in kind.optional)]
        shown = [a.isoformat() if isinstance(a, dt.datetime) else a for a in args]
        return f"{kind.name} {json.dumps(shown, default=str)}"


def idempotency(value: Any, kind: EventKind, values: dict[str, Any]) -> Idempotency | None:
    """Bind ``key`` (checked as :func:`key`) to this call."""
    k = key(value)
    return None if k is None else Idempotency(k, kind, values)


def policy_override(value: YMap | Mapping[str, Any] | None, text: str) -> tuple[YMap | None, str]:
    """A ``policy_override`` and its text: marked YAML as a scenario gives it, or an app's plain mapping.

    A plain mapping is written out as YAML and read back, so its mistakes are
    reported like a file's (at ``<policy_override>``) and its text counts in
    the policy revision.
    """
    if value is None or isinstance(value, YMap):
        return value, text
    if not isinstance(value, Mapping):
        raise C.invalid_argument(
            f"policy_override must be a mapping of policy settings, got {type(value).__name__}",
        )
    try:
        text = yaml.safe_dump(dict(value), sort_keys=True)
    except yaml.YAMLError as exc:
        raise C.invalid_argument(f"policy_override holds values that are not plain data: {exc}") from None
    except RecursionError:
        raise C.invalid_argument("policy_override nests too deeply") from None
    except Exception as exc:  # an app's mapping misbehaving, or an integer beyond Python's digit limit
        reason = (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:80]
        raise C.invalid_argument(f"policy_override cannot be read: {reason}") from None
    diags = Diagnostics()
    node = parse_text(text, "<policy_override>", diags)
    if not isinstance(node, YMap) or diags.has_errors():
        raise C.invalid_argument("policy_override must be a mapping of policy settings")
    return node, text
