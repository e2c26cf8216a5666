"""``--plot`` writes a PNG (or says how to get matplotlib); ``--db`` leaves a store to inspect."""

from __future__ import annotations

import sys

import pytest

from engine import Engine

from .conftest import EXAMPLES, Simulate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAIN = str(EXAMPLES / "career-first-quarter.yaml")


def test_plot_writes_a_png(simulate: Simulate) -> None:
    result = simulate(MAIN, "--plot", "chart.png")
    assert result.exit_code == 0, result.stderr
    data = (simulate.folder / "chart.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000


def test_plot_of_several_scenarios_and_json(simulate: Simulate) -> None:
    files = [MAIN, str(EXAMPLES / "billing-cycle.yaml")]
    result = simulate(*files, "--plot", "both.png", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert (simulate.folder / "both.png").read_bytes().startswith(PNG_MAGIC)
    assert result.stdout.lstrip().startswith("{")


def test_plot_without_matplotlib_exits_2_and_says_how(
    simulate: Simulate, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    result = simulate(MAIN, "--plot", "chart.png")
    assert result.exit_code == 2
    assert "pip install -e '.[plot]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # checked before anything ran
    assert not (simulate.folder / "chart.png").exists()


def test_plot_to_an_unwritable_place_is_exit_2(simulate: Simulate) -> None:
    result = simulate(MAIN, "--plot", "no/such/folder/chart.png")
    assert result.exit_code == 2
    assert "unwritable_file" in result.stderr and "Traceback" not in result.stderr


def test_db_leaves_a_sqlite_file_with_the_history(simulate: Simulate) -> None:
    db = simulate.folder / "run.db"
    result = simulate(MAIN, "--db", f"sqlite:///{db}")
    assert result.exit_code == 0, result.stderr
    assert db.exists()
    with Engine.open(db=f"sqlite:///{db}") as eng:
        assert eng.accounts() == ["alice"]
        history = eng.history("alice")
        assert history[0].kind == "grant" and history[0].amount == 5
        assert history[-1].balance_after == 15
        assert {e.kind for e in history} >= {"grant", "consume", "credit_back", "expire", "forfeit_cap"}
        assert eng.reminded() == ["m1", "m5"]


def test_db_run_into_a_used_store_is_refused_before_running(simulate: Simulate) -> None:
    db = simulate.folder / "run.db"
    assert simulate(MAIN, "--db", str(db)).exit_code == 0
    with Engine.open(db=str(db)) as eng:
        before = len(eng.history("alice"))
    again = simulate(MAIN, "--db", str(db))
    assert again.exit_code == 2
    assert "account_exists" in again.stderr and again.stdout == ""
    with Engine.open(db=str(db)) as eng:
        assert len(eng.history("alice")) == before


def test_db_takes_one_file(simulate: Simulate) -> None:
    result = simulate(MAIN, MAIN, "--db", "x.db")
    assert result.exit_code == 2
    assert "--db takes one scenario file" in result.stderr


DENIED = """\
title: respond to a send that was denied
accounts:
  alice: {plan: basic, since: 2026-01-01}
timeline:
  - at: 2026-01-02
    send: {from: alice, to: bob, id: m1}
    expect: {outcome: denied}
  - at: 2026-01-03
    respond: {message: m1, with: reply}
"""


def test_a_step_only_the_engine_can_refuse_is_exit_2_with_its_line(simulate: Simulate) -> None:
    simulate.write("denied.yaml", DENIED)
    result = simulate("denied.yaml")
    assert result.exit_code == 2
    assert "denied.yaml:8:5: unknown_message:" in result.stderr
    assert "a send that was denied records no message" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_a_refused_step_leaves_the_db_untouched(simulate: Simulate) -> None:
    simulate.write("denied.yaml", DENIED)
    db = simulate.folder / "run.db"
    result = simulate("denied.yaml", "--db", str(db))
    assert result.exit_code == 2
    with Engine.open(db=str(db)) as eng:
        assert eng.accounts() == []
