"""Risk recognised by the action itself, with the policy that guards it named."""

import pytest

from assistant.policy import PolicyChecker, load_policy
from assistant.policy.amounts import extract_amount
from assistant.schemas import Step, WorkflowDraft

POLICY = load_policy()


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("deactivate multi-factor sign-in for all contractors", "security_control"),
        ("stop the audit logs on the payment servers", "security_control"),
        ("blast a newsletter to every customer on the mailing list", "mass_message"),
        ("each month destroy support tickets older than 3 years", "delete_records"),
        ("send names and phone numbers of our members to leads@brokerhub.io", "personal_data_out"),
    ],
)
def test_risky_actions_outside_the_list_are_recognised(text: str, item: str) -> None:
    assert item in [i.name for i in POLICY.risky(text)]


@pytest.mark.parametrize(
    "text",
    [
        "post a summary of new tickets in #support every morning",
        "email the weekly report to ops@northwind.example",
        "reset the customer's second factor after identity checks",
    ],
)
def test_ordinary_requests_are_not_taken_for_risky_ones(text: str) -> None:
    assert POLICY.risky(text) == []


def test_a_held_action_is_explained_with_its_policy_named() -> None:
    goal = "turn off two-factor sign-in for all staff"
    item = next(i for i in POLICY.guarded_items if i.name == "security_control")
    step = Step(
        id="s1",
        title=item.step_title,
        kind="action",
        connector="webhook",
        operation="post_json",
        params={"url": item.endpoint, "payload": {"request": goal}},
    )
    verdict = PolicyChecker(POLICY).verdict(WorkflowDraft(title="t", goal=goal, steps=[step]))
    checked = verdict.draft.steps[0]
    assert checked.risk == "high" and checked.approver_role == "security"
    assert "security" in verdict.required_roles
    assert any(
        "Approval Matrix: policies/approval-matrix.md" in w and "every run" in w
        for w in verdict.warnings
    ), verdict.warnings


def test_personal_data_sent_outside_cites_the_data_handling_policy() -> None:
    item = next(i for i in POLICY.do_not_automate if i.name == "personal_data_out")
    assert "Data Handling Policy" in item.reason


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("deals worth more than half a million", 500_000),
        ("anything over a quarter of a million euros", 250_000),
        ("bills above seventy-five thousand dollars", 75_000),
        ("orders over three and a half thousand euros", 3_500),
        ("loans beyond twenty-two and a half million", 22_500_000),
    ],
)
def test_amounts_in_words_are_read_with_fractions_of_a_scale(text: str, amount: float) -> None:
    assert extract_amount(text)[0] == amount
