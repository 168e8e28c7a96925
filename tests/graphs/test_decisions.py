"""Who may decide a workflow review, on which version, and what a bad decision leaves behind."""

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from assistant.db.journal import MemoryJournal
from assistant.db.users import MemoryDirectory
from assistant.runtime import store
from assistant.runtime.live import LiveAutomations
from assistant.schemas import ReviewResponse
from connectors.sandbox import ActionLog
from graphs.chat import build_chat_graph
from graphs.context import Context
from graphs.runner import ChatRunner, InputError
from tests.conftest import collect, of_type

PAYMENT = "Vendor payments over $10,000: release the payment after CFO sign-off; post a summary in #finance"
SUMMARY = "Post the weekly ticket summary in #support"
MONEY_STEP = {
    "title": "Release the vendor payment",
    "kind": "action",
    "connector": "webhook",
    "operation": "post_json",
    "params": {
        "url": "https://payments.internal.northwind.example/api/transfers",
        "payload": {"vendor": "acme"},
    },
}


def refused(journal: MemoryJournal, thread: str) -> list[dict[str, Any]]:
    return [e for e in journal.events if e["thread"] == thread and e["event"] == "decision_refused"]


def live_channels(context: Context, automation_id: str) -> set[str]:
    """Return the Slack channels the live automation's steps post to."""
    assert isinstance(context.automations, LiveAutomations)
    draft = store.automation_draft(context.automations.db, automation_id=automation_id)
    assert draft is not None
    return {str(s.params.get("channel")) for s in draft.steps if s.connector == "slack"}


async def workflow_of(runner: ChatRunner, thread: str) -> dict[str, Any]:
    return dict((await runner.state(thread))["workflow"])


async def test_reject_and_changes_need_the_requester_a_role_that_could_approve_or_an_admin(
    roles_runner: ChatRunner, action_log: ActionLog, journal: MemoryJournal
) -> None:
    await collect(roles_runner.send_text("d1", PAYMENT, "ana"))
    attempts = [
        ReviewResponse(type="ignore", user="mallory"),
        ReviewResponse(type="ignore", user="bo"),
        ReviewResponse(type="response", args="send it to #ops instead", user="bo"),
        ReviewResponse(type="edit", args={"workflow": {"title": "Mine now"}}, user="bo"),
    ]
    for attempt in attempts:
        events = await collect(roles_runner.send_decision("d1", attempt))
        text = of_type(events, "message")[0]["text"]
        assert f"{attempt.user} may not" in text
        assert "Who can decide: ana (requester), carla, dan, lee, root" in text
        assert of_type(events, "review") and not of_type(events, "draft")
        assert await roles_runner.pending_review("d1") is not None
    assert "not a known user" in refused(journal, "d1")[0]["reason"]
    assert len(refused(journal, "d1")) == len(attempts)
    assert (await workflow_of(roles_runner, "d1"))["version"] == 1

    # The CFO, who could approve it, may change it; the requester may reject it.
    edited = await collect(
        roles_runner.send_decision(
            "d1", ReviewResponse(type="response", args="send it to #ops instead", user="carla")
        )
    )
    assert of_type(edited, "draft")[0]["workflow"]["version"] == 2
    done = await collect(
        roles_runner.send_decision("d1", ReviewResponse(type="ignore", user="ana"))
    )
    assert "Rejected by ana" in of_type(done, "message")[0]["text"]
    assert action_log.actions == []


async def test_an_admin_may_reject_anyones_draft(roles_runner: ChatRunner) -> None:
    await collect(roles_runner.send_text("d2", PAYMENT, "ana"))
    done = await collect(
        roles_runner.send_decision("d2", ReviewResponse(type="ignore", user="root"))
    )
    assert "Rejected by root" in of_type(done, "message")[0]["text"]
    assert await roles_runner.pending_review("d2") is None


async def test_with_no_users_configured_anyone_decides_and_the_audit_says_so(
    roles_context: Context, journal: MemoryJournal
) -> None:
    roles_context.directory = MemoryDirectory()
    runner = ChatRunner(build_chat_graph(InMemorySaver()), roles_context)
    await collect(runner.send_text("d3", PAYMENT, "ana"))
    done = await collect(runner.send_decision("d3", ReviewResponse(type="ignore", user="anyone")))
    assert "Rejected by anyone" in of_type(done, "message")[0]["text"]
    decision = next(e for e in journal.events if e["event"] == "decision")
    assert "no users are configured" in decision["note"]


async def test_a_decision_on_an_older_version_is_refused_and_names_the_current_one(
    roles_runner: ChatRunner, action_log: ActionLog, journal: MemoryJournal
) -> None:
    await collect(roles_runner.send_text("d4", SUMMARY, "ana"))
    v1 = await workflow_of(roles_runner, "d4")
    await collect(roles_runner.send_text("d4", "send it to #ops instead", "ana"))
    v2 = await workflow_of(roles_runner, "d4")
    assert v2["version"] == 2
    for stale in (
        ReviewResponse(type="accept", user="root", content_hash=v1["content_hash"]),
        ReviewResponse(type="accept", user="root", version=1),
        ReviewResponse(type="ignore", user="ana", content_hash=v1["content_hash"]),
    ):
        with pytest.raises(InputError, match="v2 is current; review it and decide again"):
            await collect(roles_runner.send_decision("d4", stale))
        assert await roles_runner.pending_review("d4") is not None
    assert action_log.actions == []
    assert len(refused(journal, "d4")) == 3
    bound = ReviewResponse(type="accept", user="root", content_hash=v2["content_hash"])
    done = await collect(roles_runner.send_decision("d4", bound))
    live = of_type(done, "activated")[0]["automation"]
    assert live["version"] == 2 and live["content_hash"] == v2["content_hash"]
    assert live_channels(roles_runner.context, live["id"]) == {"#ops"}


async def test_the_graph_itself_refuses_a_stale_decision(
    roles_context: Context, action_log: ActionLog, journal: MemoryJournal
) -> None:
    graph = build_chat_graph(InMemorySaver())
    config: Any = {"configurable": {"thread_id": "d5"}}
    start = {"text": SUMMARY, "user": "ana", "thread": "d5"}
    await graph.ainvoke(start, config, context=roles_context)
    v1 = (await graph.aget_state(config)).values["workflow"]
    change = {"type": "response", "args": "send it to #ops instead", "user": "ana"}
    await graph.ainvoke(Command(resume=change), config, context=roles_context)
    stale = {"type": "accept", "user": "root", "content_hash": v1["content_hash"]}
    await graph.ainvoke(Command(resume=stale), config, context=roles_context)
    snapshot = await graph.aget_state(config)
    assert snapshot.interrupts and snapshot.values["workflow"]["version"] == 2
    assert "v2 is current" in snapshot.values["message"]["text"]
    assert action_log.actions == []


@pytest.mark.parametrize(
    "garbage",
    ["approve", 42, [], {"type": "maybe"}, {"type": "response"}, {"type": "edit", "args": "x"}],
)
async def test_a_malformed_resume_keeps_the_thread_waiting_on_a_valid_review(
    roles_context: Context, action_log: ActionLog, journal: MemoryJournal, garbage: Any
) -> None:
    graph = build_chat_graph(InMemorySaver())
    config: Any = {"configurable": {"thread_id": "d6"}}
    start = {"text": SUMMARY, "user": "ana", "thread": "d6"}
    await graph.ainvoke(start, config, context=roles_context)
    await graph.ainvoke(Command(resume=garbage), config, context=roles_context)
    snapshot = await graph.aget_state(config)
    assert snapshot.interrupts, "the thread must still wait for a decision"
    assert snapshot.interrupts[0].value["action_request"]["action"] == "activate_workflow"
    assert [e["event"] for e in journal.events].count("decision_malformed") == 1
    accept = {"type": "accept", "user": "ana"}
    await graph.ainvoke(Command(resume=accept), config, context=roles_context)
    snapshot = await graph.aget_state(config)
    assert not snapshot.interrupts
    assert live_channels(roles_context, snapshot.values["automation"]["id"]) == {"#support"}
    assert [e["event"] for e in journal.events].count("decision_malformed") == 1


async def test_an_editor_who_adds_a_money_step_cannot_approve_her_own_edit(
    roles_runner: ChatRunner, action_log: ActionLog, journal: MemoryJournal
) -> None:
    await collect(roles_runner.send_text("d7", SUMMARY, "ana"))
    steps = [*(await workflow_of(roles_runner, "d7"))["steps"], MONEY_STEP]
    steps = [
        {k: v for k, v in s.items() if k not in ("id", "risk", "blocked_reason")} for s in steps
    ]
    edit = ReviewResponse(type="edit", args={"workflow": {"steps": steps}}, user="carla")
    edited = await collect(roles_runner.send_decision("d7", edit))
    assert of_type(edited, "draft")[0]["workflow"]["version"] == 2
    assert "requester_added" in [e["event"] for e in journal.events if e["actor"] == "carla"]
    own = await collect(
        roles_runner.send_decision("d7", ReviewResponse(type="accept", user="carla"))
    )
    assert "separation of duties" in of_type(own, "message")[0]["text"]
    assert action_log.actions == []
    done = await collect(
        roles_runner.send_decision("d7", ReviewResponse(type="accept", user="dan"))
    )
    assert of_type(done, "activated")


async def test_a_low_risk_rename_does_not_make_the_editor_a_requester(
    roles_runner: ChatRunner,
) -> None:
    await collect(roles_runner.send_text("d8", PAYMENT, "ana"))
    edited = await collect(
        roles_runner.send_decision(
            "d8",
            ReviewResponse(type="edit", args={"workflow": {"title": "Pay vendors"}}, user="carla"),
        )
    )
    assert of_type(edited, "draft")[0]["workflow"]["version"] == 2
    done = await collect(
        roles_runner.send_decision("d8", ReviewResponse(type="accept", user="carla"))
    )
    assert of_type(done, "activated")
