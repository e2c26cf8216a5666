"""The Engine's call methods, one per event kind: GENERATED from engine/events, do not edit.

Regenerate with ``python -m engine.events._generate`` after changing an event
kind; each method hands its arguments to :meth:`Engine.call`, which checks
them against the kind's declaration and runs the call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.events import KINDS, EventKind
from engine.model import Decision

#: An instant as a caller may give it: an aware datetime, a date (midnight in the policy's time
#: zone) or RFC 3339 text.
At = dt.datetime | dt.date | str


class Calls:
    """The typed doors to :meth:`call`, for apps and their type checkers."""

    def call(
        self, event: str | EventKind, args: Mapping[str, Any], *, at: At | None = None, key: str | None = None
    ) -> Decision:
        raise NotImplementedError

    def send(
        self,
        sender: str,
        recipient: str,
        *,
        at: At | None = None,
        message_id: str | None = None,
        key: str | None = None,
    ) -> Decision:
        """May ``sender`` InMail ``recipient`` now? If the rules say so, the message goes out.

        A message to a connection is recorded as a free message (a response
        to it earns nothing back); a denied send records nothing.
        ``Decision.message`` is the message id (generated when not given).
        """
        return self.call(
            KINDS["send"],
            {
                "sender": sender,
                "recipient": recipient,
                "message_id": message_id,
            },
            at=at,
            key=key,
        )

    def respond(
        self,
        message_id: str,
        response_type: str,
        *,
        at: At | None = None,
        key: str | None = None,
    ) -> Decision:
        """The recipient responds; the rules decide whether the sender gets the credit back (R13-R16).

        ``Decision.status`` is how the response records the message
        (``responses`` in the policy: replied, accepted or declined); the
        acting account is the sender, whose balance may change.
        """
        return self.call(
            KINDS["respond"],
            {
                "message_id": message_id,
                "response_type": response_type,
            },
            at=at,
            key=key,
        )

    def purchase(
        self,
        account: str,
        credits: int,
        *,
        at: At | None = None,
        key: str | None = None,
    ) -> Decision:
        """Buy ``credits`` extra credits, outside the cap, if the rules allow it (R17, R18)."""
        return self.call(
            KINDS["purchase"],
            {
                "account": account,
                "credits": credits,
            },
            at=at,
            key=key,
        )

    def cancel(
        self,
        account: str,
        *,
        at: At | None = None,
        key: str | None = None,
    ) -> Decision:
        """Cancel the subscription: the rules forfeit the balance and stop renewals (R12)."""
        return self.call(
            KINDS["cancel"],
            {
                "account": account,
            },
            at=at,
            key=key,
        )

    def subscribe(
        self,
        account: str,
        plan: str,
        *,
        at: At | None = None,
        billing_anchor: At | None = None,
        payment: str = "valid",
        key: str | None = None,
    ) -> Decision:
        """Start a subscription (opening the account if new); a canceled or Basic account starts afresh.

        Upgrading a Basic member is a new subscription (new start, anchor and
        start grant); moving between Premium plans is :meth:`change_plan`.

        The billing anchor (default ``at``) fixes the renewal dates (R07, R08):
        a seat assigned mid-cycle still renews on the anchor's day. With
        ``renewal.grant_on_start`` the start grant is a ``renew`` event at
        ``at`` that the subscription itself brings about: it is applied right
        after it, within this call, and listed in ``system_events`` (so
        ``Decision.balance`` already includes it).
        """
        return self.call(
            KINDS["subscribe"],
            {
                "account": account,
                "plan": plan,
                "billing_anchor": billing_anchor,
                "payment": payment,
            },
            at=at,
            key=key,
        )

    def change_plan(
        self,
        account: str,
        plan: str,
        *,
        at: At | None = None,
        key: str | None = None,
    ) -> Decision:
        """Move to ``plan``: eligibility at once; allotment and cap from the next renewal; lots kept."""
        return self.call(
            KINDS["change_plan"],
            {
                "account": account,
                "plan": plan,
            },
            at=at,
            key=key,
        )

    def set_payment(
        self,
        account: str,
        status: str,
        *,
        at: At | None = None,
        key: str | None = None,
    ) -> Decision:
        """Record the card on file as ``valid`` or ``expired`` (R03: expired blocks sends and purchases)."""
        return self.call(
            KINDS["payment"],
            {
                "account": account,
                "status": status,
            },
            at=at,
            key=key,
        )

    def connect(
        self,
        account: str,
        other: str,
        *,
        at: At | None = None,
        key: str | None = None,
    ) -> Decision:
        """Make ``account`` and ``other`` 1st-degree connections, both ways (R04)."""
        return self.call(
            KINDS["connect"],
            {
                "account": account,
                "other": other,
            },
            at=at,
            key=key,
        )
