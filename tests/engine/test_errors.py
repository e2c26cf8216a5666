"""Every InvalidCall code leaves the store untouched; idempotency keys replay the first answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine import Decision, Engine, EngineError, InvalidCall

from .engine_helpers import MakeEngine, T


def snapshot(eng: Engine) -> Any:
    """Everything observable without moving time: accounts, ledgers, reminders, balances at each clock."""
    accounts = eng.accounts()
    return (
        accounts,
        {a: eng.history(a) for a in accounts},
        eng.reminded(),
        {a: eng.balance(a) for a in accounts},
    )


@pytest.fixture
def busy(eng: Engine) -> Engine:
    """alice (career, clock 2026-01-15, a renewal due 2026-02-01), one InMail m1 to carol."""
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.send("alice", "carol", at="2026-01-15", message_id="m1")
    return eng


BAD_CALLS: list[tuple[str, str, Callable[[Engine], Any]]] = [
    ("unknown_account", "send", lambda e: e.send("nobody", "x", at="2026-02-02")),
    ("unknown_account", "balance", lambda e: e.balance("nobody", at="2026-02-02")),
    ("unknown_account", "history", lambda e: e.history("nobody")),
    ("unknown_account", "cancel", lambda e: e.cancel("nobody", at="2026-02-02")),
    ("account_exists", "subscribe", lambda e: e.subscribe("alice", "business", at="2026-02-02")),
    ("unknown_message", "respond", lambda e: e.respond("nope", "reply", at="2026-02-02")),
    ("message_exists", "send", lambda e: e.send("alice", "dave", at="2026-02-02", message_id="m1")),
    ("unknown_plan", "subscribe", lambda e: e.subscribe("newbie", "gold", at="2026-02-02")),
    ("unknown_plan", "change_plan", lambda e: e.change_plan("alice", "gold", at="2026-02-02")),
    ("invalid_quantity", "zero", lambda e: e.purchase("alice", 0, at="2026-02-02")),
    ("invalid_quantity", "negative", lambda e: e.purchase("alice", -3, at="2026-02-02")),
    ("invalid_quantity", "bool", lambda e: e.purchase("alice", True, at="2026-02-02")),
    ("invalid_quantity", "float", lambda e: e.purchase("alice", 2.5, at="2026-02-02")),
    ("unknown_response_type", "respond", lambda e: e.respond("m1", "thumbs_up", at="2026-02-02")),
    ("time_went_back", "send", lambda e: e.send("alice", "dave", at="2026-01-14")),
    ("time_went_back", "respond", lambda e: e.respond("m1", "reply", at="2026-01-14T23:59:59Z")),
    ("invalid_time", "text", lambda e: e.send("alice", "dave", at="next tuesday")),
    ("invalid_time", "number", lambda e: e.send("alice", "dave", at=20260202)),
    ("invalid_time", "month 13", lambda e: e.purchase("alice", 1, at="2026-13-01")),
    (
        "invalid_time",
        "anchor",
        lambda e: e.subscribe("newbie", "career", at="2026-02-02", billing_anchor="?"),
    ),
    ("invalid_payment_status", "set_payment", lambda e: e.set_payment("alice", "stolen", at="2026-02-02")),
    (
        "invalid_payment_status",
        "subscribe",
        lambda e: e.subscribe("newbie", "career", at="2026-02-02", payment="bogus"),
    ),
    ("self_connection", "connect", lambda e: e.connect("alice", "alice", at="2026-02-02")),
    # what an app may pass by mistake (each refused before anything is loaded or written)
    ("time_out_of_range", "year 9999", lambda e: e.subscribe("zed", "career", at="9999-12-01T00:00:00Z")),
    ("time_out_of_range", "datetime.max", lambda e: e.subscribe("zed", "career", at=dt.datetime.max)),
    ("time_out_of_range", "year 1", lambda e: e.subscribe("zed", "career", at="0001-01-01")),
    ("time_out_of_range", "before 1970", lambda e: e.send("alice", "dave", at="1969-12-31T23:59:59Z")),
    ("time_out_of_range", "balance far ahead", lambda e: e.balance("alice", at="9999-12-31")),
    ("invalid_quantity", "10**30", lambda e: e.purchase("alice", 10**30, at="2026-02-02")),
    ("invalid_quantity", "2**63", lambda e: e.purchase("alice", 2**63, at="2026-02-02")),
    ("invalid_quantity", "a million and one", lambda e: e.purchase("alice", 1_000_001, at="2026-02-02")),
    ("invalid_name", "account None", lambda e: e.subscribe(None, "career", at="2026-02-02")),
    ("invalid_name", "account 123", lambda e: e.subscribe(123, "career", at="2026-02-02")),
    ("invalid_name", "account empty", lambda e: e.subscribe("", "career", at="2026-02-02")),
    ("invalid_name", "account with escapes", lambda e: e.subscribe("\x1b[31mzed", "career", at="2026-02-02")),
    ("invalid_name", "recipient None", lambda e: e.send("alice", None, at="2026-02-02")),
    ("invalid_name", "connect None", lambda e: e.connect("alice", None, at="2026-02-02")),
    (
        "invalid_message_id",
        "message id 123",
        lambda e: e.send("alice", "dave", at="2026-02-02", message_id=123),
    ),
    ("invalid_key", "key 123", lambda e: e.send("alice", "dave", at="2026-02-02", key=123)),
    ("invalid_key", "key list", lambda e: e.send("alice", "dave", at="2026-02-02", key=[1])),
    ("invalid_key", "key dict", lambda e: e.send("alice", "dave", at="2026-02-02", key={"a": 1})),
    ("self_connection", "send to oneself", lambda e: e.send("alice", "alice", at="2026-02-02")),
    ("unknown_plan", "plan None", lambda e: e.change_plan("alice", None, at="2026-02-02")),
    ("unknown_event", "decide a list", lambda e: e.decide([1], {})),
    # the second campaign: objects that misbehave, derived times, hidden characters, huge facts
    ("invalid_time", "offset of 24 hours", lambda e: e.send("alice", "dave", at="2026-02-02T10:00:00+24:00")),
    ("invalid_time", "tzinfo that raises", lambda e: e.send("alice", "dave", at=_aware(_RaisingZone()))),
    ("invalid_time", "tzinfo of 30 hours", lambda e: e.send("alice", "dave", at=_aware(_FarZone()))),
    (
        "time_out_of_range",
        "expiry past 2999",
        lambda e: e.subscribe("zed", "career", at="2999-12-31T23:59:59Z"),
    ),
    ("invalid_name", "right-to-left override", lambda e: e.subscribe("a\u202eb", "career", at="2026-02-02")),
    ("invalid_name", "zero-width space", lambda e: e.send("alice", "da\u200bve", at="2026-02-02")),
    ("invalid_fact", "fact beyond 10**15", lambda e: e.decide("send", _send_facts(e, 2**63))),
    # the third campaign: texts a lenient ISO reader took for some instant (tests/ledger/test_read_instant.py)
    ("invalid_time", "letter separator", lambda e: e.send("alice", "dave", at="2026-02-02a12:00")),
    ("invalid_time", "week date", lambda e: e.purchase("alice", 1, at="2026-W06-1")),
    ("invalid_time", "date and zeros", lambda e: e.balance("alice", at="2026-02-0200000000000000000000")),
    (
        "invalid_time",
        "basic anchor",
        lambda e: e.subscribe("newbie", "career", at="2026-02-02", billing_anchor="2026-02-02_1200"),
    ),
]


class _RaisingZone(dt.tzinfo):
    def utcoffset(self, d: dt.datetime | None) -> dt.timedelta:
        raise RuntimeError("a broken time zone")


class _FarZone(dt.tzinfo):
    def utcoffset(self, d: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=30)


def _aware(zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime(2026, 2, 2, 10, 0, tzinfo=zone)


def _send_facts(e: Engine, balance: int) -> dict[str, Any]:
    from engine.rules.defaults import complete_facts

    return dict(complete_facts("send", {"sender.balance": balance}, e.policy))


@pytest.mark.parametrize(
    ("code", "call"), [(c, f) for c, _, f in BAD_CALLS], ids=[f"{c}-{n}" for c, n, _ in BAD_CALLS]
)
def test_invalid_call_writes_nothing(busy: Engine, code: str, call: Callable[[Engine], Any]) -> None:
    before = snapshot(busy)
    with pytest.raises(InvalidCall) as info:
        call(busy)
    assert info.value.code == code
    assert snapshot(busy) == before
    # the renewal due on 2026-02-01 was not applied by the refused call either
    assert [e.at for e in busy.history("alice") if e.kind == "grant"] == [T("2026-01-01T00:00:00")]


def test_resubscribe_cannot_go_back_in_time(busy: Engine) -> None:
    busy.cancel("alice", at="2026-01-20")
    before = snapshot(busy)
    with pytest.raises(InvalidCall) as info:
        busy.subscribe("alice", "career", at="2026-01-19")
    assert info.value.code == "time_went_back"
    assert snapshot(busy) == before


def test_idempotent_retry_returns_the_first_decision_and_changes_nothing(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01", key="sub-1")
    first = eng.send("alice", "carol", at="2026-02-02", message_id="m1", key="send-1")
    state = snapshot(eng)
    again = eng.send("alice", "carol", at="2026-02-02", message_id="m1", key="send-1")
    assert again == first
    assert again.system_events == first.system_events and len(first.system_events) == 1
    assert snapshot(eng) == state
    # a retry long after still answers the first result; the key is bound to its call
    eng.advance("2026-03-05")
    assert eng.send("alice", "carol", at="2026-02-02", message_id="m1", key="send-1") == first
    assert eng.subscribe("alice", "career", at="2026-01-01", key="sub-1").outcome == "subscribed"
    for other in (
        lambda: eng.send("alice", "carol", at="2026-01-01", key="send-1"),
        lambda: eng.send("alice", "dave", at="2026-02-02", message_id="m1", key="send-1"),
        lambda: eng.purchase("alice", 1, at="2026-03-05", key="send-1"),
    ):
        state = snapshot(eng)
        with pytest.raises(InvalidCall) as info:
            other()
        assert info.value.code == "idempotency_key_reused"
        assert snapshot(eng) == state


def test_idempotent_responses_and_purchases(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    eng.send("alice", "carol", at="2026-01-02", message_id="m1")
    r1 = eng.respond("m1", "reply", at="2026-01-03", key="r")
    assert eng.respond("m1", "reply", at="2026-01-03", key="r") == r1
    p1 = eng.purchase("alice", 5, at="2026-01-04", key="p")
    assert eng.purchase("alice", 5, at="2026-01-04", key="p") == p1
    assert eng.balance("alice").credits == 10
    assert sum(1 for e in eng.history("alice") if e.kind == "credit_back") == 1


def test_decision_survives_a_json_round_trip(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-01")
    d = eng.send("alice", "carol", at="2026-03-02", message_id="m1")
    assert Decision.from_dict(d.to_dict()) == d
    assert d.rules == ("monthly-allotment", "monthly-allotment", "send-inmail")


def test_at_accepts_datetimes_dates_and_text(make: MakeEngine) -> None:
    eng = make()
    eng.subscribe("a", "career", at=dt.date(2026, 1, 1))
    eng.subscribe("b", "career", at=dt.datetime(2026, 1, 1, 9))
    eng.subscribe("c", "career", at=dt.datetime(2026, 1, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    eng.subscribe("d", "career", at="2026-01-01T09:00:00+00:00")
    assert [eng.balance(x).at for x in "abcd"] == [
        T("2026-01-01T00:00:00"),
        T("2026-01-01T09:00:00"),
        T("2026-01-01T09:00:00"),
        T("2026-01-01T09:00:00"),
    ]


def test_decide_passes_through_to_the_rules(eng: Engine) -> None:
    facts = {
        "sender.premium": True,
        "sender.plan": "career",
        "sender.payment": "valid",
        "sender.balance": 0,
        "plan.premium": True,
        "plan.purchasable": True,
        "plan.monthly_allotment": 5,
        "plan.cap": 15,
        "recipient.connected": False,
        "pair.awaiting_response": False,
    }
    v = eng.decide("send", facts)
    assert (v.outcome, v.reason, v.rule) == ("denied", "no_credits", "no-credits-can-buy")
    with pytest.raises(InvalidCall) as info:
        eng.decide("send", {**facts, "sender.balance": "0"})
    assert info.value.code == "invalid_fact"


def test_a_call_that_fails_half_way_leaves_nothing_on_either_store(
    eng: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send whose credit was already taken when a later effect fails: the credit, lot and log stay."""
    import engine.core.effects as effects

    eng.subscribe("alice", "career", at="2026-01-15T09:00:00Z")
    eng.purchase("alice", 3, at="2026-01-15T09:30:00Z")
    before = (eng.balance("alice"), eng.history("alice"), eng.reminded("2026-03-01"))

    def broken(act: object) -> None:
        raise RuntimeError("the disk is full")

    real = effects.TABLE["schedule_reminder"]
    monkeypatch.setattr(effects, "_PLANS", {})  # the handler plans are cached: start and end with none
    monkeypatch.setitem(effects.TABLE, "schedule_reminder", dataclasses.replace(real, run=broken))
    with pytest.raises(RuntimeError):
        eng.send("alice", "carol", at="2026-01-16T10:00:00Z", message_id="m1")
    monkeypatch.setitem(effects.TABLE, "schedule_reminder", real)
    effects._PLANS.clear()
    assert (eng.balance("alice"), eng.history("alice"), eng.reminded("2026-03-01")) == before
    d = eng.send("alice", "carol", at="2026-01-16T10:00:00Z", message_id="m1")  # and the retry goes through
    assert d.outcome == "sent" and d.balance == before[0].credits - 1


OPENS: list[tuple[str, str, dict[str, Any]]] = [
    ("invalid_argument", "NUL in the database name", {"db": "a\x00b.db"}),
    ("invalid_argument", "lone surrogate in the database name", {"db": "\ud800.db"}),
    ("invalid_argument", "NUL in the policy path", {"policy": "a\x00"}),
    ("invalid_argument", "a policy path too long", {"policy": "p" * 5000}),
    ("invalid_database", "a port that is not a number", {"db": "postgresql://h:notaport/x"}),
    ("invalid_database", "a dialect with two drivers", {"db": "sqlite+pysqlite+x:///y"}),
    (
        "invalid_argument",
        "an override with a 5,000-digit number",
        {"policy_override": {"plans": {"career": {"cap": 10**5000}}}},
    ),
    ("invalid_argument", "override text that is not text", {"override_text": 5}),
]


@pytest.mark.parametrize(("code", "kwargs"), [(c, k) for c, _, k in OPENS], ids=[n for _, n, _ in OPENS])
def test_open_refuses_what_it_cannot_use(
    code: str, kwargs: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EngineError) as info:
        Engine.open(**kwargs).close()
    assert info.value.code == code
    assert list(tmp_path.iterdir()) == []


def test_an_override_nested_too_deeply_is_refused() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(2_000):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(InvalidCall) as info:
        Engine.open(policy_override=deep)
    assert info.value.code == "invalid_argument"


def test_open_and_reload_refuse_a_policy_without_a_plan_in_use(tmp_path: Path) -> None:
    db = str(tmp_path / "run.db")
    with Engine.open(db=db) as eng:
        eng.subscribe("alice", "career", at="2026-01-01")
    text = (Path(__file__).resolve().parents[2] / "policies.yaml").read_text(encoding="utf-8")
    (tmp_path / "nocareer.yaml").write_text(text.replace("\n  career:\n", "\n  careerx:\n"), encoding="utf-8")
    with pytest.raises(InvalidCall) as info:
        Engine.open(db=db, policy=tmp_path / "nocareer.yaml")
    assert info.value.code == "plan_in_use"
    with Engine.open(db="sqlite://") as eng:  # reload on an in-memory SQLite store works (one connection)
        eng.subscribe("alice", "career", at="2026-01-01")
        with pytest.raises(InvalidCall) as info:
            eng.reload(policy=tmp_path / "nocareer.yaml")
        assert info.value.code == "plan_in_use"
        assert eng.reload() == eng.revision


def test_create_false_opens_only_an_existing_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(EngineError) as info:
        Engine.open(db=str(empty), create=False)
    assert info.value.code == "store_not_found" and empty.read_bytes() == b""
