"""The chat graph as LangGraph Server and its clients see it: schemas, inputs and resumes."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from graphs.chat import build_chat_graph
from graphs.state import ChatState


def test_pydantic_builds_the_state_schema() -> None:
    schema = TypeAdapter(ChatState).json_schema()
    assert "text" in schema["properties"]


def test_graph_publishes_input_and_output_schemas() -> None:
    graph = build_chat_graph()
    inputs: dict[str, Any] = graph.get_input_jsonschema()
    outputs: dict[str, Any] = graph.get_output_jsonschema()
    assert {"text", "thread", "user"} <= set(inputs["properties"])
    assert "message" in outputs["properties"]
