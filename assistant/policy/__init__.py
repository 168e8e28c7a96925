"""Policy-as-code: YAML rules (``default.yaml`` or ``FLOWDRAFT_POLICY``) and the checker."""

from assistant.policy.checker import (
    DO_NOT_AUTOMATE,
    Authorization,
    PolicyChecker,
    Verdict,
    higher,
    params_problem,
    workflow_amount,
)
from assistant.policy.rules import DoNotAutomate, Policy, PolicyError, load_policy

__all__ = [
    "DO_NOT_AUTOMATE",
    "Authorization",
    "DoNotAutomate",
    "Policy",
    "PolicyChecker",
    "PolicyError",
    "Verdict",
    "higher",
    "load_policy",
    "params_problem",
    "workflow_amount",
]
