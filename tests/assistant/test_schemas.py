"""The JSON contracts: hashes, versions and validation at the boundary."""

import pytest
from pydantic import ValidationError

from assistant.schemas import Intent, ReviewResponse, Step, WorkflowDraft


def draft() -> WorkflowDraft:
    return WorkflowDraft(
        title="Invoices",
        goal="route invoices",
        steps=[
            Step(id="x", title="Approve", kind="approval", approver_role="cfo"),
            Step(
                id="y",
                title="Tell finance",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#finance", "text": "hi"},
            ),
        ],
    ).sealed()


def test_sealing_numbers_steps_and_hashes_content() -> None:
    sealed = draft()
    assert [s.id for s in sealed.steps] == ["s1", "s2"]
    assert sealed.content_hash == sealed.compute_hash()
    assert len(sealed.content_hash) == 64


def test_hash_ignores_goal_and_sources_but_not_steps() -> None:
    a = draft()
    assert a.model_copy(update={"goal": "other"}).compute_hash() == a.content_hash
    changed = a.next_version(title="Invoices (EU)")
    assert changed.version == 2
    assert changed.content_hash != a.content_hash
    assert a.version == 1  # versions are immutable copies


def test_intent_keeps_only_stated_slots_and_rejects_unknown_ones() -> None:
    intent = Intent(kind="automate", confidence=0.9, slots={"channel": "#ops", "email": None})
    assert intent.slots == {"channel": "#ops"}
    with pytest.raises(ValidationError):
        Intent(kind="automate", confidence=0.9, slots={"colour": "blue"})


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "approve"},
        {"type": "response", "args": ""},
        {"type": "edit", "args": "remove step 2"},
        {"type": "accept", "surprise": True},
    ],
)
def test_review_responses_are_validated(payload: dict) -> None:
    with pytest.raises(ValidationError):
        ReviewResponse.model_validate(payload)
