"""The chat graph as LangGraph Server and its clients see it: schemas, inputs and resumes."""

from __future__ import annotations

import threading
from typing import Any

from langchain.agents.middleware.human_in_the_loop import HITLRequest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import TypeAdapter

from assistant.db.journal import MemoryJournal
from assistant.schemas import ReviewRequest
from graphs.chat import build_chat_graph
from graphs.context import Context
from graphs.offers import review_request_of
from graphs.runner import ChatRunner
from graphs.server import build_served_graph
from graphs.state import ChatState
from tests.conftest import collect, of_type


def test_pydantic_builds_the_state_schema() -> None:
    schema = TypeAdapter(ChatState).json_schema()
    assert "text" in schema["properties"]


def test_graph_publishes_input_and_output_schemas() -> None:
    graph = build_chat_graph()
    inputs: dict[str, Any] = graph.get_input_jsonschema()
    outputs: dict[str, Any] = graph.get_output_jsonschema()
    assert {"text", "thread", "user"} <= set(inputs["properties"])
    assert "message" in outputs["properties"]


GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"


def served(context: Context) -> Any:
    """Return the served graph bound to ``context``'s services, with in-memory checkpoints."""
    return build_served_graph(lambda: context, checkpointer=InMemorySaver())


def test_served_context_schema_is_json_settings_only(roles_context: Context) -> None:
    schema = served(roles_context).get_context_jsonschema()
    assert schema is not None
    assert not {"brain", "retriever", "registry", "policy"} & set(schema.get("properties", {}))


async def test_served_graph_runs_a_turn_with_a_json_context(roles_context: Context) -> None:
    graph = served(roles_context)
    config: Any = {"configurable": {"thread_id": "s1"}}
    out = await graph.ainvoke({"text": GOAL, "user": "ana", "thread": "s1"}, config, context={})
    assert out["workflow"]["version"] == 1
    assert out["__interrupt__"][0].value["action_request"]["action"] == "activate_workflow"


async def test_agent_chat_ui_messages_start_a_turn(
    roles_context: Context, journal: MemoryJournal
) -> None:
    graph = served(roles_context)
    config: Any = {
        "configurable": {"thread_id": "s2", "langgraph_auth_user_id": "ana"},
    }
    messages = [{"type": "human", "content": GOAL, "id": "m1"}]
    out = await graph.ainvoke({"messages": messages}, config)
    assert out["thread"] == "s2" and out["user"] == "ana"
    assert out["workflow"]["version"] == 1
    intent = next(e for e in journal.events if e["event"] == "intent")
    assert intent["actor"] == "ana" and intent["thread"] == "s2"


async def test_services_are_built_off_the_event_loop(roles_context: Context) -> None:
    built_in: list[int] = []

    def context_of() -> Context:
        built_in.append(threading.get_ident())
        return roles_context

    graph = build_served_graph(context_of, checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "s3"}}
    await graph.ainvoke({"text": "hello", "user": "ana", "thread": "s3"}, config)
    assert built_in and threading.get_ident() not in built_in


async def test_agent_chat_ui_sends_only_the_new_message_each_turn(roles_context: Context) -> None:
    graph = served(roles_context)
    config: Any = {"configurable": {"thread_id": "s4", "langgraph_auth_user_id": "ana"}}
    await graph.ainvoke({"messages": [{"type": "human", "content": GOAL}]}, config)
    change = [{"type": "human", "content": [{"type": "text", "text": "send it to #ops instead"}]}]
    out = await graph.ainvoke({"messages": change}, config)
    assert out["workflow"]["version"] == 2
    assert len(out["messages"]) == 2


async def test_replies_are_added_to_the_chat_messages(roles_context: Context) -> None:
    graph = served(roles_context)
    config: Any = {"configurable": {"thread_id": "s5"}}
    out = await graph.ainvoke({"messages": [{"type": "human", "content": "hello"}]}, config)
    assert [m["type"] for m in out["messages"]] == ["human", "ai"]
    assert out["messages"][-1]["content"] == out["message"]["text"]


async def test_a_review_offers_the_agent_inbox_and_the_v1_shapes(roles_context: Context) -> None:
    graph = served(roles_context)
    config: Any = {"configurable": {"thread_id": "s6"}}
    out = await graph.ainvoke({"text": GOAL, "user": "ana", "thread": "s6"}, config)
    value = out["__interrupt__"][0].value
    request = ReviewRequest.model_validate(review_request_of(value))
    assert TypeAdapter(HITLRequest).validate_python(value)  # Agent Chat UI's v1 request
    [action] = value["action_requests"]
    assert action["name"] == request.action_request.action == "activate_workflow"
    assert action["args"] == action["arguments"] == request.action_request.args
    assert action["description"] == request.description
    [review] = value["review_configs"]
    assert review == {
        "action_name": "activate_workflow",
        "allowed_decisions": ["approve", "edit", "reject", "respond"],
    }


async def test_channels_see_only_the_review_request_contract(roles_runner: ChatRunner) -> None:
    events = await collect(roles_runner.send_text("s7", GOAL, "ana"))
    [review] = of_type(events, "review")
    assert set(review["request"]) == {"action_request", "config", "description"}
    assert (await roles_runner.pending_review("s7")) is not None


async def test_a_decision_sent_straight_to_the_graph_claims_its_review(
    roles_context: Context, journal: MemoryJournal
) -> None:
    graph = served(roles_context)
    config: Any = {"configurable": {"thread_id": "s9"}}
    out = await graph.ainvoke({"text": GOAL, "user": "ana", "thread": "s9"}, config, context={})
    first = out["__interrupt__"][0].id
    change = [{"type": "response", "args": "send it to #ops instead", "user": "ana"}]
    out = await graph.ainvoke(Command(resume=change), config, context={})
    assert out["workflow"]["version"] == 2
    assert journal.claims == {f"s9:{first}": "ana"}
