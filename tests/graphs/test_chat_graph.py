"""The chat graph end to end: draft, review, revise, activate, answer, clarify."""

import os
from pathlib import Path

import pytest

from assistant.runtime import store
from assistant.runtime.memory import MemoryEngine
from assistant.schemas import ReviewRequest, ReviewResponse, WorkflowDraft
from connectors.sandbox import ActionLog
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner, InputError, ThreadNotWaiting
from tests.conftest import collect, of_type

SNAPSHOT = Path(__file__).parent / "snapshots" / "chat_graph.mmd"
GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"


def test_topology_snapshot() -> None:
    """The whole graph, as Mermaid, matches the reviewed snapshot.

    After a deliberate change, rewrite it with ``FLOWDRAFT_UPDATE_SNAPSHOTS=1 pytest
    tests/graphs/test_chat_graph.py`` and review the diff of ``snapshots/chat_graph.mmd``.
    """
    mermaid = build_chat_graph().get_graph().draw_mermaid()
    if os.environ.get("FLOWDRAFT_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(mermaid)
    assert mermaid == SNAPSHOT.read_text()


async def test_draft_turn_ends_in_an_agent_inbox_review(
    runner: ChatRunner, action_log: ActionLog
) -> None:
    events = await collect(runner.send_text("t1", GOAL, "ana"))
    assert [e["type"] for e in events] == ["intent", "draft", "review"]
    assert all(e["thread"] == "t1" for e in events)
    assert events[0]["intent"]["slots"]["amount_threshold"] == 10000
    draft = WorkflowDraft.model_validate(events[1]["workflow"])
    assert draft.version == 1 and draft.playbook == "invoice-triage"
    request = ReviewRequest.model_validate(events[2]["request"])
    assert request.action_request.action == "activate_workflow"
    assert request.action_request.args["workflow"]["content_hash"] == draft.content_hash
    assert set(events[2]["request"]["config"]) == {
        "allow_accept",
        "allow_edit",
        "allow_respond",
        "allow_ignore",
    }
    assert action_log.actions == []  # nothing happens before approval


async def test_accept_makes_the_version_live_and_events_run_it(
    runner: ChatRunner, action_log: ActionLog, runs: MemoryEngine
) -> None:
    await collect(runner.send_text("t1", GOAL, "ana"))
    events = await collect(runner.send_decision("t1", ReviewResponse(type="accept", user="carla")))
    automation = of_type(events, "activated")[0]["automation"]
    assert automation["status"] == "active" and automation["trigger"]["hook"]
    said = of_type(events, "message")[0]["text"]
    assert f"is live as automation {automation['id']} (approved by carla)" in said
    assert f"send invoices to http://flowdraft.test/hooks/{automation['id']}" in said
    assert action_log.actions == [] and runs.actions == []  # nothing runs before an event
    with pytest.raises(ThreadNotWaiting, match="not waiting"):
        await collect(runner.send_decision("t1", ReviewResponse(type="accept", user="carla")))
    assert runs.db is not None
    draft = store.automation_draft(runs.db, automation_id=automation["id"])
    live = store.get_automation(runs.db, automation_id=automation["id"])
    assert draft is not None and live is not None
    event = sample_event(automation["trigger"]["fields"], amount=5_000)
    run = await runs.start(live, draft, event)
    assert run.status == "completed"
    posted = next(a for a in runs.actions if a["connector"] == "slack")
    assert posted["input"]["channel"] == "#finance" and "5000" in str(posted["input"])
    assert "{{" not in str(runs.actions)


def sample_event(fields: list[str], *, amount: int) -> dict:
    """Return an event with a value for each field: ``amount`` for amounts, text otherwise."""
    event: dict = {}
    for name in fields:
        *parents, leaf = name.split(".")
        place = event
        for parent in parents:
            place = place.setdefault(parent, {})
        place[leaf] = amount if "amount" in leaf else f"{leaf}-1"
    return event


async def test_plain_language_edit_makes_a_new_version(runner: ChatRunner) -> None:
    first = await collect(runner.send_text("t2", GOAL, "ana"))
    v1 = WorkflowDraft.model_validate(of_type(first, "draft")[0]["workflow"])
    events = await collect(runner.send_text("t2", "send it to #ops instead", "ana"))
    v2 = WorkflowDraft.model_validate(of_type(events, "draft")[0]["workflow"])
    assert v2.id == v1.id and v2.version == 2 and v2.content_hash != v1.content_hash
    assert all(s.params.get("channel") == "#ops" for s in v2.steps if s.connector == "slack")
    assert "v2" in of_type(events, "review")[0]["request"]["description"]
    state = await runner.state("t2")
    assert [v["version"] for v in state["versions"]] == [1, 2]


async def test_an_edit_not_understood_is_explained_and_review_stays_open(
    runner: ChatRunner,
) -> None:
    await collect(runner.send_text("t3", GOAL, "ana"))
    events = await collect(runner.send_text("t3", "make it pop", "ana"))
    assert "didn't understand" in of_type(events, "message")[0]["text"]
    assert of_type(events, "review") and await runner.pending_review("t3") is not None


async def test_structured_edit_and_reject(runner: ChatRunner, action_log: ActionLog) -> None:
    first = await collect(runner.send_text("t4", GOAL, "ana"))
    workflow = of_type(first, "draft")[0]["workflow"]
    edited = {"title": "Invoice sign-off", "steps": workflow["steps"][:2]}
    events = await collect(
        runner.send_decision(
            "t4", ReviewResponse(type="edit", args={"workflow": edited}, user="ana")
        )
    )
    v2 = of_type(events, "draft")[0]["workflow"]
    assert v2["version"] == 2 and v2["title"] == "Invoice sign-off" and len(v2["steps"]) == 2
    bad = await collect(
        runner.send_decision(
            "t4", ReviewResponse(type="edit", args={"workflow": {"steps": []}}, user="ana")
        )
    )
    assert "not applied" in of_type(bad, "message")[0]["text"]
    done = await collect(runner.send_decision("t4", ReviewResponse(type="ignore", user="ana")))
    assert "nothing went live" in of_type(done, "message")[0]["text"]
    assert action_log.actions == []


async def test_question_is_answered_with_sources(runner: ChatRunner) -> None:
    events = await collect(runner.send_text("q1", "Which actions may never be automated?", "ana"))
    message = of_type(events, "message")[0]
    assert "policies/do-not-automate.md" in [s["doc"] for s in message["sources"][:3]]
    assert await runner.pending_review("q1") is None


async def test_clarifying_question_then_the_answer_completes_the_request(
    runner: ChatRunner,
) -> None:
    first = await collect(runner.send_text("c1", "can you set up a workflow?", "ana"))
    assert of_type(first, "intent")[0]["intent"]["kind"] == "clarify"
    assert of_type(first, "message")[0]["text"].startswith("Which process")
    second = await collect(
        runner.send_text("c1", "for new hires: create their accounts and post in #it", "ana")
    )
    draft = of_type(second, "draft")[0]["workflow"]
    assert draft["playbook"] == "employee-onboarding"


async def test_revise_without_a_draft_says_so(runner: ChatRunner) -> None:
    events = await collect(runner.send_text("r1", "remove step 2", "ana"))
    assert "no draft" in of_type(events, "message")[0]["text"]


async def test_risky_request_goes_live_with_the_risky_step_blocked(
    runner: ChatRunner, runs: MemoryEngine
) -> None:
    await collect(
        runner.send_text(
            "k1", "Delete all customer records older than two years every month", "ana"
        )
    )
    events = await collect(runner.send_text("k1", "approve", "ana"))
    automation = of_type(events, "activated")[0]["automation"]
    assert runs.db is not None
    draft = store.automation_draft(runs.db, automation_id=automation["id"])
    assert draft is not None
    assert any("delete" in s.title.lower() and s.blocked_reason for s in draft.steps)


@pytest.mark.parametrize("text", ["", "   ", "x" * 100_000, "nul\x00byte"])
async def test_bad_text_is_refused_with_a_reason(runner: ChatRunner, text: str) -> None:
    with pytest.raises(InputError):
        await collect(runner.send_text("bad", text, "ana"))
    assert await runner.state("bad") == {}


async def test_ticket_reply_is_reviewed_then_emailed(
    runner: ChatRunner, action_log: ActionLog
) -> None:
    text = (
        "Draft a reply: customer writes: my order never arrived and the tracking page shows nothing"
    )
    events = await collect(runner.send_text("tk1", text, "agent"))
    review = of_type(events, "review")[0]["request"]
    assert review["action_request"]["action"] == "send_reply"
    assert review["config"]["allow_respond"] is False
    with pytest.raises(InputError, match="plain-language"):
        await collect(runner.send_text("tk1", "make it friendlier", "agent"))
    edited = {"body": "Hello! Your parcel is on its way."}
    done = await collect(
        runner.send_decision("tk1", ReviewResponse(type="edit", args=edited, user="agent"))
    )
    assert of_type(done, "dispatched")[0]["results"][0]["status"] == "ok"
    assert action_log.actions[0].connector == "email"
    assert action_log.actions[0].params["body"] == "Hello! Your parcel is on its way."


async def test_progress_events_for_uis_wrap_each_node(runner: ChatRunner) -> None:
    events = await collect(runner.send_text("pg", GOAL, "ana", progress=True))
    progress = [(e["node"], e["phase"]) for e in events if e["type"] == "progress"]
    assert progress[:4] == [
        ("capture_intent", "start"),
        ("capture_intent", "end"),
        ("retrieve_context", "start"),
        ("retrieve_context", "end"),
    ]
    retrieved = next(
        e
        for e in events
        if e["type"] == "progress" and e["node"] == "retrieve_context" and e["phase"] == "end"
    )
    assert "Vendor invoice triage" in retrieved["summary"]
    policy = next(e for e in events if e.get("node") == "check_policy" and e["phase"] == "end")
    assert "approval from" in policy["summary"]
    plain = await collect(runner.send_text("pg2", GOAL, "ana"))
    assert not any(e["type"] == "progress" for e in plain)  # the JSON contract is unchanged


def test_an_override_of_a_node_the_graph_lacks_is_refused() -> None:
    async def passthrough(state: dict) -> dict:
        return {}

    with pytest.raises(ValueError, match="dispatch"):
        build_chat_graph(overrides={"activate": passthrough, "dispatch": passthrough})
