"""Stage 2, the policy: ``policies.yaml`` read into a validated, frozen model.

Plans, lifetimes, caps, windows and the other knobs (:mod:`.model`), and the
loader that checks every value and builds them (:mod:`.load`); a policy is
either wholly valid or not loaded.
"""

from engine.policy.load import known_paths, load_policy, load_policy_text, merge_nodes
from engine.policy.model import (
    CAP_STRATEGIES,
    CREDIT_BACK_LOTS,
    LOT_SOURCES,
    MAX_COUNT,
    MAX_DAYS,
    PLAN_KEYS,
    RESPONSE_STATUSES,
    Plan,
    Policy,
)

__all__ = [
    "CAP_STRATEGIES",
    "CREDIT_BACK_LOTS",
    "LOT_SOURCES",
    "MAX_COUNT",
    "MAX_DAYS",
    "PLAN_KEYS",
    "RESPONSE_STATUSES",
    "Plan",
    "Policy",
    "known_paths",
    "load_policy",
    "load_policy_text",
    "merge_nodes",
]
