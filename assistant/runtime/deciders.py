"""Who may decide a run's approval or task: the role, separation of duties, and who else can.

The rule itself is ``signoffs.why_not``, pure so the Temporal update validator applies it
too; here the directory supplies the roles of whoever decides and the names of who else
can, so a refusal reads the same from either engine, the CLI, the API or the inbox.
"""

from __future__ import annotations

from assistant.db.users import Directory
from assistant.policy.rules import Policy
from assistant.runtime.models import Outcome
from assistant.runtime.signoffs import requesters_of, why_not

__all__ = ["decision_outcome", "may_decide", "requesters_of", "who_can", "who_can_decide"]


def who_can_decide(
    *, role: str | None, requesters: list[str], directory: Directory, policy: Policy
) -> list[str]:
    """Return the users who may decide for ``role``, requesters excluded."""
    roles = policy.roles_satisfying([role]) if role else ["admin"]
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
    return decision_outcome(
        user, [role] if role else [], requesters=requesters, directory=directory, policy=policy
    )


def decision_outcome(
    user: str,
    needed: list[str],
    *,
    requesters: list[str],
    directory: Directory,
    policy: Policy,
    signed: set[str] | None = None,
) -> Outcome:
    """Tell whether ``user`` may sign for one of ``needed``; a refusal names who can."""
    if directory.is_open() and user not in requesters:
        return Outcome(ok=True, message="no users are configured, so roles are not checked")
    reason = why_not(
        user,
        directory.roles_of(user),
        needed,
        grants=dict(policy.approvals.grants),
        requesters=requesters,
        signed=signed,
    )
    if reason is None:
        return Outcome(ok=True, message=f"{user} may decide")
    role = needed[0] if needed else None
    return Outcome(ok=False, message=f"{reason}; {who_can(role, requesters, directory, policy)}")


def who_can(role: str | None, requesters: list[str], directory: Directory, policy: Policy) -> str:
    """Return the sentence naming who can decide for ``role`` (requesters excluded)."""
    names = who_can_decide(role=role, requesters=requesters, directory=directory, policy=policy)
    return "who can decide: " + (
        ", ".join(names) if names else f"nobody yet (add a user with role {role})"
    )
