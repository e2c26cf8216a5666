"""Partitions for impact on many workers: no call crosses them, and the merged report is the whole one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Engine, compare_policies
from engine.impact.partition import Owners, assign
from engine.impact.synthetic import Call

from .test_impact import POLICY, edited

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NAMES = [f"a{i}" for i in range(8)]


@st.composite
def histories(draw: st.DrawFn) -> list[Call]:
    """Calls among a few accounts: sends (named or not) and their responses, connections, and
    calls of one account, in random order; responses name sends made before them, or none."""
    calls: list[Call] = []
    sent: list[str] = []
    for n in range(draw(st.integers(0, 40))):
        at = T0 + dt.timedelta(hours=n)
        what = draw(st.sampled_from(["send", "send_unnamed", "respond", "connect", "purchase", "advance"]))
        a, b = draw(st.sampled_from(NAMES)), draw(st.sampled_from(NAMES))
        if what == "send":
            sent.append(f"m{n}")
            calls.append(Call("send", {"sender": a, "recipient": b, "message_id": f"m{n}"}, at))
        elif what == "send_unnamed":  # the engine's default id, `<sender>/<n>`
            sent.append(f"{a}/{n}")
            calls.append(Call("send", {"sender": a, "recipient": b, "message_id": None}, at))
        elif what == "respond":
            message = draw(st.sampled_from(sent)) if sent else "nobody-sent-this"
            calls.append(Call("respond", {"message_id": message, "response_type": "interested"}, at))
        elif what == "connect":
            calls.append(Call("connect", {"account": a, "other": b}, at))
        elif what == "purchase":
            calls.append(Call("purchase", {"account": a, "credits": 1}, at))
        else:
            calls.append(Call("advance", {}, at))
    return calls


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(1, 5))
def test_no_call_crosses_partitions_and_every_account_is_in_one(calls: list[Call], parts: int) -> None:
    p = assign(calls, parts)
    owners = Owners()
    for call in calls:
        named = owners.accounts(call)
        assert len({p.part(account) for account in named}) <= 1, (call, p.of)
        assert all(account in p.of for account in named)
    assert all(0 <= part < parts for part in p.of.values())
    assert sum(p.events) == sum(1 for c in calls if c.kind is not None)


def test_what_ties_accounts_is_what_they_share() -> None:
    """A connection ties both ends; a send does not tie its recipient (what it records is the
    sender's), nor does a response; two senders of one message id are tied, and so is a sender
    whose chosen id has another account's default form."""
    calls = [
        Call("send", {"sender": "x", "recipient": "y", "message_id": None}, T0),
        Call("respond", {"message_id": "x/1", "response_type": "interested"}, T0),
        Call("connect", {"account": "z", "other": "y"}, T0),
        Call("send", {"sender": "u", "recipient": "y", "message_id": "m1"}, T0),
        Call("send", {"sender": "v", "recipient": "q", "message_id": "m1"}, T0),
        Call("send", {"sender": "w", "recipient": "q", "message_id": "s/7"}, T0),
        Call("purchase", {"account": "s", "credits": 2}, T0),
    ]
    p = assign(calls, 8)
    assert p.part("z") == p.part("y") and p.part("u") == p.part("v") and p.part("w") == p.part("s")
    assert len({p.part("x"), p.part("y"), p.part("u"), p.part("w")}) == 4
    assert sorted(p.events, reverse=True)[:4] == [2, 2, 2, 1]


def test_a_history_of_accounts_that_interact_gives_the_same_report_on_two_workers(tmp_path: Path) -> None:
    """A store whose members send to, answer and connect with each other, and some who keep to
    themselves: the report over its log with --jobs 2 is the report of one process."""
    db = str(tmp_path / "history.db")
    interacting_store(db)
    new = edited(tmp_path, "monthly_allotment: 5        # R10", "monthly_allotment: 3        # R10")
    one = compare_policies(base_policy=POLICY, new_policy=new, db=db)
    two = compare_policies(base_policy=POLICY, new_policy=new, db=db, jobs=2)
    assert one.changed > 0 and one.to_dict() == two.to_dict()
    assert one.base.daily() == two.base.daily() and one.new.daily() == two.new.daily()


def interacting_store(db: str) -> None:
    """A store of twelve members: eight send to, answer and connect with each other in rings,
    four keep to themselves (they only write to people who are not members)."""
    with Engine.open(db=db) as eng:
        names = [f"m{i}" for i in range(12)]
        for i, name in enumerate(names):
            eng.subscribe(name, "career" if i % 3 else "business", at=T0)
        for day in range(1, 50, 3):
            at = T0 + dt.timedelta(days=day)
            for i, name in enumerate(names[:8]):  # the first eight message each other in pairs and rings
                other = names[(i + day) % 8]
                if other != name:
                    d = eng.send(name, other, at=at)
                    if d.message is not None and (i + day) % 2 == 0:
                        eng.respond(d.message, "interested", at=at + dt.timedelta(hours=1))
            if day % 9 == 1:
                eng.connect(names[day % 8], names[(day + 3) % 8], at=at + dt.timedelta(hours=2))
            for name in names[8:]:  # these four never meet anyone
                eng.send(name, f"outsider-{day}", at=at)
