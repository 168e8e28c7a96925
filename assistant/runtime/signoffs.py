"""Who must sign a run off and who may: Approval Matrix tiers on real amounts, refusals.

Deterministic and free of I/O, so the Temporal workflow's update validator can use it.

Sign-offs for the real amount: policy gives the Approval Matrix tier for the event's amount
(``cfo`` and ``ceo`` above 100,000). Each sign-off the run reaches asks for its own role,
raised to the tier role that stands in for it (a controller step asks a cfo at 50,000), plus
every tier role that no earlier signer covered and no later sign-off expected to run will
ask for. So the playbook's CFO step and CEO step each ask their own role at 150,000, and a
version with only the CFO step asks cfo and ceo there (two different people). Tiers raise
the sign-offs a run reaches; they do not add one where the approved conditions skip it.

Separation of duties: whoever submitted the event (its ``submitted_by``, ``submitter``,
``requested_by`` or ``requester`` field, at the top level or inside a top-level object such
as ``invoice.submitted_by``) may not decide its approvals or tasks. Each person signs a run
once. Both run engines and the inbox use these rules (``deciders`` adds the directory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.policy.amounts import money_value
from assistant.policy.conditions import ConditionError, evaluate
from assistant.policy.facts import is_refund
from assistant.policy.rules import Policy
from assistant.runtime.plan import Decision, RunPlan, Waiting
from assistant.schemas import WorkflowDraft

SUBMITTER_KEYS = ("submitted_by", "submitter", "requested_by", "requester")
"""Event keys naming who submitted it (top level or inside one object, like ``invoice``)."""


def event_amount(event: Mapping[str, Any], policy: Policy, prefix: str = "") -> float | None:
    """Return the largest money value in the event (fields the policy names as money)."""
    found: list[float] = []
    for key, value in event.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            inner = event_amount(value, policy, f"{path}.")
            if inner is not None:
                found.append(inner)
        elif policy.is_money_field(path) or policy.is_money_field(str(key)):
            amount = money_value(value)
            if amount is not None:
                found.append(amount)
    return max(found, default=None)


def sign_off_plan(draft: WorkflowDraft, event: Mapping[str, Any], policy: Policy) -> RunPlan:
    """Return who signs this run off: the Approval Matrix tier for the event's real amount,
    and each approval's role raised to it (tasks keep their own role)."""
    amount = event_amount(event, policy)
    tier = policy.roles_for_amount(amount, refund=is_refund(draft.goal))
    grants = dict(policy.approvals.grants)
    roles = {
        step.id: raised(step.approver_role, tier, grants)
        if step.kind == "approval"
        else step.approver_role
        for step in draft.steps
        if step.kind in ("approval", "human_task")
    }
    return RunPlan(
        amount=amount,
        tier=tier,
        roles=roles,
        grants=grants,
        separation_of_duties=policy.separation_of_duties.requester_may_not_approve_high_risk,
        deadline=policy.approvals.deadline_for(f"{draft.title}\n{draft.goal}"),
    )


def later_sign_offs(
    draft: WorkflowDraft,
    index: int,
    plan: RunPlan,
    *,
    guarded: dict[str, list[str]],
    skip: dict[str, str],
    values: dict[str, Any],
) -> list[str | None]:
    """Return the roles of the sign-offs after step ``index`` expected to run, judged now."""
    steps = draft.steps
    position = {s.id: i for i, s in enumerate(steps)}
    found: list[str | None] = []
    for step in steps[index + 1 :]:
        if step.kind != "approval" or step.id in skip or step.blocked_reason:
            continue
        # Conditions still ahead that guard it decide whether it runs; judge them now.
        ahead = [c for c, ids in guarded.items() if step.id in ids and position[c] > index]
        if all(holds_now(steps[position[c]].condition or "", values) for c in ahead):
            found.append(plan.roles.get(step.id))
    return found


def holds_now(condition: str, values: dict[str, Any]) -> bool:
    """Evaluate ``condition`` on what is known now; unknown counts as false, so the role
    is asked for at the sign-off being decided rather than never."""
    try:
        return evaluate(condition, values)
    except ConditionError:
        return False


def asked_roles(
    draft: WorkflowDraft,
    index: int,
    plan: RunPlan,
    *,
    guarded: dict[str, list[str]],
    skip: dict[str, str],
    values: dict[str, Any],
    signed: dict[str, str],
) -> list[str] | None:
    """Return the roles step ``index`` (an approval or task) waits for; [] means any known
    user, None that this run's earlier signers already cover the sign-off."""
    step = draft.steps[index]
    own = plan.roles.get(step.id)
    if step.kind == "human_task":
        return [own] if own else []
    later = later_sign_offs(draft, index, plan, guarded=guarded, skip=skip, values=values)
    needed = needed_roles(own, plan, later, list(signed.values()))
    if not needed and (own is not None or plan.tier):
        return None
    return needed


def raised(role: str | None, tier: list[str], grants: dict[str, list[str]]) -> str | None:
    """Return the tier role that stands in for ``role`` (stricter or equal), else ``role``."""
    if role is None or role in tier:
        return role
    return next((t for t in tier if satisfies([t], role, grants)), role)


def needed_roles(
    own: str | None, plan: RunPlan, later: list[str | None], signed: list[str]
) -> list[str]:
    """Return the roles a reached sign-off asks for (see the module rule)."""
    needed = [own] if own is not None and own not in signed else []
    needed += [
        role for role in plan.tier if role not in signed and role not in later and role != own
    ]
    return needed


def requesters_of(event: Mapping[str, Any]) -> list[str]:
    """Return who submitted ``event``: they may not decide its sign-offs.

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


def satisfies(held: list[str], needed: str, grants: dict[str, list[str]]) -> bool:
    """Tell whether someone holding ``held`` may decide for ``needed`` (policy grants)."""
    return needed in held or any(
        "*" in grants.get(role, []) or needed in grants.get(role, []) for role in held
    )


def role_for(held: list[str], needed: list[str], grants: dict[str, list[str]]) -> str | None:
    """Return the still-needed role a person covers, preferring a role they hold exactly."""
    exact = [role for role in needed if role in held]
    if exact:
        return exact[0]
    return next((role for role in needed if satisfies(held, role, grants)), None)


def refusal(
    decision: Decision,
    waiting: Waiting | None,
    plan: RunPlan,
    event: dict[str, Any],
    signed: set[str],
) -> str | None:
    """Return why ``decision`` on a run's waiting step is refused, or None when it may apply."""
    if waiting is None or waiting.step_id != decision.step_id:
        return f"step {decision.step_id} is not waiting for a decision (already decided?)"
    # An overdue step is also put to the next tier up (see ``deadlines``); refusals name it.
    escalated = [up for role in waiting.needed for up in waiting.escalated_to.get(role, [])]
    return why_not(
        decision.user,
        decision.roles,
        list(dict.fromkeys([*waiting.needed, *escalated])),
        grants=plan.grants,
        requesters=requesters_of(event) if plan.separation_of_duties else [],
        signed=signed if waiting.kind == "approval" else set(),
    )


def why_not(
    user: str,
    held: list[str] | None,
    needed: list[str],
    *,
    grants: dict[str, list[str]],
    requesters: list[str],
    signed: set[str] | None = None,
) -> str | None:
    """Return why ``user`` (holding ``held``; None: unknown) may not decide for ``needed``.

    ``requesters`` submitted the event (separation of duties); ``signed`` signed the run.
    """
    needs = " or ".join(needed) or "any known user"
    if user in requesters:
        return (
            f"{user} submitted this and may not decide it (separation of duties); it needs {needs}"
        )
    if held is None:
        return f"{user} is not a known user"
    if user in (signed or set()):
        return f"{user} has already signed this run; it needs another {needs}"
    if needed and role_for(held, needed, grants) is None:
        return f"{user} does not hold the {needs} role this step needs"
    return None
