"""One trace per chat turn: the turn's span, its nodes as children, the attributes that
tie it to the workflow version, the brain and the people."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from assistant.observability.journal import ObservedJournal
from assistant.services import Services, open_runner
from assistant.settings import ConnectorSettings
from tests.observability.conftest import named
from tests.support.live import services_with

GOAL = "Route vendor invoices above $10k to the CFO for sign-off and post a note in #finance"


async def test_a_draft_turn_is_one_trace_with_its_nodes_as_spans(
    services: Services, tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    built = services_with(services, tmp_path / "home", ConnectorSettings())
    built = dataclasses.replace(built, journal=ObservedJournal(built.engine))
    async with open_runner(built) as runner:
        events = [e async for e in runner.send_text("t-trace", GOAL, "ana")]
        [draft] = [e["workflow"] for e in events if e["type"] == "draft"]
        [e async for e in runner.send_text("t-other", "How long is the return window?", "bo")]

    finished = spans.get_finished_spans()
    turns = named(finished, "chat turn")
    assert len(turns) == 2
    assert len({t.context.trace_id for t in turns}) == 2  # one trace per turn
    turn = next(t for t in turns if t.attributes["flowdraft.thread"] == "t-trace")
    assert turn.parent is None
    assert turn.attributes["flowdraft.intent"] == "automate"
    assert turn.attributes["flowdraft.user"] == "ana"
    assert turn.attributes["flowdraft.brain"] == services.brain.name
    assert turn.attributes["flowdraft.model"] == "offline"

    nodes = [
        s for s in finished if s.parent is not None and s.parent.span_id == turn.context.span_id
    ]
    assert [s.name for s in sorted(nodes, key=lambda s: s.start_time or 0)] == [
        "capture_intent",
        "retrieve_context",
        "draft_workflow",
        "check_policy",
        "review",
    ]
    by_name = {s.name: s for s in nodes}
    assert all(s.context.trace_id == turn.context.trace_id for s in nodes)
    assert by_name["capture_intent"].attributes["flowdraft.intent"] == "automate"
    scores = by_name["retrieve_context"].attributes["flowdraft.top_scores"]
    assert scores and list(scores) == sorted(scores, reverse=True)
    assert "playbooks/invoice-triage.md" in by_name["retrieve_context"].attributes["flowdraft.docs"]
    policy = by_name["check_policy"].attributes
    assert policy["flowdraft.workflow_id"] == draft["id"]
    assert policy["flowdraft.version"] == 1
    assert policy["flowdraft.content_hash"] == draft["content_hash"]
    assert policy["flowdraft.risk"] in ("low", "medium", "high")
    assert by_name["review"].attributes["flowdraft.waits_for_review"] is True
    # The audit events the turn wrote are on its trace too.
    assert {"draft", "policy"} <= {e.name for e in turn.events}


async def test_a_review_answer_is_its_own_trace_naming_the_reviewer(
    services: Services, tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    built = services_with(services, tmp_path / "home", ConnectorSettings())
    async with open_runner(built) as runner:
        [e async for e in runner.send_text("t-review", GOAL, "ana")]
        spans.clear()
        [e async for e in runner.send_text("t-review", "reject", "ana")]

    [turn] = named(spans.get_finished_spans(), "chat turn")
    assert turn.attributes.get("flowdraft.intent") is None  # a decision, not a request
    [review] = named(spans.get_finished_spans(), "review")
    assert review.parent is not None and review.parent.span_id == turn.context.span_id
    assert review.attributes["flowdraft.decision"] == "ignore"
    assert review.attributes["flowdraft.user"] == "ana"


async def test_a_model_brain_turn_counts_its_tokens(
    services: Services, spans: InMemorySpanExporter
) -> None:
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage
    from langgraph.checkpoint.memory import InMemorySaver
    from prometheus_client import REGISTRY

    from assistant.brain.chat_model import ChatModelBrain
    from assistant.observability.turns import ObservedGraph
    from graphs.chat import build_chat_graph
    from graphs.runner import ChatRunner

    said = '{"kind": "chitchat", "confidence": 0.9}'
    usage = {"input_tokens": 120, "output_tokens": 30, "total_tokens": 150}
    model = FakeMessagesListChatModel(responses=[AIMessage(content=said, usage_metadata=usage)])
    context = services.context()
    context.brain = ChatModelBrain(model, fallback=services.brain, playbooks=[])
    runner = ChatRunner(ObservedGraph(build_chat_graph(InMemorySaver())), context)

    def spent(direction: str) -> float:
        return (
            REGISTRY.get_sample_value("flowdraft_model_tokens_total", {"direction": direction})
            or 0.0
        )

    before = spent("input"), spent("output")
    [e async for e in runner.send_text("t-tokens", "thanks, that's all!", "ana")]
    assert (spent("input") - before[0], spent("output") - before[1]) == (120, 30)
    [turn] = named(spans.get_finished_spans(), "chat turn")
    assert turn.attributes["flowdraft.intent"] == "chitchat"
    assert turn.attributes["flowdraft.model"] == "FakeMessagesListChatModel"
    assert (
        turn.attributes["flowdraft.input_tokens"],
        turn.attributes["flowdraft.output_tokens"],
    ) == (120, 30)
