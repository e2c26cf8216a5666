"""The policy model: what ``policies.yaml`` says, as frozen records.

Plans and knobs with the defaults a section left out takes; the loader
(:mod:`engine.policy.load`) is the only way to build one from a file, and
it checks every value first, so a :class:`Policy` is always whole and valid.
The vocabularies that the policy, the rules and the ledger share (lot
sources, response statuses) live here, the lowest stage that needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.source.diagnostics import Location

CAP_STRATEGIES = ("forfeit_oldest", "trim_new")
LOT_SOURCES = ("monthly", "credit_back", "purchase")
CREDIT_BACK_LOTS = ("new", "original")
RESPONSE_STATUSES = ("replied", "accepted", "declined")
PLAN_KEYS = ("premium", "monthly_allotment", "cap", "purchasable")
#: Upper bounds keep numbers within what the ledger and the calendar handle (and catch stray digits).
MAX_COUNT = 1_000_000
MAX_DAYS = 36_500
#: The top-level keys of policies.yaml, in the order the file presents them.
TOP_KEYS = (
    "timezone",
    "credits",
    "renewal",
    "cap",
    "credit_back",
    "reminder",
    "purchase",
    "responses",
    "plans",
)


@dataclass(frozen=True)
class Plan:
    """One account type (R10, R11, R17, R18, R20)."""

    name: str
    premium: bool
    monthly_allotment: int
    cap: int
    purchasable: bool
    loc: Location | None = None


@dataclass(frozen=True)
class Credits:
    lifetime_days: int = 90


@dataclass(frozen=True)
class Renewal:
    grant_on_start: bool = True


@dataclass(frozen=True)
class Cap:
    on_overflow: str = "forfeit_oldest"
    applies_to: tuple[str, ...] = ("monthly", "credit_back")


@dataclass(frozen=True)
class CreditBack:
    window_days: int = 90
    lot: str = "new"


@dataclass(frozen=True)
class Reminder:
    after_days: int = 3


@dataclass(frozen=True)
class Purchase:
    credit_lifetime_days: int = 365


_DEFAULT_RESPONSES = {
    "reply": "replied",
    "interested": "accepted",
    "maybe_later": "accepted",
    "not_interested": "declined",
}


@dataclass(frozen=True)
class Policy:
    """A validated policy. ``digest`` is a content hash of the text it came from."""

    plans: Mapping[str, Plan]
    timezone: str = "UTC"
    credits: Credits = Credits()
    renewal: Renewal = Renewal()
    cap: Cap = Cap()
    credit_back: CreditBack = CreditBack()
    reminder: Reminder = Reminder()
    purchase: Purchase = Purchase()
    responses: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(_DEFAULT_RESPONSES))
    source: str = "<policy>"
    digest: str = ""
    #: (the policy file's text, a scenario override's text): what it was read from, to read again
    texts: tuple[str, str] = field(default=("", ""), repr=False, compare=False)

    def plan_rows(self) -> list[dict[str, Any]]:
        """The plan comparison, one row per plan in the policy's order (``inmail plans``, ``GET /v1/plans``).

        The keys are a stable contract: plan, premium, monthly_allotment, cap,
        credit_lifetime_days, purchasable.
        """
        lifetime = self.credits.lifetime_days
        return [
            {
                "plan": p.name,
                "premium": p.premium,
                "monthly_allotment": p.monthly_allotment,
                "cap": p.cap,
                "credit_lifetime_days": lifetime,
                "purchasable": p.purchasable,
            }
            for p in self.plans.values()
        ]

    def setting(self, path: str) -> Any:
        """Look up a dotted setting such as ``credit_back.window_days`` or ``plans.career.cap``.

        Only what ``policies.yaml`` can say is reachable (not ``source``, ``digest`` or a
        plan's ``loc``), so a rules file cannot refer to bookkeeping. KeyError(path) if absent.
        """
        parts = path.split(".")
        if parts[0] not in TOP_KEYS:
            raise KeyError(path)
        obj: Any = self
        for part in parts:
            if isinstance(obj, Mapping):
                if part not in obj:
                    raise KeyError(path)
                obj = obj[part]
            elif part in getattr(obj, "__dataclass_fields__", {}) and part != "loc":
                obj = getattr(obj, part)
            else:
                raise KeyError(path)
        return obj
