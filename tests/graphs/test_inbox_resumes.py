"""Resumes exactly as Agent Inbox and LangChain v1 HITL clients send them, through the served graph."""

from __future__ import annotations

import json
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from assistant.db.journal import MemoryJournal
from graphs.context import Context
from graphs.server import build_served_graph

GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"


def config(thread: str, user: str) -> Any:
    return {"configurable": {"thread_id": thread, "langgraph_auth_user_id": user}}


async def drafted(context: Context, thread: str) -> tuple[Any, dict[str, Any]]:
    """Return the served graph and the review request of a fresh draft on ``thread``."""
    graph = build_served_graph(lambda: context, checkpointer=InMemorySaver())
    out = await graph.ainvoke(
        {"text": GOAL, "user": "ana", "thread": thread}, config(thread, "ana")
    )
    return graph, out["__interrupt__"][0].value


async def test_agent_inbox_accept_list_uses_the_authenticated_user(
    roles_context: Context, journal: MemoryJournal
) -> None:
    graph, _ = await drafted(roles_context, "i1")
    out = await graph.ainvoke(
        Command(resume=[{"type": "accept", "args": None}]), config("i1", "carla")
    )
    assert out["automation"]["status"] == "active"
    assert "__interrupt__" not in out
    approved = next(e for e in journal.events if e["event"] == "approved")
    assert approved["actor"] == "carla"


async def test_agent_inbox_edit_with_string_values_makes_the_edited_version(
    roles_context: Context,
) -> None:
    graph, request = await drafted(roles_context, "i2")
    workflow = request["action_request"]["args"]["workflow"]
    edited = {**workflow, "title": "Invoice sign-off", "steps": workflow["steps"][:2]}
    args = {key: json.dumps(value) for key, value in request["action_request"]["args"].items()}
    args["workflow"] = json.dumps(edited)
    resume = [{"type": "edit", "args": {"action": "activate_workflow", "args": args}}]
    out = await graph.ainvoke(Command(resume=resume), config("i2", "ana"))
    assert out["workflow"]["version"] == 2 and out["workflow"]["title"] == "Invoice sign-off"
    assert len(out["workflow"]["steps"]) == 2


async def test_agent_inbox_response_and_ignore(roles_context: Context) -> None:
    graph, _ = await drafted(roles_context, "i3")
    out = await graph.ainvoke(
        Command(resume=[{"type": "response", "args": "send it to #ops instead"}]),
        config("i3", "ana"),
    )
    assert out["workflow"]["version"] == 2
    out = await graph.ainvoke(
        Command(resume=[{"type": "ignore", "args": None}]), config("i3", "ana")
    )
    assert "nothing went live" in out["message"]["text"] and "__interrupt__" not in out


async def test_a_malformed_resume_keeps_the_review_open_and_does_not_poison_it(
    roles_context: Context,
) -> None:
    graph, _ = await drafted(roles_context, "i4")
    two = [{"type": "accept", "args": None}, {"type": "ignore", "args": None}]
    out = await graph.ainvoke(Command(resume=two), config("i4", "carla"))
    assert "not understood" in out["message"]["text"] and out["__interrupt__"]
    out = await graph.ainvoke(
        Command(resume=[{"type": "accept", "args": None}]), config("i4", "carla")
    )
    assert out["automation"]["status"] == "active"


async def test_v1_decisions_approve_and_edit(roles_context: Context) -> None:
    graph, request = await drafted(roles_context, "i5")
    workflow = request["action_request"]["args"]["workflow"]
    edited = {**workflow, "title": "Renamed", "steps": workflow["steps"][:2]}
    decision = {
        "type": "edit",
        "edited_action": {"name": "activate_workflow", "args": {"workflow": edited}},
    }
    out = await graph.ainvoke(Command(resume={"decisions": [decision]}), config("i5", "ana"))
    assert out["workflow"]["title"] == "Renamed"
    out = await graph.ainvoke(
        Command(resume={"decisions": [{"type": "approve"}]}), config("i5", "carla")
    )
    assert out["automation"]["status"] == "active"
