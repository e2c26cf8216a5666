"""What a QA engineer meets writing a new feature: a new tag just works, a wrong step is explained.

A feature file is written to a folder of its own and run the way ``pytest
tests/bdd`` runs the shipped ones (``INMAIL_FEATURES`` and
``bdd_features_base_dir`` point the run at it), in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bdd_world import ENV_COVERAGE_OUT, NO_PLUGINS, REPO

DRAFT = """\
Feature: A draft by QA

  @wip
  Scenario: Buying one credit
    Given a Career member "alice" since 2026-01-15
    When "alice" buys 1 credit
    Then the purchase goes through
    And the balance of "alice" is 6 credits

  @wip @smoke
  Scenario: A step with a typo
    Given a Career member "alice" since 2026-01-15
    When "alice" sendz an InMail to "carol"
    Then the InMail is sent
"""


def _run(features: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_COVERAGE_OUT}
    env["INMAIL_FEATURES"] = str(features)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(Path(__file__).with_name("test_features.py")),
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            f"bdd_features_base_dir={features}",
            *NO_PLUGINS,
            *args,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_new_tag_needs_no_registration_and_a_wrong_step_names_its_neighbours(tmp_path: Path) -> None:
    (tmp_path / "draft.feature").write_text(DRAFT, encoding="utf-8")
    done = _run(tmp_path, "-m", "wip", "-rf")
    out = done.stdout + done.stderr
    assert "not found in `markers`" not in out and "1 failed, 1 passed" in out, out[-3000:]
    assert 'draft.feature:13: unknown_step: no step reads `When "alice" sendz an InMail to "carol"`' in out
    assert 'help: did you mean `When "{sender}" sends an InMail to "{recipient}"`?' in out
    assert "StepDefinitionNotFoundError" not in out
    assert "1 passed" in _run(tmp_path, "-m", "wip and not smoke").stdout
