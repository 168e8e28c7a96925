"""A schedule edit says plainly what it does to the draft's one trigger."""

import pytest

from assistant.brain.offline.revision import revise
from assistant.schemas import Step, Trigger, WorkflowDraft
from graphs.runner import ChatRunner
from tests.conftest import collect, of_type


def draft_with(trigger: Trigger) -> WorkflowDraft:
    step = Step(
        id="s1",
        title="Post the summary",
        kind="action",
        connector="slack",
        operation="post_message",
        params={"channel": "#finance", "text": "hi"},
    )
    return WorkflowDraft(title="t", goal="g", trigger=trigger, steps=[step]).sealed()


@pytest.mark.parametrize(
    ("before", "said"),
    [
        (
            Trigger(kind="event", detail="An employee submits an expense report"),
            "the trigger changes from event (An employee submits an expense report) to "
            "every Monday at 09:00: a workflow has one trigger, so it no longer starts on "
            "that event",
        ),
        (
            Trigger(kind="webhook", detail="A customer submits the claims form"),
            "the trigger changes from webhook (A customer submits the claims form) to every "
            "Monday at 09:00: a workflow has one trigger, so it no longer starts from its hook",
        ),
        (
            Trigger(kind="schedule", detail="daily"),
            "the schedule changes from every day to every Monday at 09:00",
        ),
        (Trigger(kind="manual", detail=""), "the trigger changes from manual to every Monday"),
    ],
)
def test_the_change_note_names_the_trigger_it_replaces(before: Trigger, said: str) -> None:
    revision = revise(draft_with(before), "run it every Monday at 9am")
    assert revision.draft is not None
    assert revision.draft.trigger == Trigger(kind="schedule", detail="weekly:monday at 09:00")
    assert said in revision.changes[0]


async def test_the_review_says_the_event_trigger_was_replaced(runner: ChatRunner) -> None:
    goal = "When an employee submits an expense report, categorize it and post it in #finance"
    first = await collect(runner.send_text("sch1", goal, "ana"))
    assert of_type(first, "draft")[0]["workflow"]["trigger"]["kind"] == "event"
    events = await collect(runner.send_text("sch1", "run it every Monday at 9am", "ana"))
    description = of_type(events, "review")[0]["request"]["description"]
    assert "Note: v2: the trigger changes from event (" in description
    assert "to every Monday at 09:00" in description
