"""The event log: every decided call, in the call's own transaction, enough to make it again."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Engine, EngineError, InvalidCall
from engine.impact.synthetic import year_of_events
from tests.depth import examples

from .engine_helpers import MakeEngine


def test_every_decided_call_is_logged_once_denials_included(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-15T09:00:00Z")
    eng.subscribe("ben", "basic", at="2026-01-15T09:00:00Z")
    eng.send("alice", "carol", at="2026-01-15T10:00:00Z", message_id="m1", key="k1")
    eng.send("alice", "carol", at="2026-01-15T10:00:00Z", message_id="m1", key="k1")  # a retry: not again
    eng.send("ben", "carol", at="2026-01-16")  # denied: upgrade_required, logged
    with pytest.raises(InvalidCall):
        eng.respond("nope", "reply", at="2026-01-17")  # refused: not logged
    eng.respond("m1", "interested", at="2026-01-20T08:30:00Z")
    log = eng.log()
    assert [(c.seq, c.method, c.account, c.outcome, c.reason) for c in log] == [
        (1, "subscribe", "alice", "subscribed", None),
        (2, "subscribe", "ben", "subscribed", None),
        (3, "send", "alice", "sent", None),
        (4, "send", "ben", "denied", "upgrade_required"),
        (5, "respond", "alice", "credited_back", None),
    ]
    assert log[2].key == "k1" and log[2].message == "m1" and log[2].revision == eng.revision
    assert log[2].args == {
        "sender": "alice",
        "recipient": "carol",
        "at": "2026-01-15T10:00:00+00:00",
        "message_id": "m1",
    }
    assert [c.seq for c in eng.log(account="ben")] == [2, 4]
    assert [c.seq for c in eng.log(since="2026-01-16")] == [4, 5]


def test_a_decision_names_its_place_in_the_log_and_a_retry_names_the_same(eng: Engine) -> None:
    eng.subscribe("alice", "career", at="2026-01-15T09:00:00Z")
    first = eng.send("alice", "carol", at="2026-01-15T10:00:00Z", key="k1")
    again = eng.send("alice", "carol", at="2026-01-15T10:00:00Z", key="k1")
    denied = eng.send("alice", "carol", at="2026-01-16")  # awaiting a response: denied, logged
    assert (first.id, again.id, denied.id) == (2, 2, 3)
    assert [c.seq for c in eng.log()] == [1, 2, 3]
    assert eng.recorded("k1") == first and eng.recorded("unused") is None
    assert all(d.id is None for d in first.system_events)
    with pytest.raises(InvalidCall) as err:
        eng.recorded("")
    assert err.value.code == "invalid_key"


def test_an_engine_without_a_log_gives_decisions_no_id() -> None:
    with Engine.open(log=False) as eng:
        assert eng.subscribe("alice", "career", at="2026-01-15T09:00:00Z").id is None


def test_the_log_makes_the_same_ledger_again(make: MakeEngine) -> None:
    """Each logged call, made again on an empty store, gives the same ledger, entry by entry."""
    live = make()
    for call in year_of_events(12):
        with contextlib.suppress(InvalidCall):  # the workload's refused calls are not logged
            live.call(call.event, call.args, at=call.at, key=call.key)
    again = make()
    for c in live.log():  # each entry made again as its docstring says
        args = {k: v for k, v in c.args.items() if k != "at"}
        again.call(c.method, args, at=c.args["at"], key=c.key)
    assert live.accounts() == again.accounts() and live.accounts()
    end = max(c.at for c in live.log())
    live.advance(end)
    again.advance(end)
    for name in live.accounts():
        assert again.history(name) == live.history(name), name
    assert [dataclasses.replace(c, seq=0) for c in again.log()] == [
        dataclasses.replace(c, seq=0) for c in live.log()
    ]


def test_a_call_that_fails_half_way_logs_nothing(eng: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.core.effects as effects

    eng.subscribe("alice", "career", at="2026-01-15T09:00:00Z")
    real = effects.TABLE["schedule_reminder"]

    def broken(act: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(effects, "_PLANS", {})
    monkeypatch.setitem(effects.TABLE, "schedule_reminder", dataclasses.replace(real, run=broken))
    with pytest.raises(RuntimeError):
        eng.send("alice", "carol", at="2026-01-16T10:00:00Z")
    assert [c.method for c in eng.log()] == ["subscribe"]


def test_a_store_made_before_the_log_is_upgraded_and_says_its_log_is_partial(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with Engine.open(db=str(db)) as eng:
        eng.subscribe("alice", "career", at="2026-01-15")
        assert eng.log_complete
    con = sqlite3.connect(db)  # what a version-1 store looked like: no event log
    con.execute("DROP TABLE calls")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with Engine.open(db=str(db)) as eng:
        assert not eng.log_complete and eng.log() == []
        eng.send("alice", "carol", at="2026-01-16")
        assert [c.method for c in eng.log()] == ["send"]
        assert eng.history("alice")  # the ledger is untouched
    con = sqlite3.connect(db)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("2",)
    con.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replay_of_a_store_gives_its_ledger_across_a_policy_reload(seed: int, tmp_path: Path) -> None:
    from engine.impact.replay import replay_store

    policy = Path(__file__).resolve().parents[2] / "policies.yaml"
    edited = tmp_path / "career8.yaml"
    edited.write_text(
        policy.read_text(encoding="utf-8").replace(
            "monthly_allotment: 5        # R10", "monthly_allotment: 8        # R10"
        ),
        encoding="utf-8",
    )
    db = str(tmp_path / "live.db")
    calls = list(year_of_events(10, seed=seed))
    with Engine.open(db=db, policy=policy) as live:
        for n, call in enumerate(calls):
            if n == len(calls) // 2:
                live.reload(policy=edited)  # half the year under another revision
            with contextlib.suppress(InvalidCall):
                live.call(call.event, call.args, at=call.at, key=call.key)
        live.advance(calls[-1].at)
        revisions = {c.revision for c in live.log()}
    assert len(revisions) == 2
    report = replay_store(db)
    assert report.same, report.difference
    assert report.revisions == 2 and report.entries > 100


def test_replay_finds_a_changed_entry_and_refuses_a_store_older_than_the_log(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    db = tmp_path / "live.db"
    with Engine.open(db=str(db)) as eng:
        eng.subscribe("alice", "career", at="2026-01-15")
        eng.send("alice", "carol", at="2026-01-16")
    run = CliRunner()
    ok = run.invoke(main, ["replay", "--db", str(db)])
    assert ok.exit_code == 0 and "all the same as stored" in ok.stdout, ok.output
    con = sqlite3.connect(db)
    con.execute("UPDATE entries SET amount = amount - 1 WHERE kind = 'consume'")
    con.commit()
    bad = run.invoke(main, ["replay", "--db", str(db)])
    assert bad.exit_code == 1 and "difference: account alice, entry 2" in bad.stdout, bad.output
    con.execute("INSERT INTO meta (key, value) VALUES ('log_incomplete', 'made before the log')")
    con.commit()
    con.close()
    old = run.invoke(main, ["replay", "--db", str(db)])
    assert old.exit_code == 2 and "log_incomplete" in old.stderr


@settings(max_examples=examples(10), deadline=None)
@given(seed=st.integers(0, 10**6), accounts=st.integers(1, 6), reload_at=st.floats(0, 1))
def test_replay_equals_the_live_ledger_on_random_timelines(
    seed: int, accounts: int, reload_at: float
) -> None:
    """Hypothesis: any seeded timeline, with a policy reload anywhere in it, replays to its ledger.

    Each example is a year of up to six accounts (a few hundred calls, every kind) on a SQLite
    file, a fifth of a second: ten of them on every run (tests/depth.py scales it)."""
    import tempfile

    from engine.impact.replay import replay_store

    policy = Path(__file__).resolve().parents[2] / "policies.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        edited = Path(tmp) / "trim.yaml"
        edited.write_text(
            policy.read_text(encoding="utf-8").replace(
                "on_overflow: forfeit_oldest", "on_overflow: trim_new"
            ),
            encoding="utf-8",
        )
        db = str(Path(tmp) / "live.db")
        calls = list(year_of_events(accounts, seed=seed))
        with Engine.open(db=db, policy=policy) as live:
            for n, call in enumerate(calls):
                if n == int(len(calls) * reload_at):
                    live.reload(policy=edited)
                with contextlib.suppress(InvalidCall):
                    live.call(call.event, call.args, at=call.at, key=call.key)
        report = replay_store(db)
        assert report.same, report.difference


def test_a_throwaway_memory_engine_may_keep_no_log_and_a_database_always_does(tmp_path: Path) -> None:
    with Engine.open(log=False) as eng:
        eng.subscribe("alice", "career", at="2026-01-15")
        assert eng.log() == [] and eng.history("alice")
    with pytest.raises(EngineError) as info:
        Engine.open(db=str(tmp_path / "x.db"), log=False)
    assert info.value.code == "invalid_argument" and list(tmp_path.iterdir()) == []


def _generic(value: object) -> object:
    """What ``to_dict`` must equal: every dataclass field, recursively, instants as ISO text (but a
    field left out of comparisons, ``Decision.replayed``, which says how an answer was obtained)."""
    import datetime as dt

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _generic(getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, list | tuple):
        return [_generic(v) for v in value]
    return value.isoformat() if isinstance(value, dt.datetime) else value


def test_to_dict_writes_every_field_of_a_decision_and_its_entries(eng: Engine) -> None:
    d = eng.subscribe("alice", "career", at="2026-01-15T09:00:00Z")
    sent = eng.send("alice", "carol", at="2026-04-20T10:00:00Z", message_id="m1")  # renewals, expiries first
    for decision in (d, sent):
        assert decision.system_events and decision.to_dict() == _generic(decision)
    assert [e.to_dict() for e in eng.history("alice")] == [_generic(e) for e in eng.history("alice")]
