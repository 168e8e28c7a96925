"""Text typed while a draft waits for review: edits answer it, anything else is answered aside."""

import pytest

from assistant.schemas import ReviewResponse
from graphs.runner import ChatRunner
from tests.conftest import collect, of_type

GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"
OTHER_GOAL = "Route new support tickets to billing or tech queues"


async def waiting_v2(runner: ChatRunner, thread: str) -> str:
    """Draft the invoice workflow on ``thread`` and edit it once; return v2's content hash."""
    await collect(runner.send_text(thread, GOAL, "ana"))
    edited = await collect(runner.send_text(thread, "send it to #ops instead", "ana"))
    v2 = of_type(edited, "draft")[0]["workflow"]
    assert v2["version"] == 2
    return str(v2["content_hash"])


async def review_hash_of(runner: ChatRunner, thread: str) -> str:
    request = await runner.pending_review(thread)
    assert request is not None, "the draft no longer waits for review"
    return str(request.action_request.args["workflow"]["content_hash"])


@pytest.mark.parametrize("text", ["hi", "what can you do?", "thanks"])
async def test_small_talk_is_answered_and_the_draft_keeps_waiting(
    runner: ChatRunner, text: str
) -> None:
    shown = await waiting_v2(runner, "a1")
    events = await collect(runner.send_text("a1", text, "ana"))
    said = " ".join(e["text"] for e in of_type(events, "message"))
    assert "didn't understand" not in said
    assert "I'm Flowdraft" in said
    assert "Your draft 'Vendor invoice triage' v2 still waits for review" in said
    assert not of_type(events, "draft") and not of_type(events, "review")
    assert all(e["thread"] == "a1" for e in events)
    assert await review_hash_of(runner, "a1") == shown


async def test_a_question_is_answered_from_the_library_and_the_draft_keeps_waiting(
    runner: ChatRunner,
) -> None:
    shown = await waiting_v2(runner, "a2")
    events = await collect(runner.send_text("a2", "Which actions may never be automated?", "ana"))
    answer = of_type(events, "message")[0]
    assert "policies/do-not-automate.md" in [s["doc"] for s in answer["sources"][:3]]
    assert "v2 still waits for review" in of_type(events, "message")[-1]["text"]
    assert await review_hash_of(runner, "a2") == shown
    # The review is still answerable afterwards, by typing as by a decision.
    edited = await collect(runner.send_text("a2", "change the threshold to $5,000", "ana"))
    assert of_type(edited, "draft")[0]["workflow"]["version"] == 3


async def test_a_new_goal_is_drafted_in_a_new_thread_and_the_old_draft_keeps_waiting(
    runner: ChatRunner,
) -> None:
    shown = await waiting_v2(runner, "a3")
    events = await collect(runner.send_text("a3", OTHER_GOAL, "ana"))
    draft = of_type(events, "draft")[0]
    review = of_type(events, "review")[0]
    new_thread = draft["thread"]
    assert new_thread != "a3" and review["thread"] == new_thread
    assert draft["workflow"]["version"] == 1 and draft["workflow"]["playbook"] == "ticket-routing"
    note = of_type(events, "message")[-1]
    assert note["thread"] == "a3"
    assert f"thread {new_thread}" in note["text"]
    assert "Your draft 'Vendor invoice triage' v2 still waits for review" in note["text"]
    assert await review_hash_of(runner, "a3") == shown
    assert await runner.pending_review(new_thread) is not None
    # Both reviews stay answerable, each in its own thread.
    done = await collect(runner.send_decision("a3", ReviewResponse(type="ignore", user="ana")))
    assert "nothing went live" in of_type(done, "message")[0]["text"]
    edited = await collect(runner.send_text(new_thread, "remove step 2", "ana"))
    assert of_type(edited, "draft")[0]["workflow"]["version"] == 2


async def test_a_second_new_goal_gets_a_thread_of_its_own(runner: ChatRunner) -> None:
    await waiting_v2(runner, "a4")
    first = of_type(await collect(runner.send_text("a4", OTHER_GOAL, "ana")), "draft")[0]
    second = of_type(
        await collect(runner.send_text("a4", "Post the weekly ticket summary in #support", "ana")),
        "draft",
    )[0]
    assert len({"a4", first["thread"], second["thread"]}) == 3
    assert await runner.pending_review(first["thread"]) is not None


@pytest.mark.parametrize(
    "edit",
    [
        "send it to #ops instead",
        "remove step 3",
        "change the threshold to $5,000",
        "add an approval by legal before step 2",
    ],
)
async def test_plain_language_edits_still_make_a_new_version(runner: ChatRunner, edit: str) -> None:
    await collect(runner.send_text("a5", GOAL, "ana"))
    events = await collect(runner.send_text("a5", edit, "ana"))
    assert of_type(events, "draft")[0]["workflow"]["version"] == 2
    assert all(e["thread"] == "a5" for e in events)


async def test_a_test_run_during_review_still_runs_the_draft(runner: ChatRunner) -> None:
    await collect(runner.send_text("a6", GOAL, "ana"))
    events = await collect(
        runner.send_text("a6", "test run with invoice.amount=52,000 invoice.vendor=Acme", "ana")
    )
    said = of_type(events, "message")[0]["text"]
    assert said.startswith("No test run: the event has no value for invoice.")  # a test run
    assert not of_type(events, "draft") and of_type(events, "review")
