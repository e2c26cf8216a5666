"""A copy of the repository's policy folder for the workbench tests, and a fingerprint of a folder.

The workbench edits a folder in place, so every test works on its own copy: the policy, the rules,
the example scenarios and (for the Spec page and the checks before a save) the features.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from engine.service.app import create_app
from engine.service.state import Service, ServiceConfig
from engine.source.paths import resolve_policy, resolve_rules

ROOT = Path(__file__).resolve().parents[2]


def policy_folder(parent: Path, *, features: bool = True) -> Path:
    """``parent/policy``: the repository's policy, rules and example scenarios (and features)."""
    work = parent / "policy"
    work.mkdir()
    shutil.copy(ROOT / "policies.yaml", work / "policies.yaml")
    shutil.copytree(ROOT / "rules", work / "rules")
    shutil.copytree(ROOT / "examples" / "scenarios", work / "examples" / "scenarios")
    if features:
        shutil.copytree(ROOT / "features", work / "features")
    return work


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and the digest of its bytes: equal snapshots, nothing written."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: ``$INMAIL_ARTIFACTS`` when set (CI keeps them), else the test's folder."""
    out = Path(os.environ.get("INMAIL_ARTIFACTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def workbench_client(folder: Path, **options: Any) -> TestClient:
    """The workbench on ``folder``, in process, with its own service on an in-memory store;
    ``options``: more of :func:`create_app`'s (``workbench_token=``, ``workbench_store=`` ...)."""
    config = ServiceConfig(
        db="memory", policy=str(resolve_policy(None, cwd=folder)), rules=str(resolve_rules(None, cwd=folder))
    )
    app = create_app(service=Service(config), workbench=folder, **options)
    return TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1")
