"""inmail-engine: the public API.

Everything an embedding app needs is re-exported here; modules whose names
start with ``_`` and any name not in ``__all__`` are internal. Importing this
package reads no files and starts no threads.
"""

from __future__ import annotations

from engine.core import Engine
from engine.diagnostics import Diagnostic, Location
from engine.errors import (
    EngineError,
    InvalidCall,
    InvalidInput,
    InvalidPolicy,
    InvalidRules,
    InvalidScenario,
    RuleEngineFailure,
)
from engine.model import Balance, Decision, LedgerEntry, Lot, Verdict
from engine.policy import Plan, Policy, load_policy
from engine.rulebook import RuleBook
from engine.scenario import Scenario, load_scenario
from engine.simulate import ScenarioResult, run_scenario

__version__ = "0.1.0"

__all__ = [
    "Balance",
    "Decision",
    "Diagnostic",
    "Engine",
    "EngineError",
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
    "Verdict",
    "__version__",
    "load_policy",
    "load_scenario",
    "run_scenario",
]
