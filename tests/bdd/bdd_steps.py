"""The step vocabulary of the features: every phrase a ``.feature`` file may use.

Keep it small and reusable: a new phrase is worth adding only when an
existing one cannot say it. Each step is declared with :func:`step`, which
registers it with pytest-bdd *and* records its phrase and docstring, so
``features/STEPS.md`` (the catalog for non-developers) is generated from this
file (``python tests/bdd/gen_bdd_docs.py``) and cannot drift from it.

Placeholders in phrases use ``parse`` syntax; the custom types are:
``{x:Instant}`` a date or date-time (2026-01-15, 2026-01-15 09:30),
``{x:Credits}`` a count followed by "credit"/"credits", ``{x:d}`` a number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest_bdd
from bdd_world import When, World, plan_key, policy_path, split_dates
from click.testing import CliRunner
from pytest_bdd import parsers

F = TypeVar("F", bound=Callable[..., Any])


def _instant(text: str) -> When:
    return When.parse(text)


_instant.pattern = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?"  # type: ignore[attr-defined]


def _credits(text: str) -> int:
    return int(text.split()[0])


_credits.pattern = r"\d+ credits?"  # type: ignore[attr-defined]

TYPES = {"Instant": _instant, "Credits": _credits}


@dataclass(frozen=True)
class StepDoc:
    """One phrase of the vocabulary, for the generated catalog."""

    kinds: tuple[str, ...]
    phrase: str
    doc: str
    section: str
    parser: parsers.parse


STEPS: list[StepDoc] = []
_section = ""


def section(title: str) -> None:
    """Start a heading in the generated catalog."""
    global _section
    _section = title


def step(kinds: str, phrase: str) -> Callable[[F], F]:
    """Register ``phrase`` for the given step kinds ("given", "when", "then", or "given when")."""
    kind_list = tuple(kinds.split())

    def deco(fn: F) -> F:
        parser = parsers.parse(phrase, extra_types=TYPES)
        STEPS.append(StepDoc(kind_list, phrase, (fn.__doc__ or "").strip(), _section, parser))
        for kind in kind_list:
            # stacklevel=2: inject the step fixture into this module, not into deco's frame.
            getattr(pytest_bdd, kind)(parser, stacklevel=2)(fn)
        return fn

    return deco


# =========================================================================== setup

section("The policy in force")


@step("given", 'the policy\'s time zone is "{zone}"')
def time_zone(world: World, zone: str) -> None:
    """Reads dates and day counts in this IANA time zone for this scenario (e.g. "Europe/Paris").

    Must come before the first member or date of the scenario.
    """
    world.configure("timezone", zone)


@step(
    "given",
    "the policy has a {plan} plan: Premium, {allotment:d} credits a month, a cap of {cap:d}, "
    "buying more: {buy}",
)
def extra_plan(world: World, plan: str, allotment: int, cap: int, buy: str) -> None:
    """Adds a Premium plan to the policy for this scenario, as an editor would (e.g. a legacy plan).

    `buy` is yes or no. Must come before the first member or date of the scenario.
    """
    world.configure(
        "plans",
        {
            plan_key(plan): {
                "premium": True,
                "monthly_allotment": allotment,
                "cap": cap,
                "purchasable": buy.strip() == "yes",
            }
        },
    )


section("Members, time and connections")


@step("given", 'a {plan} member "{name}" since {since:Instant}')
def member_since(world: World, plan: str, name: str, since: When) -> None:
    """Subscribes a member to a plan (Basic, Career, Business, Sales Navigator, Recruiter Lite).

    The start date is also the billing anchor, and it sets the scenario's clock.
    """
    world.subscribe(name, plan, since)


@step("given", 'a {plan} member "{name}" since {since:Instant} with billing anchor {anchor:Instant}')
def member_since_anchor(world: World, plan: str, name: str, since: When, anchor: When) -> None:
    """Like the step above, with renewals following a separate billing anchor (e.g. a seat in a team)."""
    world.subscribe(name, plan, since, anchor)


@step("given when", "it is {when:Instant}")
def it_is(world: World, when: When) -> None:
    """Moves the clock forward to this date or date-time.

    Renewals, expiries and reminders that fall due by then happen on the way.
    """
    world.move_to(when)


@step("given when", "{days:d} days pass")
def days_pass(world: World, days: int) -> None:
    """Moves the clock forward by whole days (everything due in between happens)."""
    world.move_by(days)


@step("given when", "1 day passes")
def one_day_passes(world: World) -> None:
    """Moves the clock forward by one day."""
    world.move_by(1)


@step("given when", '"{name}" is connected to "{other}"')
def connected(world: World, name: str, other: str) -> None:
    """Makes two members 1st-degree connections (both ways)."""
    world.act(world.eng.connect(name, other, at=world.clock()))


@step("given when", 'the card of "{name}" has expired')
def card_expired(world: World, name: str) -> None:
    """Marks the member's card on file as expired."""
    world.act(world.eng.set_payment(name, "expired", at=world.clock()))


@step("when", '"{name}" updates the card')
def card_updated(world: World, name: str) -> None:
    """Marks the member's card on file as valid again."""
    world.act(world.eng.set_payment(name, "valid", at=world.clock()))


# =========================================================================== actions

section("What members do")


@step("given when", '"{sender}" sends an InMail to "{recipient}"')
def sends_inmail(world: World, sender: str, recipient: str) -> None:
    """Asks to send an InMail now; the engine decides whether it goes out (see the Then steps)."""
    world.send(sender, recipient)


@step("when", '"{sender}" sends "{recipient}" an InMail at "{written}"')
def sends_inmail_at(world: World, sender: str, recipient: str, written: str) -> None:
    """Asks to send an InMail at a time written as text, which the engine reads in the policy's time zone.

    For times the engine may refuse: outside 1970-3000, or skipped by a daylight-saving change.
    """
    world.send(sender, recipient, at=written)


@step("given when", '"{sender}" sends "{recipient}" an InMail with key "{key}"')
def sends_inmail_keyed(world: World, sender: str, recipient: str, key: str) -> None:
    """Asks to send an InMail now under an idempotency key, as an app retrying a request would."""
    world.send(sender, recipient, key=key)


@step("given when", '"{sender}" sends a message to "{recipient}"')
def sends_message(world: World, sender: str, recipient: str) -> None:
    """Same as sending an InMail; reads better when the recipient is a connection."""
    world.send(sender, recipient)


@step("given when", '"{sender}" sends InMails to {count:d} new members')
def sends_many(world: World, sender: str, count: int) -> None:
    """Sends InMails to that many members not written to before; every one of them must go out.

    Handy to use up credits. The recipients are named `alice-contact-1`,
    `alice-contact-2`, ... (for sender "alice").
    """
    world.batch = []
    for i in range(1, count + 1):
        d = world.send(sender, f"{sender}-contact-{i}")
        assert d is not None and d.outcome == "sent", (
            f"InMail {i} of {count} was not sent: {world.explain(d)}"
        )
        world.batch.append(d)


@step("given when", '"{recipient}" replies with "{response}"')
def replies(world: World, recipient: str, response: str) -> None:
    """The recipient answers the latest message sent to them.

    The answer is "reply" (a written reply) or one of the auto-replies
    "Interested", "Maybe later", "Not interested".
    """
    world.respond(recipient, response)


@step("given when", '"{name}" buys {count:Credits}')
def buys(world: World, name: str, count: int) -> None:
    """Asks to buy extra credits now ("buys 1 credit", "buys 10 credits")."""
    world.attempt(lambda: world.eng.purchase(name, count, at=world.clock()))


@step("given when", '"{name}" cancels the subscription')
def cancels(world: World, name: str) -> None:
    """Cancels the member's Premium subscription now."""
    world.act(world.eng.cancel(name, at=world.clock()))


@step("when", '"{name}" subscribes to the {plan} plan')
def subscribes(world: World, name: str, plan: str) -> None:
    """Starts a new subscription today (an upgrade from Basic, or coming back after a cancel)."""
    world.subscribe(name, plan, None)


@step("given when", '"{name}" changes to the {plan} plan')
def changes_plan(world: World, name: str, plan: str) -> None:
    """Moves the member to another plan today (rights change now, allotment and cap at the next renewal)."""
    world.act(world.eng.change_plan(name, plan_key(plan), at=world.clock()))


@step("when", "the plans are compared")
def plans_compared(world: World) -> None:
    """Lists the plans side by side, as `inmail plans --format json` shows them."""
    from engine.cli import main

    result = CliRunner().invoke(main, ["plans", "--format", "json", "--policy", str(policy_path())])
    assert result.exit_code == 0, result.output
    world.plan_rows = json.loads(result.output)


# =========================================================================== outcomes

section("What the engine decided")


def _outcome(world: World, event: str, outcome: str, reason: str | None = None) -> None:
    d = world.last_decision(event)
    assert (d.outcome, d.reason) == (outcome, reason), (
        f"expected {outcome}" + (f" ({reason})" if reason else "") + f", got {world.explain(d)}"
    )


@step("then", 'the call is refused because "{code}"')
def call_refused(world: World, code: str) -> None:
    """The engine refused the last call outright (it was not an event it could decide), with this code.

    A refused call changes nothing: the ledger and the reminders are checked to be as they were.
    Codes: time_out_of_range, nonexistent_local_time, invalid_quantity, idempotency_key_reused, ...
    """
    assert world.refused is not None and not world.refused_checked, "the last call was not refused"
    world.refused_checked = True
    assert world.refused.code == code, f"refused with {world.refused.code}, expected {code}: {world.refused}"
    assert world.observable() == world.before_refusal, "the refused call changed the store"


@step("then", 'the answer is the decision first made under key "{key}"')
def same_decision(world: World, key: str) -> None:
    """The last call, a retry under this idempotency key, got back the first decision, unchanged."""
    assert world.refused_checked, f"the call was refused: {world.refused}"
    assert key in world.keyed, f"no call has used the key {key!r}"
    assert world.last == world.keyed[key], f"got {world.explain()}, not the first decision under {key!r}"


@step("then", 'the decision is dated "{iso}"')
def decision_dated(world: World, iso: str) -> None:
    """The last decision took effect at this instant (ISO 8601 with its offset, e.g. 2026-10-25T00:30:00Z)."""
    import datetime as dt

    assert world.last is not None, "no decision yet"
    want = dt.datetime.fromisoformat(iso)
    assert world.last.at == want, f"decided at {world.last.at.isoformat()}, expected {want.isoformat()}"


@step("then", "the InMail is sent")
def inmail_sent(world: World) -> None:
    """The last send went out as a paid InMail."""
    _outcome(world, "send", "sent")


@step("then", "the message is sent free of charge")
def message_free(world: World) -> None:
    """The last send went out as an ordinary message to a connection (no credit)."""
    _outcome(world, "send", "sent_free")


@step("then", 'the send is denied because "{reason}"')
def send_denied(world: World, reason: str) -> None:
    """The last send was refused, with this reason code.

    Codes: upgrade_required, update_payment_required, awaiting_response, no_credits.
    """
    _outcome(world, "send", "denied", reason)


@step("then", "the decision says more credits can be bought")
def can_buy(world: World) -> None:
    """The last send was refused for lack of credits, and the member's plan allows buying more."""
    d = world.last_decision("send")
    assert d.purchase_possible is True, f"purchase_possible is {d.purchase_possible}: {world.explain(d)}"


@step("then", "the decision says more credits cannot be bought")
def cannot_buy(world: World) -> None:
    """The last send was refused for lack of credits, and the member's plan does not allow buying."""
    d = world.last_decision("send")
    assert d.purchase_possible is False, f"purchase_possible is {d.purchase_possible}: {world.explain(d)}"


@step("then", "the decision shows {credits:Credits} left")
def decision_shows(world: World, credits: int) -> None:
    """The last decision reports this balance for the acting member (what a compose window would show)."""
    d = world.last
    assert d is not None, "no decision yet"
    assert d.balance == credits, f"expected {credits} left, got {world.explain(d)}"


@step("then", "the response is credited back")
def credited_back(world: World) -> None:
    """The last response returned the InMail's credit to the sender."""
    _outcome(world, "respond", "credited_back")


@step("then", 'the response is not credited because "{reason}"')
def not_credited(world: World, reason: str) -> None:
    """The last response returned no credit, with this reason code.

    Codes: not_inmail, already_responded, late_response, not_premium.
    """
    _outcome(world, "respond", "not_credited", reason)


@step("then", 'the InMail is recorded as "{status}"')
def recorded_as(world: World, status: str) -> None:
    """The last response recorded the InMail with this status: replied, accepted or declined."""
    d = world.last_decision("respond")
    assert d.status == status, f"expected status {status}, got {d.status}: {world.explain(d)}"


@step("then", "the purchase goes through")
def purchase_ok(world: World) -> None:
    """The last purchase was accepted."""
    _outcome(world, "purchase", "purchased")


@step("then", 'the purchase is denied because "{reason}"')
def purchase_denied(world: World, reason: str) -> None:
    """The last purchase was refused, with this reason code.

    Codes: upgrade_required, not_purchasable, update_payment_required.
    """
    _outcome(world, "purchase", "denied", reason)


# =========================================================================== balances

section("Balances, credits and reminders")


@step("then", 'the balance of "{name}" is {credits:Credits}')
def balance_now(world: World, name: str, credits: int) -> None:
    """The member's usable credits right now."""
    got = world.balance(name).credits
    assert got == credits, f"balance of {name} is {got}, expected {credits}"


@step("then", 'the balance of "{name}" on {when:Instant} was {credits:Credits}')
def balance_then(world: World, name: str, when: When, credits: int) -> None:
    """The member's usable credits at an earlier date or date-time (a bare date means its first instant)."""
    got = world.balance(name, when).credits
    assert got == credits, f"balance of {name} on {when.text} was {got}, expected {credits}"


@step("then", 'the balance of "{name}" on {when:Instant} will be {credits:Credits}')
def balance_ahead(world: World, name: str, when: When, credits: int) -> None:
    """What the member's usable credits will be at a later date, if nothing else happens.

    Reading ahead stores nothing: the scenario may go on from today.
    """
    got = world.balance(name, when).credits
    assert got == credits, f"balance of {name} on {when.text} will be {got}, expected {credits}"


@step("then", '"{name}" holds {credits:Credits} expiring on {day:Instant}')
def holds_expiring(world: World, name: str, credits: int, day: When) -> None:
    """Of the member's usable credits right now, this many expire on that day."""
    bal = world.balance(name)
    got = sum(lot.remaining for lot in bal.lots if day.matches(lot.expires_at, world.tz))
    lots = ", ".join(f"{lot.remaining} until {lot.expires_at:%Y-%m-%d %H:%M}" for lot in bal.lots)
    assert got == credits, f"{name} holds {got} credits expiring on {day.text}, expected {credits} ({lots})"


@step("then", '"{name}" was granted credits on {dates}')
def granted_on(world: World, name: str, dates: str) -> None:
    """The member's monthly allotments arrived on exactly these dates (e.g. "2026-01-15 and 2026-02-15")."""
    want = [w.date for w in split_dates(dates)]
    got = [e.at.astimezone(world.tz).date() for e in world.entries(name, "grant")]
    assert got == want, f"{name} was granted credits on {got}, expected {want}"


@step("then", '{credits:Credits} of "{name}" expired on {day:Instant}')
def expired_on(world: World, credits: int, name: str, day: When) -> None:
    """This many unused credits of the member expired on that day."""
    got = -sum(e.amount for e in world.entries(name, "expire") if day.matches(e.at, world.tz))
    assert got == credits, f"{got} credits of {name} expired on {day.text}, expected {credits}"


@step("then", '{credits:Credits} of "{name}" were forfeited at the cap on {day:Instant}')
def forfeited_on(world: World, credits: int, name: str, day: When) -> None:
    """This many credits of the member were given up on that day to stay within the plan's cap."""
    got = -sum(e.amount for e in world.entries(name, "forfeit_cap") if day.matches(e.at, world.tz))
    assert got == credits, f"{got} credits of {name} were forfeited at the cap on {day.text}, not {credits}"


@step("then", '"{name}" got {credits:Credits} back')
def got_back(world: World, name: str, credits: int) -> None:
    """In total, this many credits came back to the member for answered InMails."""
    got = sum(e.amount for e in world.entries(name, "credit_back"))
    assert got == credits, f"{name} got {got} credits back, expected {credits}"


@step("then", '"{recipient}" has been reminded of the {what} from "{sender}"')
def reminded(world: World, recipient: str, what: str, sender: str) -> None:
    """The automatic reminder about the latest InMail (or message) from the sender has gone out."""
    mid = world.message_to(recipient, sender)
    assert mid in world.eng.reminded(at=world.clock()), f"{recipient} was not reminded of {mid}"


@step("then", '"{recipient}" has not been reminded of the {what} from "{sender}"')
def not_reminded(world: World, recipient: str, what: str, sender: str) -> None:
    """No reminder about the latest InMail (or message) from the sender has gone out (yet)."""
    mid = world.message_to(recipient, sender)
    assert mid not in world.eng.reminded(at=world.clock()), f"{recipient} was reminded of {mid}"


# =========================================================================== plans

section("Comparing plans")


@step(
    "then",
    "the {plan} plan gets {allotment:d} credits a month, holds at most {cap:d}, and can buy more: {buy}",
)
def plan_row(world: World, plan: str, allotment: int, cap: int, buy: str) -> None:
    """One row of the plans comparison (`buy` is yes or no)."""
    assert world.plan_rows is not None, "compare the plans first"
    rows = {r["plan"]: r for r in world.plan_rows}
    key = plan_key(plan)
    assert key in rows, f"plan {key} is not in the comparison ({sorted(rows)})"
    row = rows[key]
    want = {"monthly_allotment": allotment, "cap": cap, "purchasable": buy.strip() == "yes"}
    got = {k: row[k] for k in want}
    assert got == want, f"{key}: got {got}, expected {want}"


# =========================================================================== impact

section("Policy edits and what they change")


@step("given", "the {plan} allotment changes from {old:d} to {new:d}")
def allotment_changes(world: World, plan: str, old: int, new: int) -> None:
    """An edit to try: the plan's monthly allotment, from the value the policy has now to a new one."""
    world.edit_plan(plan_key(plan), "monthly_allotment", old, new)


@step("given", "the {plan} cap changes from {old:d} to {new:d}")
def cap_changes(world: World, plan: str, old: int, new: int) -> None:
    """An edit to try: the most credits the plan may hold."""
    world.edit_plan(plan_key(plan), "cap", old, new)


@step("when", "the impact on the example scenarios is computed")
def impact_on_examples(world: World) -> None:
    """Plays every scenario in examples/scenarios/ under the policy as it is and as edited, and compares."""
    world.compute_impact()


@step("then", "{count:d} accounts end with more credits")
def accounts_gain(world: World, count: int) -> None:
    """How many accounts end the scenarios with more credits under the edited policy."""
    r = world.impact_report()
    gained = [a for a in r.changed_accounts if r.delta(a) > 0]
    assert len(gained) == count, f"{len(gained)} accounts gain credits: {gained}"


@step("then", "{count:d} accounts end with fewer credits")
def accounts_lose(world: World, count: int) -> None:
    """How many accounts end the scenarios with fewer credits under the edited policy."""
    r = world.impact_report()
    lost = [a for a in r.changed_accounts if r.delta(a) < 0]
    assert len(lost) == count, f"{len(lost)} accounts lose credits: {lost}"


@step("then", '{count:d} decisions change from "{before}" to "{after}"')
def decisions_change(world: World, count: int, before: str, after: str) -> None:
    """How many calls the edit decides differently, from one outcome (or outcome/reason) to another."""
    r = world.impact_report()
    got = r.transitions.get((before, after), 0)
    assert got == count, f"{got} decisions go from {before} to {after}; all changes: {dict(r.transitions)}"


def fixtures() -> dict[str, object]:
    """The pytest-bdd step fixtures defined above, for conftest.py to expose."""
    return {k: v for k, v in globals().items() if k.startswith("pytestbdd_")}
