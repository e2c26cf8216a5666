"""The ``inmail`` command against misuse and hostile files, table-driven from tests/cases/cli.

Every case must end with its documented exit code and error code, print no
traceback, and leave the folder it ran in exactly as it was: no file created
(a refused ``--db`` run creates no database), changed (a read stores nothing,
another program's database is not touched) or removed. What each case prints
on stderr is kept in ``hostile.stderr`` so a wording change is reviewed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from engine.cli import main
from engine.source.paths import packaged_policy_path, packaged_rules_dir
from tests.golden import check_golden

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "cases" / "cli" / "hostile.yaml"
TABLE = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
for _case in TABLE:  # PyYAML reads 9999-12-31 as a date: the command line only has text
    _case["args"] = [str(a) for a in _case["args"]]

_SCENARIOS = {
    "far.yaml": """\
title: a checkpoint far in the future
accounts:
  alice: {plan: career, since: 2026-01-01}
timeline:
  - at: 9999-12-31
    expect: {balance: {alice: 5}}
""",
    "early.yaml": """\
title: an account from year 1
accounts:
  alice: {plan: career, since: 0001-01-01}
timeline:
  - at: 2026-01-02
    expect: {balance: {alice: 5}}
""",
    "huge.yaml": """\
title: too many credits at once
accounts:
  alice: {plan: career, since: 2026-01-01}
timeline:
  - at: 2026-01-02
    purchase: {account: alice, credits: 1000000000000000000000000000000}
""",
    "denied.yaml": """\
title: a response to a send that was denied
accounts:
  ben: {plan: basic, since: 2026-01-01}
timeline:
  - at: 2026-01-02
    send: {from: ben, to: cara, id: m1}
  - at: 2026-01-03
    respond: {message: m1, with: interested}
""",
}


def _build(folder: Path) -> None:
    runner = CliRunner()
    shutil.copy(REPO / "examples" / "scenarios" / "career-first-quarter.yaml", folder / "ok.yaml")
    shutil.copy(packaged_policy_path(), folder / "policy.yaml")
    for name, text in _SCENARIOS.items():
        (folder / name).write_text(text, encoding="utf-8")
    with _inside(folder):
        made = runner.invoke(main, ["simulate", "ok.yaml", "--db", "run.db"])
    assert made.exit_code == 0, made.output
    import sqlite3

    con = sqlite3.connect(folder / "foreign.db")
    con.execute("CREATE TABLE accounts (name TEXT, owner TEXT)")
    con.execute("INSERT INTO accounts VALUES ('alice', 'payroll')")
    con.commit()
    con.close()
    con = sqlite3.connect(folder / "meta.db")  # a table named like ours is not enough to be ours
    con.execute("CREATE TABLE meta (k TEXT)")
    con.commit()
    con.close()
    policy = (folder / "policy.yaml").read_text(encoding="utf-8")
    assert "\n  career:\n" in policy
    (folder / "nocareer.yaml").write_text(policy.replace("\n  career:\n", "\n  careerx:\n"), encoding="utf-8")
    (folder / "empty.db").write_bytes(b"")
    (folder / "hugefact.json").write_text('{"sender.balance": ' + "9" * 5000 + "}", encoding="utf-8")
    shutil.copytree(packaged_rules_dir(), folder / "wide-rules")
    send = folder / "wide-rules" / "send.yaml"
    text = send.read_text(encoding="utf-8")
    assert "sender.balance: {below: 1}" in text
    wide = text.replace("sender.balance: {below: 1}", "sender.balance: {below: 9223372036854775808}", 1)
    send.write_text(wide, encoding="utf-8")
    os.mkfifo(folder / "fifo")
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (folder / "adir").mkdir()


class _inside:
    """Run in ``folder`` (the CLI reads ./policies.yaml and ./rules/ when they exist: here they do not)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.old = folder, Path.cwd()

    def __enter__(self) -> None:
        os.chdir(self.folder)

    def __exit__(self, *exc: object) -> None:
        os.chdir(self.old)


def _snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` with its kind and, for files, a hash of its bytes."""
    seen: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_fifo():
            seen[rel] = "fifo"
        elif path.is_dir():
            seen[rel] = "dir"
        else:
            seen[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    _build(folder)
    return folder


def _clone(template: Path, work: Path) -> Path:
    """A fresh copy of the prepared folder (named pipes are made anew: they cannot be copied)."""
    work.mkdir()
    for entry in template.iterdir():
        if entry.is_fifo():
            os.mkfifo(work / entry.name)
        elif entry.is_dir():
            shutil.copytree(entry, work / entry.name)
        else:
            shutil.copy2(entry, work / entry.name)
    return work


@pytest.fixture
def folder(template: Path, tmp_path: Path) -> Path:
    return _clone(template, tmp_path / "work")


def _run(folder: Path, args: list[str]) -> Any:
    with _inside(folder):
        return CliRunner().invoke(main, args, prog_name="inmail")


def test_the_table_is_large_and_its_notes_unique() -> None:
    notes = [c["note"] for c in TABLE]
    assert len(notes) == len(set(notes)) and len(notes) >= 30


@pytest.mark.parametrize("case", TABLE, ids=[c["note"] for c in TABLE])
def test_misuse_is_refused_and_changes_nothing(case: dict[str, Any], folder: Path) -> None:
    want = case["want"]
    before = _snapshot(folder)
    result = _run(folder, case["args"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.exit_code == want.get("exit", 2), result.output
    if "code" in want:
        assert f"{want['code']}: " in result.stderr, result.stderr
        assert result.stdout == "", "a refused command prints its error on stderr only"
    assert _snapshot(folder) == before, "the command created, changed or removed a file"


def test_a_read_far_ahead_leaves_later_calls_possible(folder: Path) -> None:
    history = _run(folder, ["history", "alice", "--db", "run.db", "--format", "json"]).stdout
    assert _run(folder, ["balance", "alice", "--db", "run.db", "--at", "2030-01-01"]).exit_code == 0
    assert _run(folder, ["history", "alice", "--db", "run.db", "--format", "json"]).stdout == history
    earlier = _run(folder, ["balance", "alice", "--db", "run.db", "--at", "2026-03-01"])
    assert earlier.exit_code == 0, earlier.output


def test_what_each_case_prints_is_reviewed(template: Path, tmp_path: Path) -> None:
    blocks = []
    for case in TABLE:
        work = _clone(template, tmp_path / f"case{len(blocks)}")
        result = _run(work, case["args"])
        text = result.stderr.replace(str(work), "<folder>")
        blocks.append(f"## {case['note']}\n$ inmail {' '.join(map(_quoted, case['args']))}\n{text}")
    check_golden(CASES.with_suffix(".stderr"), "\n".join(blocks))


def _quoted(arg: str) -> str:
    return arg if arg and arg.isprintable() and " " not in arg else repr(arg)
