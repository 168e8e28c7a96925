"""Policy marks: risk, approver roles and blocked steps."""

from assistant.policy import PolicyChecker, required_roles
from assistant.schemas import Step, WorkflowDraft


def check(goal: str, *steps: Step) -> WorkflowDraft:
    return PolicyChecker().check(WorkflowDraft(title="t", goal=goal, steps=list(steps)).sealed())


def action(
    title: str, connector: str = "webhook", operation: str = "post_json", **params: object
) -> Step:
    params = params or {"url": "https://x.internal.northwind.example/api"}
    return Step(
        id="s", title=title, kind="action", connector=connector, operation=operation, params=params
    )


def test_every_action_needs_an_approver_and_gets_its_operation_risk() -> None:
    draft = check("notify", action("Post", "slack", "post_message", channel="#ops", text="hi"))
    step = draft.steps[0]
    assert step.risk == "low" and step.approver_role == "manager" and step.blocked_reason is None
    assert required_roles(draft) == ["manager"]


def test_do_not_automate_actions_are_blocked_with_the_policy_named() -> None:
    draft = check("clean up", action("Delete customer records older than 2 years"))
    step = draft.steps[0]
    assert step.risk == "high"
    assert "do-not-automate" in (step.blocked_reason or "")
    assert required_roles(draft) == []


def test_moving_money_is_high_risk_and_needs_the_cfo() -> None:
    step = check("pay vendors", action("Wire the payment to the vendor")).steps[0]
    assert step.risk == "high" and step.approver_role == "cfo" and step.blocked_reason is None


def test_asking_to_skip_approval_blocks_money_movement() -> None:
    step = check("refund everything automatically without review", action("Issue a refund")).steps[
        0
    ]
    assert step.blocked_reason and "skip approval" in step.blocked_reason


def test_bad_params_and_unknown_operations_are_blocked() -> None:
    bad = check("x", action("Post", "slack", "post_message", channel="finance", text="hi")).steps[0]
    assert bad.blocked_reason and "channel" in bad.blocked_reason
    unknown = check("x", action("Fax it", "email", "send_fax", to="a@b.co")).steps[0]
    assert unknown.blocked_reason and "Unknown action" in unknown.blocked_reason


def test_non_action_steps_are_not_gated() -> None:
    draft = check("x", Step(id="s", title="CFO sign-off", kind="approval", approver_role="cfo"))
    assert draft.steps[0].blocked_reason is None and draft.steps[0].risk == "low"
