"""The replay floor (bench/floor.py) plays the contract the engine plays: same balances, same decisions.

The floor is what the engine's cost per event is measured against (issue
31), so it is only a floor if it does the same work: a floor that skipped a
rule would be fast for the wrong reason. Each seed replays a small synthetic
year through the engine (in memory) and through the floor, and every
account's final balance and ledger (entry by entry), the event log, the
number of each outcome (callers' and system events alike) and the counts the
benchmark rates by must be equal.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ACCOUNTS = 300


def _name(d: Any) -> str:
    return f"{d.event}/{d.outcome}" + (f"/{d.reason}" if d.reason else "")


class EngineYear:
    """The year through ``engine.Engine`` in memory, as ``bench/replay.py`` plays it, and what it left."""

    def __init__(self, accounts: int, seed: int) -> None:
        import engine
        from bench.workload import year_of_events

        eng = engine.Engine.open(policy=ROOT / "policies.yaml", rules=ROOT / "rules")
        self.tally: Counter[str] = Counter()
        calls = system = 0
        at = None
        for call in year_of_events(accounts, seed=seed):
            at = call.at
            calls += 1
            try:
                decision = eng.call(call.event, call.args, at=at, key=call.key)
            except engine.InvalidCall:
                self.tally["refused"] += 1
                continue
            self.tally[_name(decision)] += 1
            self.tally.update(_name(d) for d in decision.system_events)
            system += len(decision.system_events)
        assert at is not None
        drained = eng.advance(at)
        self.tally.update(_name(d) for d in drained)
        self.counts = {
            "calls": calls,
            "refused_calls": self.tally["refused"],
            "system_events": system + len(drained),
        }
        names = eng.accounts()
        self.balances = {name: eng.balance(name, at=at).credits for name in names}
        #: each account's ledger: (second, kind, lot, amount, balance after) per entry
        self.ledgers = {
            name: [
                (int(e.at.timestamp()), e.kind, e.lot, e.amount, e.balance_after) for e in eng.history(name)
            ]
            for name in names
        }
        #: the event log: (second, outcome) per logged call or advanced account
        self.log = [(int(c.at.timestamp()), c.outcome) for c in eng.log()]
        eng.close()


@pytest.mark.parametrize("seed", [11, 5])
def test_floor_agrees_with_the_engine_on_every_account(seed: int) -> None:
    from bench.floor import ENTRY_KINDS, OUTCOMES, outcomes
    from bench.replay import replay_floor

    year = EngineYear(ACCOUNTS, seed)
    row, floor = replay_floor(ACCOUNTS, seed=seed)

    got = floor.balances()
    assert got.keys() == year.balances.keys()
    wrong = {name: (got[name], n) for name, n in year.balances.items() if got[name] != n}
    assert not wrong, f"{len(wrong)} accounts differ, (floor, engine): {dict(list(wrong.items())[:5])}"
    assert outcomes(floor) == dict(year.tally)
    assert {k: row[k] for k in year.counts} == year.counts
    assert row["events"] == row["calls"] - row["refused_calls"] + row["system_events"]
    # the same ledger entries, entry by entry, and the same event log
    for name, entries in year.ledgers.items():
        mine = [(t, ENTRY_KINDS[k], lot, n, bal) for t, k, lot, n, bal in floor.accounts[name].entries]
        assert mine == entries, name
    log = [(t, "advanced" if e == "advance" else OUTCOMES[o].split("/")[1]) for t, e, o, *_ in floor.log]
    assert log == year.log
    # the year exercises what the balances depend on: a check that passes on an idle year proves little
    for name in ("send/sent", "respond/credited_back", "expire/expired", "renew/renewed", "cancel/canceled"):
        assert year.tally[name] > 0, name
    kinds = {e[1] for entries in year.ledgers.values() for e in entries}
    assert kinds == set(ENTRY_KINDS), kinds
    assert any(year.balances.values()) and not all(year.balances.values())


def test_floor_row_has_the_shape_of_a_replay_row() -> None:
    from bench.replay import replay, replay_floor

    row, _ = replay_floor(8)
    engine_row = replay(8, "memory")
    assert set(engine_row) - set(row) <= {"compiled"}
    assert row["backend"] == "floor" and row["events_per_s"] > 0 and row["us_per_event_by_quarter"]
    assert row["events"] == engine_row["events"] and row["refused_calls"] == engine_row["refused_calls"]


def test_floor_refuses_a_policy_it_does_not_model() -> None:
    """It models the shipped policy's choices only; any other is refused, never answered wrongly."""
    import dataclasses

    from bench.floor import Floor
    from engine import load_policy

    policy = load_policy(ROOT / "policies.yaml")
    Floor(policy)
    with pytest.raises(ValueError, match="forfeit_oldest"):
        Floor(dataclasses.replace(policy, cap=dataclasses.replace(policy.cap, on_overflow="trim_new")))
    with pytest.raises(ValueError, match="lot: new"):
        Floor(
            dataclasses.replace(policy, credit_back=dataclasses.replace(policy.credit_back, lot="original"))
        )
