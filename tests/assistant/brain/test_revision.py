"""The offline edit language: every documented instruction, and clear refusals."""

import pytest

from assistant.brain.offline.revision import revise
from assistant.schemas import Step, WorkflowDraft


@pytest.fixture
def draft() -> WorkflowDraft:
    return WorkflowDraft(
        title="Invoices",
        goal="route invoices",
        steps=[
            Step(
                id="s1",
                title="Log the invoice",
                kind="action",
                connector="webhook",
                operation="post_json",
                params={"url": "https://erp.internal.northwind.example/x"},
            ),
            Step(
                id="s2",
                title="Check over 10,000",
                kind="condition",
                condition="invoice.amount > 10000",
            ),
            Step(id="s3", title="CFO sign-off", kind="approval", approver_role="cfo"),
            Step(
                id="s4",
                title="Tell finance",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#finance", "text": "done"},
            ),
        ],
    ).sealed()


def titles(draft: WorkflowDraft) -> list[str]:
    return [s.title for s in draft.steps]


def test_remove_rename_and_move(draft: WorkflowDraft) -> None:
    new = revise(
        draft, "remove step 2; rename step 1 to Record it; move the last step to the top"
    ).draft
    assert new is not None
    assert titles(new) == ["Tell finance", "Record it", "CFO sign-off"]
    assert new.version == 2 and new.content_hash != draft.content_hash
    assert [s.id for s in new.steps] == ["s1", "s2", "s3"]


def test_move_before_and_after(draft: WorkflowDraft) -> None:
    assert titles(revise(draft, "move step 4 before step 2").draft)[1] == "Tell finance"
    assert titles(revise(draft, "move step 1 after step 3").draft)[2] == "Log the invoice"


def test_add_approval_before_a_step(draft: WorkflowDraft) -> None:
    new = revise(draft, "add an approval by the general counsel before step 4").draft
    assert new.steps[3].kind == "approval" and new.steps[3].approver_role == "legal"


def test_channel_threshold_email_and_schedule(draft: WorkflowDraft) -> None:
    new = revise(
        draft,
        "send it to #ops instead\nchange the threshold to $5,000\nalso email ap@northwind.example\n"
        "run it every Monday at 9am",
    ).draft
    assert new.steps[3].params["channel"] == "#ops"
    assert new.steps[1].condition == "invoice.amount > 5000"
    assert new.steps[-1].connector == "email" and new.steps[-1].params["to"] == [
        "ap@northwind.example"
    ]
    assert new.trigger.kind == "schedule" and new.trigger.detail == "weekly:monday at 09:00"


@pytest.mark.parametrize(
    ("instruction", "problem"),
    [
        ("remove step 9", "no step 9"),
        ("make it nicer", "didn't understand"),
        ("add an approval by the janitor", "don't know the role"),
        ("remove the email step", "email steps"),
        ("remove step 1; remove step 1; remove step 1; remove step 1", "no steps"),
    ],
)
def test_unclear_instructions_are_explained_not_ignored(
    draft: WorkflowDraft, instruction: str, problem: str
) -> None:
    result = revise(draft, instruction)
    assert result.draft is None
    assert problem in (result.problem or "")


def test_the_threshold_change_names_the_sign_off_threshold(draft: WorkflowDraft) -> None:
    result = revise(draft, "change the threshold to $5,000")
    assert result.draft is not None and result.draft.steps[1].condition == "invoice.amount > 5000"
    assert result.changes == ["sign-off threshold (s2) 10,000 → 5,000"]
    assert result.draft.steps[1].title == "Check over 5,000"


def test_the_threshold_change_leaves_the_ceo_tier_alone(draft: WorkflowDraft) -> None:
    tiered = draft.next_version(
        steps=[
            *draft.steps,
            Step(
                id="s5", title="Over 100,000", kind="condition", condition="invoice.amount > 100000"
            ),
            Step(id="s6", title="CEO co-signature", kind="approval", approver_role="ceo"),
        ]
    )
    new = revise(tiered, "remove step 2; change the threshold to $500").draft
    assert new is not None
    assert [s.condition for s in new.steps if s.kind == "condition"] == [
        "invoice.amount > 500",
        "invoice.amount > 100000",
    ]
    assert new.steps[1].kind == "condition" and new.steps[2].approver_role == "cfo"


def test_the_threshold_is_the_money_comparison_not_a_score_or_a_count() -> None:
    slack = Step(
        id="s2",
        title="Tell the team",
        kind="action",
        connector="slack",
        operation="post_message",
        params={"channel": "#cs", "text": "hi"},
    )
    approve = Step(id="s3", title="Approve the discount", kind="approval", approver_role="cfo")
    churn = WorkflowDraft(
        title="Churn",
        goal="save accounts",
        steps=[
            Step(
                id="s1",
                title="High-risk accounts",
                kind="condition",
                condition="account.churn_score >= 0.7 and account.annual_value > 5000",
            ),
            slack,
            approve,
        ],
    ).sealed()
    result = revise(churn, "change the threshold to $8,000")
    assert result.draft is not None and result.changes == ["sign-off threshold (s1) 5,000 → 8,000"]
    assert result.draft.steps[0].condition == (
        "account.churn_score >= 0.7 and account.annual_value > 8000"
    )
    social = churn.next_version(
        steps=[
            Step(id="s1", title="Reach", kind="condition", condition="mention.followers > 10000"),
            slack,
            approve,
        ]
    )
    new = revise(social, "change the threshold to $500").draft
    assert new is not None
    assert [s.condition for s in new.steps if s.condition] == [
        "mention.followers > 10000",
        "amount > 500",
    ]
