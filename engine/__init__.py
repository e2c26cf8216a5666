"""inmail-engine: the public API.

Everything an embedding app needs is re-exported here, and only here: the
stage packages under ``engine/`` (source, policy, rules, ledger, store, core,
scenario, schema, docs, impact, cli; see docs/architecture.md) are the implementation, and any
name not in ``__all__`` is internal. Importing this package reads no files
and starts no threads.
"""

from __future__ import annotations

from engine._build import COMPILED  # first: refuses a compiled module older than its source
from engine.codes import C as CODES
from engine.core.engine import Engine
from engine.errors import (
    EngineError,
    InvalidCall,
    InvalidInput,
    InvalidPolicy,
    InvalidRules,
    InvalidScenario,
    RuleEngineFailure,
    StoreUnavailable,
)
from engine.events import KINDS as EVENTS
from engine.events import EventKind
from engine.impact import Call, ImpactReport, compare_policies
from engine.model import Balance, Decision, LedgerEntry, Lot, Verdict
from engine.policy import Plan, Policy, load_policy
from engine.rules.book import RuleBook
from engine.scenario.load import Scenario, load_scenario
from engine.scenario.run import ScenarioResult, run_scenario
from engine.source.diagnostics import Diagnostic, Location
from engine.store.batch import Batch

__version__ = "0.1.0"

__all__ = [
    "CODES",
    "COMPILED",
    "EVENTS",
    "Balance",
    "Batch",
    "Call",
    "Decision",
    "Diagnostic",
    "Engine",
    "EngineError",
    "EventKind",
    "ImpactReport",
    "InvalidCall",
    "InvalidInput",
    "InvalidPolicy",
    "InvalidRules",
    "InvalidScenario",
    "LedgerEntry",
    "Location",
    "Lot",
    "Plan",
    "Policy",
    "RuleBook",
    "RuleEngineFailure",
    "Scenario",
    "ScenarioResult",
    "StoreUnavailable",
    "Verdict",
    "__version__",
    "compare_policies",
    "load_policy",
    "load_scenario",
    "run_scenario",
]
