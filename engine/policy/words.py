"""What the policy's keys are called in front of people: one short title each, and the plain words.

The CLI's plan table, the documentation site, the editor schemas and the
workbench's forms all name the same keys; when each door chose its own words,
one said "can buy more", another "may buy credits" and a third showed
``purchasable``. Every door now takes its titles from :data:`TITLES` and its
longer explanations from the header of ``policies.yaml`` (:func:`key_help`),
which a product manager already reads and keeps up to date.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType

from engine.policy.model import PLAN_KEYS
from engine.source.paths import packaged_policy_path

#: A short title for every key of ``policies.yaml``, by dotted path; a plan's keys are ``plans.<key>``.
TITLES: Mapping[str, str] = MappingProxyType(
    {
        "timezone": "Time zone",
        "credits": "Credits",
        "credits.lifetime_days": "Credit lifetime (days)",
        "renewal": "Renewal",
        "renewal.grant_on_start": "First allotment at sign-up",
        "cap": "Cap",
        "cap.on_overflow": "Over the cap",
        "cap.applies_to": "Counts toward the cap",
        "credit_back": "Credit back",
        "credit_back.window_days": "Credit-back window (days)",
        "credit_back.lot": "Credit given back as",
        "reminder": "Reminder",
        "reminder.after_days": "Reminder after (days)",
        "purchase": "Purchase",
        "purchase.credit_lifetime_days": "Bought-credit lifetime (days)",
        "responses": "Responses",
        "plans": "Plans",
        "plans.premium": "Premium",
        "plans.monthly_allotment": "Monthly allotment",
        "plans.cap": "Cap",
        "plans.purchasable": "May buy credits",
    }
)

#: The columns of the plan comparison (:meth:`~engine.policy.model.Policy.plan_rows`), titled.
PLAN_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "plan": "Plan",
        **{key: TITLES[f"plans.{key}"] for key in PLAN_KEYS},
        "credit_lifetime_days": TITLES["credits.lifetime_days"],
    }
)


def title(key: str) -> str:
    """The title of a dotted key (``credit_back.window_days``), or of a plan's key (``plans.cap``)."""
    return TITLES[key]


def key_descriptions(header: str) -> dict[str, str]:
    """The plain-words list in the header of ``policies.yaml``: dotted key -> what it means.

    ``#   key   words`` starts an entry; deeper-indented lines continue it, and
    under ``plans`` a ``word   words`` line describes a plan key (``plans.cap``).
    """
    out: dict[str, str] = {}
    last: str | None = None
    started = False
    for line in header.splitlines():
        if not line.startswith("#"):
            if started:
                break
            continue
        body = line[1:]
        if "in plain words" in body:
            started = True
            continue
        if not started:
            continue
        entry = re.match(r"^ {3}(\S+)\s{2,}(.*)$", body)
        if entry:
            last = entry.group(1)
            out[last] = entry.group(2).strip()
            continue
        more = re.match(r"^ {4,}(\S.*)$", body)
        if more is None or last is None:
            continue
        sub = re.match(r"^(\w+)\s{2,}(.*)$", more.group(1))
        if last == "plans" and sub:
            out[f"plans.{sub.group(1)}"] = sub.group(2).strip()
        else:
            before, text = out.get(last, ""), " ".join(more.group(1).split())
            out[last] = f"{before} {text}" if before.endswith(":") else f"{before}; {text}".strip("; ")
    return out


@functools.cache
def key_help() -> Mapping[str, str]:
    """:func:`key_descriptions` of the shipped ``policies.yaml``, read once when first asked for."""
    return MappingProxyType(key_descriptions(packaged_policy_path().read_text(encoding="utf-8")))
