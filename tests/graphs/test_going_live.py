"""What approval does in the chat: a live automation, a first run, a schedule; and test runs."""

from __future__ import annotations

import pytest

from assistant.runtime.memory import MemoryEngine
from assistant.schemas import ReviewResponse, WorkflowDraft
from assistant.services import Services
from graphs.runner import ChatRunner
from graphs.samples import sample_request
from tests.conftest import collect, live_automations, of_type

INVOICES = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"
SUMMARY = "Post the weekly ticket summary in #support"
SAMPLE = (
    "test run with invoice.vendor='Acme Freight' invoice.number=INV-204 invoice.amount=52,000 "
    "invoice.currency=USD invoice.due_date=2026-12-12 invoice.po_number=PO-7 "
    "invoice.submitted_by=ana"
)


def accept(user: str) -> ReviewResponse:
    return ReviewResponse(type="accept", user=user)


def edit_trigger(kind: str, detail: str) -> ReviewResponse:
    trigger = {"kind": kind, "detail": detail}
    return ReviewResponse(type="edit", args={"workflow": {"trigger": trigger}}, user="ana")


async def test_a_test_run_shows_each_step_with_the_sample_values_and_sends_nothing(
    runner: ChatRunner, runs: MemoryEngine
) -> None:
    await collect(runner.send_text("g1", INVOICES, "ana"))
    events = await collect(runner.send_text("g1", SAMPLE, "ana"))
    text = of_type(events, "message")[0]["text"]
    lines = text.splitlines()
    assert lines[0].startswith("Test run of Vendor invoice triage v1 on {")
    assert "nothing was sent; the review is still open" in lines[0]
    assert any("would wait for cfo" in line for line in lines)  # 52,000 needs the CFO
    posted = next(line for line in lines if '"channel": "#finance"' in line)
    assert "Acme Freight" in posted and "{{" not in text
    assert of_type(events, "review") and await runner.pending_review("g1") is not None
    assert runs.actions == []
    # The same draft with no sample: the last one is used again.
    again = await collect(runner.send_text("g1", "test run", "ana"))
    assert "Acme Freight" in of_type(again, "message")[0]["text"]


async def test_a_test_run_without_the_values_says_which_fields_to_give(
    runner: ChatRunner,
) -> None:
    await collect(runner.send_text("g2", INVOICES, "ana"))
    events = await collect(runner.send_text("g2", "dry run", "ana"))
    text = of_type(events, "message")[0]["text"]
    assert text.startswith("No test run: the event has no value for invoice.")
    assert "`test run with invoice." in text
    unreadable = await collect(runner.send_text("g2", "test run with {not json", "ana"))
    said = of_type(unreadable, "message")[0]["text"]
    assert "not valid JSON" in said and await runner.pending_review("g2") is not None


async def test_a_manual_trigger_starts_its_first_run_with_the_sample_of_the_conversation(
    runner: ChatRunner, runs: MemoryEngine
) -> None:
    await collect(runner.send_text("g3", INVOICES, "ana"))
    await collect(runner.send_decision("g3", edit_trigger("manual", "Run by hand")))
    await collect(runner.send_text("g3", SAMPLE.replace("52,000", "5,000"), "ana"))
    events = await collect(runner.send_decision("g3", accept("carla")))
    automation = of_type(events, "activated")[0]["automation"]
    run = of_type(events, "run")[0]["run"]
    assert automation["trigger"]["kind"] == "manual" and automation["trigger"]["hook"] is None
    assert run["automation_id"] == automation["id"] and run["status"] == "completed"
    assert run["event"]["invoice"]["amount"] == 5000
    said = of_type(events, "message")[0]["text"]
    assert f"Its first run {run['id']} is completed." in said
    posted = [a for a in runs.actions if a["connector"] == "slack"]
    assert len(posted) == 1 and "Acme Freight" in str(posted[0]["input"])


async def test_a_manual_trigger_without_the_values_goes_live_and_says_how_to_start(
    runner: ChatRunner, runs: MemoryEngine
) -> None:
    await collect(runner.send_text("g4", INVOICES, "ana"))
    await collect(runner.send_decision("g4", edit_trigger("manual", "Run by hand")))
    events = await collect(runner.send_decision("g4", accept("carla")))
    automation = of_type(events, "activated")[0]["automation"]
    assert not of_type(events, "run") and runs.actions == []
    said = of_type(events, "message")[0]["text"]
    assert "The first run did not start (the event has no value for invoice." in said
    assert f"`flowdraft runs start {automation['id']} --event FILE`" in said


async def test_a_schedule_goes_live_with_its_cron(runner: ChatRunner) -> None:
    await collect(runner.send_text("g5", SUMMARY, "ana"))
    await collect(runner.send_decision("g5", edit_trigger("schedule", "every Monday at 9am")))
    events = await collect(runner.send_decision("g5", accept("ana")))
    automation = of_type(events, "activated")[0]["automation"]
    assert automation["trigger"]["cron"] == "0 9 * * 1"
    assert "cron `0 9 * * 1`, UTC" in of_type(events, "message")[0]["text"]


async def test_an_unreadable_schedule_is_not_activated_and_says_why(runner: ChatRunner) -> None:
    await collect(runner.send_text("g6", SUMMARY, "ana"))
    await collect(runner.send_decision("g6", edit_trigger("schedule", "whenever the moon is full")))
    events = await collect(runner.send_decision("g6", accept("ana")))
    assert not of_type(events, "activated")
    said = of_type(events, "message")[0]["text"]
    assert said.startswith("Not activated:") and "Nothing went live" in said


async def test_activating_the_same_version_again_returns_the_same_automation(
    services: Services, runs: MemoryEngine, runner: ChatRunner
) -> None:
    await collect(runner.send_text("g7", SUMMARY, "ana"))
    state = await runner.state("g7")
    draft = WorkflowDraft.model_validate(state["workflow"])
    live = live_automations(services, runs)
    first = await live.activate(draft, approvals=["ana"], owner="ana", thread="g7", inputs={})
    second = await live.activate(draft, approvals=["ana"], owner="ana", thread="g7", inputs={})
    assert second.automation["id"] == first.automation["id"]


@pytest.mark.parametrize(
    ("text", "sample"),
    [
        ("test run with a.b=1 a.c='two words'", {"a": {"b": 1, "c": "two words"}}),
        ('try it with {"x": {"y": 2.5}}', {"x": {"y": 2.5}}),
        ("Dry-run on flag=true gone=null", {"flag": True, "gone": None}),
    ],
)
def test_samples_are_read_from_pairs_or_json(text: str, sample: dict) -> None:
    assert sample_request(text) == sample
    assert sample_request("send it to #ops instead") is None


async def test_a_schedule_over_steps_that_read_event_values_is_flagged_in_the_review(
    runner: ChatRunner,
) -> None:
    await collect(runner.send_text("g8", INVOICES, "ana"))
    events = await collect(
        runner.send_decision("g8", edit_trigger("schedule", "every Monday at 9am"))
    )
    description = of_type(events, "review")[0]["request"]["description"]
    assert "A schedule starts runs with no event, but the steps read invoice." in description
    plain = await collect(runner.send_text("g9", INVOICES, "ana"))
    assert "A schedule starts runs" not in of_type(plain, "review")[0]["request"]["description"]
