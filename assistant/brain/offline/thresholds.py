"""Find and change a draft's sign-off threshold: the amount that sends a case to sign-off.

"Change the threshold to $5,000" means the condition guarding the sign-off approval, not
the check for a joint tier's co-signature (the CEO above 100,000): that one mirrors the
Approval Matrix, and an edit to the draft does not move it.
"""

from __future__ import annotations

from assistant.policy.conditions import (
    ORDERING,
    Comparison,
    ConditionError,
    comparisons,
    parse,
    render,
    replace_value,
)
from assistant.policy.rules import Policy
from assistant.schemas import Step


def shown(amount: float) -> str:
    """Write an amount for people: thousands separators, cents only when there are any."""
    return f"{int(amount):,}" if float(amount).is_integer() else f"{amount:,.2f}"


def threshold_of(step: Step, policy: Policy) -> Comparison | None:
    """Return the money comparison a condition step sets its threshold with, if any."""
    if step.kind != "condition" or not step.condition:
        return None
    try:
        parsed = parse(step.condition)
    except ConditionError:
        return None
    return next(
        (
            c
            for c in comparisons(parsed)
            if c.operator in ORDERING
            and isinstance(c.value, int | float)
            and policy.is_money_field(c.field)
        ),
        None,
    )


def guarded_approval(index: int, steps: list[Step]) -> Step | None:
    """Return the approval the condition at ``index`` gates: the next one before any condition."""
    for step in steps[index + 1 :]:
        if step.kind == "condition":
            return None
        if step.kind == "approval":
            return step
    return None


def is_co_signature(index: int, guarded: Step, steps: list[Step], policy: Policy) -> bool:
    """Tell whether the threshold at ``index`` adds a joint tier's second signer.

    That is a check at a tier's bound (the "cfo and ceo" tier above 100,000) guarding one
    of the tier's roles after an approval by another of them: the Approval Matrix's
    co-signature, which the draft's own sign-off threshold never is.
    """
    threshold = threshold_of(steps[index], policy)
    earlier = {s.approver_role for s in steps[:index] if s.kind == "approval"}
    return threshold is not None and any(
        float(threshold.value) == tier.above  # type: ignore[arg-type]
        and guarded.approver_role in tier.roles
        and earlier & (set(tier.roles) - {guarded.approver_role})
        for tier in [*policy.approvals.amount_tiers, *policy.approvals.refund_tiers]
    )


def sign_off_threshold(steps: list[Step], policy: Policy) -> int | None:
    """Return the index of the condition guarding the sign-off approval, if there is one."""
    for i, step in enumerate(steps):
        guarded = guarded_approval(i, steps)
        if (
            threshold_of(step, policy)
            and guarded is not None
            and not is_co_signature(i, guarded, steps, policy)
        ):
            return i
    return None


def change_threshold(steps: list[Step], amount: float, policy: Policy) -> str:
    """Set the sign-off threshold to ``amount`` (adding one if the draft has none); say which."""
    value: int | float = int(amount) if float(amount).is_integer() else amount
    at = sign_off_threshold(steps, policy)
    if at is not None:
        step = steps[at]
        threshold = threshold_of(step, policy)
        assert threshold is not None and step.condition is not None
        old = float(threshold.value)  # type: ignore[arg-type]
        condition = render(replace_value(parse(step.condition), threshold, value))
        title = step.title.replace(shown(old), shown(amount))
        steps[at] = step.model_copy(update={"condition": condition, "title": title})
        return f"sign-off threshold (s{at + 1}) {shown(old)} → {shown(amount)}"
    fields = [t.field for s in steps if (t := threshold_of(s, policy))]
    field = fields[0] if fields else "amount"
    where = next((i for i, s in enumerate(steps) if s.kind == "approval"), None)
    if where is None:
        where = next((i for i, s in enumerate(steps) if s.kind == "action"), 0)
    steps.insert(
        where,
        Step(
            id="new",
            title=f"Check the amount is over {shown(amount)}",
            kind="condition",
            condition=f"{field} > {value}",
        ),
    )
    return f"added a sign-off threshold (s{where + 1}): {field} > {shown(amount)}"
