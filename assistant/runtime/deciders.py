"""Who may decide a run's approval or task: the role, separation of duties, and who else can.

Every engine and the inbox ask the same question here, so a refusal reads the same whether
it comes from the CLI, the API or a Temporal update validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.db.users import Directory
from assistant.policy.rules import Policy
from assistant.runtime.models import Outcome

SUBMITTER_KEYS = ("submitted_by", "submitter", "requested_by", "requester")
"""Event keys naming who submitted it (top level or inside one object, like ``invoice``)."""


def requesters_of(event: Mapping[str, Any]) -> list[str]:
    """Return who submitted ``event``: they may not approve their own request.

    Example:
        >>> requesters_of({"invoice": {"amount": 5, "submitted_by": "dan"}})
        ['dan']
    """
    found: list[str] = []
    scopes = [event, *(value for value in event.values() if isinstance(value, Mapping))]
    for scope in scopes:
        for key in SUBMITTER_KEYS:
            value = scope.get(key)
            if isinstance(value, str) and value.strip() and value.strip() not in found:
                found.append(value.strip())
    return found


def roles_satisfying(policy: Policy, role: str) -> list[str]:
    """Return the roles whose holders may decide for ``role`` (the role and its grantors)."""
    granting = [held for held, granted in policy.approvals.grants.items() if role in granted]
    wildcard = [held for held, granted in policy.approvals.grants.items() if "*" in granted]
    return list(dict.fromkeys([role, *granting, *wildcard]))


def who_can_decide(
    *, role: str | None, requesters: list[str], directory: Directory, policy: Policy
) -> list[str]:
    """Return the users who may decide for ``role``, requesters excluded."""
    roles = roles_satisfying(policy, role) if role else ["admin"]
    return [name for name in directory.who_can(roles) if name not in requesters]


def may_decide(
    *,
    user: str,
    role: str | None,
    requesters: list[str],
    directory: Directory,
    policy: Policy,
) -> Outcome:
    """Tell whether ``user`` may decide a step needing ``role``; a refusal names who can."""

    def refused(reason: str) -> Outcome:
        names = who_can_decide(role=role, requesters=requesters, directory=directory, policy=policy)
        who = ", ".join(names) if names else f"nobody yet (add a user with role {role})"
        return Outcome(ok=False, message=f"{reason}; who can decide: {who}")

    if user in requesters:
        return refused(f"{user} submitted this and may not decide it (separation of duties)")
    if directory.is_open():
        return Outcome(ok=True, message="no users are configured, so roles are not checked")
    held = directory.roles_of(user)
    if held is None:
        return refused(f"{user} is not a known user")
    if role and not policy.satisfies(held, role):
        return refused(f"{user} does not hold the {role} role this step needs")
    return Outcome(ok=True, message=f"{user} may decide")
