"""Chat turns keep database I/O off the event loop (LangGraph Server, Slack acks share it).

Every SQL statement on the app database is caught as it runs: one run on the thread
that runs the event loop would have stalled every other request served by that loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from sqlalchemy import event

from assistant.runtime.memory import MemoryEngine
from assistant.schemas import ReviewResponse
from assistant.services import Services
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog
from graphs.runner import ChatRunner
from graphs.server import build_served_graph
from tests.conftest import collect, live_automations, of_type

GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"


class Statements:
    """The SQL statements run on the app database, split by whether a loop was running."""

    def __init__(self) -> None:
        self.on_loop: list[str] = []
        self.off_loop: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.off_loop.append(statement)
        else:
            self.on_loop.append(statement)


@pytest.fixture
def statements(services: Services) -> Iterator[Statements]:
    """Record every statement the session's database runs while the test does."""
    seen = Statements()
    event.listen(services.engine, "before_cursor_execute", seen)
    try:
        yield seen
    finally:
        event.remove(services.engine, "before_cursor_execute", seen)


async def test_served_draft_and_inbox_accept_do_no_sql_on_the_event_loop(
    services: Services, action_log: ActionLog, runs: MemoryEngine, statements: Statements
) -> None:
    context = services.context()
    context.registry = ConnectorRegistry.sandboxed(action_log)
    context.automations = live_automations(services, runs)
    graph = build_served_graph(lambda: context, checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "io1", "langgraph_auth_user_id": "ana"}}
    out = await graph.ainvoke({"messages": [{"type": "human", "content": GOAL}]}, config)
    assert out["workflow"]["version"] == 1
    accept = [{"type": "accept", "args": None}]
    out = await graph.ainvoke(Command(resume=accept), config)
    assert out["automation"] is not None and "is live" in out["message"]["text"]
    # The audit, versions and activation did reach the database, all from worker threads.
    assert any("audit" in s.lower() for s in statements.off_loop)
    assert statements.on_loop == []


async def test_channel_draft_and_decision_do_no_sql_on_the_event_loop(
    runner: ChatRunner, statements: Statements
) -> None:
    drafted = await collect(runner.send_text("io2", GOAL, "ana"))
    assert of_type(drafted, "review")
    done = await collect(runner.send_decision("io2", ReviewResponse(type="ignore", user="ana")))
    assert "nothing went live" in of_type(done, "message")[-1]["text"]
    # The claim on the review and the audit ran, in worker threads.
    assert any("claim" in s.lower() for s in statements.off_loop)
    assert statements.on_loop == []
