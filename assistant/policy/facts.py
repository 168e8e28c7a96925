"""The facts a draft's approvals rest on: the amounts it handles and the actions it is.

Facts only ever add requirements. The request (the draft's ``goal``) is kept across every
edit, so the amounts it states and the high-risk actions it asks for still count after a
step is removed or a threshold is edited down.
"""

from __future__ import annotations

from typing import Any

from assistant.policy.amounts import largest_amount, money_value
from assistant.policy.conditions import ConditionError, comparisons, parse
from assistant.policy.destinations import APPROVAL_MATRIX
from assistant.policy.endpoints import action_text, decoded, same_endpoint, urls
from assistant.policy.rules import DoNotAutomate, Policy
from assistant.schemas import Step, WorkflowDraft


def condition_amounts(step: Step, policy: Policy) -> list[float]:
    """Return the amounts a step's condition compares money fields with."""
    if not step.condition:
        return []
    try:
        parsed = parse(step.condition)
    except ConditionError:
        return []
    return [
        float(c.value)
        for c in comparisons(parsed)
        if policy.is_money_field(c.field)
        and isinstance(c.value, int | float)
        and not isinstance(c.value, bool)
    ]


def param_amounts(params: dict[str, Any], policy: Policy, prefix: str = "") -> list[float]:
    """Return the money values in action params (``amount``, ``payload.total``, ...)."""
    found: list[float] = []
    for key, value in params.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            found += param_amounts(value, policy, f"{path}.")
        elif policy.is_money_field(path) or policy.is_money_field(str(key)):
            amount = money_value(value)
            if amount is not None:
                found.append(amount)
    return found


def workflow_amount(draft: WorkflowDraft, policy: Policy) -> float | None:
    """Return the largest amount the draft handles: money conditions, params and request.

    Example:
        >>> from assistant.policy.rules import load_policy
        >>> draft = WorkflowDraft(title="t", goal="wire fifty grand", steps=[
        ...     Step(id="s1", title="Filter", kind="condition",
        ...          condition="mention.author_followers > 250000")])
        >>> workflow_amount(draft, load_policy())
        50000.0
    """
    amounts = [a for step in draft.steps for a in condition_amounts(step, policy)]
    amounts += [
        a
        for step in draft.steps
        if step.kind == "action"
        for a in param_amounts(step.params, policy)
    ]
    stated = largest_amount(draft.goal)
    if stated is not None:
        amounts.append(stated)
    return max(amounts) if amounts else None


def step_items(step: Step, policy: Policy) -> list[DoNotAutomate]:
    """Return the Do-Not-Automate items an action step is, judged by what it does.

    The endpoint it calls and its ``connector.operation`` decide, however the URL is
    encoded; the patterns then run over its decoded title, operation and params, so a
    harmless title on a money endpoint is still money.
    """
    operation = f"{step.connector}.{step.operation}"
    targets = urls(step.params)
    text = action_text(step.title, operation, step.params)
    return [
        item
        for item in policy.guarded_items
        if operation in item.operations
        or any(same_endpoint(url, item.endpoint) for url in targets)
        or item.matches(text)
    ]


def request_items(goal: str, policy: Policy) -> list[DoNotAutomate]:
    """Return the Do-Not-Automate items the request itself asks for."""
    return policy.risky(decoded(goal))


def item_roles(
    policy: Policy, item: DoNotAutomate, amount: float | None, *, refund: bool = False
) -> list[str]:
    """Return the roles that must approve a do-not-automate action.

    The item's own role always counts; for money, the Approval Matrix tier for the amount
    is added, and whichever is stricter wins: a tier never lowers the item's role.
    """
    tier = policy.roles_for_amount(amount, refund=refund) if item.amount_roles else []
    if any(policy.satisfies([role], item.role) for role in tier):
        return tier
    return [item.role, *(r for r in tier if not policy.satisfies([item.role], r))]


def required_items(draft: WorkflowDraft, policy: Policy) -> list[tuple[DoNotAutomate, list[str]]]:
    """Return each held-for-approval item the draft is, with what makes it that item.

    An item counts when an unblocked action step performs it, and when the request asks
    for it, whether or not a step for it is still in the draft.
    """
    found: dict[str, tuple[DoNotAutomate, list[str]]] = {}
    for step in draft.steps:
        if step.kind == "action" and not step.blocked_reason:
            for item in step_items(step, policy):
                if item.action == "require":
                    found.setdefault(item.name, (item, []))[1].append(f"step {step.id}")
    for item in request_items(draft.goal, policy):
        if item.action == "require":
            found.setdefault(item.name, (item, []))[1].append("the request")
    return list(found.values())


def missing_sign_off(
    item: DoNotAutomate,
    sources: list[str],
    group: list[str],
    missing: list[str],
    amount: float | None,
) -> str:
    """Say which sign-off a draft lacks, why it is required, and that approval still needs it."""
    sized = f", for {amount:,.0f}," if item.amount_roles and amount is not None else ""
    return (
        f"Missing sign-off: {item.step_title} ({' and '.join(sources)}){sized} needs approval "
        f"by {' and '.join(group)} on every run ({APPROVAL_MATRIX}), but the draft has no "
        f"approval step for {', '.join(missing)}. "
        f"Approving this version still needs {' and '.join(group)}."
    )


def is_refund(text: str) -> bool:
    """Tell whether money moved by this text is a refund (the refund tiers apply)."""
    return "refund" in decoded(text).lower()
