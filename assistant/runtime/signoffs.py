"""Who must sign a run off and who may: Approval Matrix tiers on real amounts, refusals.

Deterministic and free of I/O, so the Temporal workflow's update validator can use it.

Sign-offs for the real amount: policy gives the Approval Matrix tier for the event's amount
(``cfo`` and ``ceo`` above 100,000). Each sign-off the run reaches asks for its own role,
raised to the tier role that stands in for it (a controller step asks a cfo at 50,000), plus
every tier role that no earlier signer covered and no later sign-off expected to run will
ask for. So the playbook's CFO step and CEO step each ask their own role at 150,000, and a
version with only the CFO step asks cfo and ceo there (two different people). Tiers raise
the sign-offs a run reaches; they do not add one where the approved conditions skip it.

Separation of duties: the person who submitted the event (its ``submitted_by`` field, at
the top level or inside a top-level object such as ``invoice.submitted_by``) may not
decide its approvals. Each person signs a run once.
"""

from __future__ import annotations

from typing import Any

from assistant.policy.conditions import ConditionError, evaluate
from assistant.runtime.plan import Decision, RunPlan, Waiting
from assistant.schemas import WorkflowDraft

SUBMITTER_FIELD = "submitted_by"


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
    guard_of = {sid: cond for cond, ids in guarded.items() for sid in ids}
    found: list[str | None] = []
    for step in steps[index + 1 :]:
        if step.kind != "approval" or step.id in skip or step.blocked_reason:
            continue
        cond = guard_of.get(step.id)
        if cond is not None and position[cond] > index:
            try:
                holds = evaluate(steps[position[cond]].condition or "", values)
            except ConditionError:
                holds = False  # unknown now: ask for the role here rather than never
            if not holds:
                continue
        found.append(plan.roles.get(step.id))
    return found


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


def submitter(event: dict[str, Any]) -> str | None:
    """Return who submitted the event (``submitted_by``, top level or one level down)."""
    value = event.get(SUBMITTER_FIELD)
    if value is None:
        for inner in event.values():
            if isinstance(inner, dict) and inner.get(SUBMITTER_FIELD) is not None:
                value = inner[SUBMITTER_FIELD]
                break
    return str(value) if value is not None else None


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
    """Return why ``decision`` is refused, or None when it may be applied."""
    if waiting is None or waiting.step_id != decision.step_id:
        return f"step {decision.step_id} is not waiting for a decision (already decided?)"
    if decision.roles is None:
        return f"{decision.user} is not a known user"
    escalated = [up for role in waiting.needed for up in waiting.escalated_to.get(role, [])]
    needs = " or ".join(dict.fromkeys([*waiting.needed, *escalated])) or "any known user"
    if waiting.kind == "approval":
        if plan.separation_of_duties and decision.user == submitter(event):
            return (
                f"{decision.user} submitted this and may not approve it (separation of duties); "
                f"it needs {needs}"
            )
        if decision.user in signed:
            return f"{decision.user} has already signed this run; it needs another {needs}"
    if waiting.needed and role_for(decision.roles, waiting.needed, plan.grants) is None:
        return f"{decision.user} does not hold a role this step needs ({needs})"
    return None
