"""The features can fail: change one number in the policy and watch the right scenarios go red.

A suite that passes whatever the policy says proves nothing. This copies
policies.yaml, raises the Career monthly allotment from 5 to 6, runs the features
against the copy (``INMAIL_POLICY``, honoured by conftest.py) in a
subprocess, and checks that they fail, and that in the per-plan Examples
tables exactly the Career rows fail while the other plans still pass.

The subprocess runs only the scenarios that name a plan (the per-plan rows, and the
scenarios the assertions name), the only outcomes looked at, and leaves out the
Hypothesis and Schemathesis plugins the features do not use: about 2.5 s instead of 7.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from bdd_world import ENV_COVERAGE_OUT, ENV_POLICY, NO_PLUGINS, POLICY_DEFAULT, REPO

FEATURES_TEST = Path(__file__).with_name("test_features.py")
PLANS = ("Basic", "Career", "Business", "Sales Navigator", "Recruiter Lite")
CAREER = re.compile(r"(\n  career:\n(?:    .*\n)*?    monthly_allotment: )5\b")


def _mutate(tmp_path: Path) -> Path:
    text = POLICY_DEFAULT.read_text(encoding="utf-8")
    mutated, n = CAREER.subn(r"\g<1>6", text)
    assert n == 1, "could not find the Career monthly_allotment in policies.yaml"
    path = tmp_path / "policies.yaml"
    path.write_text(mutated, encoding="utf-8")
    return path


def _run(policy: Path, junit: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_COVERAGE_OUT}
    env[ENV_POLICY] = str(policy)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(FEATURES_TEST),
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            *NO_PLUGINS,
            "-k",
            " or ".join(plan.split()[0] for plan in PLANS),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _outcomes(junit: Path) -> dict[str, str]:
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        out[case.get("name", "")] = "failed" if failed else "passed"
    return out


def _plan_of(test_name: str) -> str | None:
    """The plan of an Examples row (``...[Sales Navigator-20-60-no]`` -> ``Sales Navigator``)."""
    if "[" not in test_name:
        return None
    first = test_name[test_name.index("[") + 1 :].split("-")[0]
    return first if first in PLANS else None


def test_career_allotment_of_6_makes_career_scenarios_fail(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    proc = _run(_mutate(tmp_path), junit)
    assert proc.returncode == 1, f"expected failures, got exit {proc.returncode}:\n{proc.stdout[-2000:]}"
    outcomes = _outcomes(junit)
    failed = sorted(n for n, o in outcomes.items() if o == "failed")
    assert "test_a_plan_member_receives_allotment_credits_each_month[Career-5-10]" in failed
    assert "test_the_plan_plan_in_the_comparison[Career-5-15-yes]" in failed
    # In the per-plan Examples tables, every Career row fails and no other plan's row does.
    rows = {n: _plan_of(n) for n in outcomes if _plan_of(n)}
    assert sum(p == "Career" for p in rows.values()) >= 5
    for name, plan in rows.items():
        want = "failed" if plan == "Career" else "passed"
        assert outcomes[name] == want, f"{name}: {outcomes[name]}, expected {want}"
