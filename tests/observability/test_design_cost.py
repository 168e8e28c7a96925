"""The cost of a design in model tokens: stored on each draft, reported by the stats."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from assistant.brain.chat_model import ChatModelBrain
from assistant.observability.journal import ObservedJournal
from assistant.observability.stats import compute_stats
from assistant.observability.turns import ObservedGraph
from assistant.services import Services
from assistant.settings import ConnectorSettings
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner
from tests.support.live import services_with

GOAL = "Route vendor invoices above $10k to the CFO for sign-off and post a note in #finance"
INTENT = {"kind": "automate", "confidence": 0.9, "slots": {"channel": "#finance"}}
DRAFT = {
    "title": "Invoice approvals",
    "playbook": "invoice-triage",
    "trigger": {"kind": "event", "detail": "invoice arrives"},
    "steps": [
        {"title": "CFO sign-off", "kind": "approval", "approver_role": "cfo"},
        {
            "title": "Tell finance",
            "kind": "action",
            "connector": "slack",
            "operation": "post_message",
            "params": {"channel": "#finance", "text": "Invoice approved"},
        },
    ],
}


def said(answer: dict, spent_in: int, spent_out: int) -> AIMessage:
    """Return a model answer reporting the tokens it took."""
    usage = {
        "input_tokens": spent_in,
        "output_tokens": spent_out,
        "total_tokens": spent_in + spent_out,
    }
    return AIMessage(content=json.dumps(answer), usage_metadata=usage)


async def test_a_model_drafted_design_reports_the_tokens_it_took(
    services: Services, tmp_path: Path
) -> None:
    built = services_with(services, tmp_path / "home", ConnectorSettings())
    built = dataclasses.replace(built, journal=ObservedJournal(built.engine))
    model = FakeMessagesListChatModel(responses=[said(INTENT, 120, 30), said(DRAFT, 400, 200)])
    context = built.context()
    offline = built.brain
    playbooks = list(offline.playbooks.values())  # type: ignore[attr-defined]
    context.brain = ChatModelBrain(model, fallback=offline, playbooks=playbooks)
    runner = ChatRunner(ObservedGraph(build_chat_graph(InMemorySaver())), context)

    events = [e async for e in runner.send_text("t-cost", GOAL, "ana")]
    [draft] = [e["workflow"] for e in events if e["type"] == "draft"]
    assert draft["title"] == "Invoice approvals"  # the model drafted it, not the fallback

    cost = compute_stats(built.engine, brain="openai:gpt-4o-mini")["cost_per_design"]
    assert cost == {
        "brain": "openai:gpt-4o-mini",
        "tokens": 750.0,
        "input_tokens": 520.0,
        "output_tokens": 230.0,
        "designs": 1,
    }


async def test_an_offline_design_costs_no_tokens(services: Services, tmp_path: Path) -> None:
    built = services_with(services, tmp_path / "home", ConnectorSettings())
    built = dataclasses.replace(built, journal=ObservedJournal(built.engine))
    runner = ChatRunner(ObservedGraph(build_chat_graph(InMemorySaver())), built.context())
    [e async for e in runner.send_text("t-offline", GOAL, "ana")]

    cost = compute_stats(built.engine)["cost_per_design"]
    assert cost == {"brain": "offline", "tokens": 0}
