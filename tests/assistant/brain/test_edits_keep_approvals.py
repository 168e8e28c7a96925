"""Edits through the chat never lower the approvals a draft needs; every drafted condition parses."""

from collections.abc import Iterator

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from assistant.db.users import MemoryDirectory
from assistant.schemas import Intent, ReviewResponse
from assistant.services import Services
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner
from tests.conftest import collect, of_type

WIRE = "wire $500,000 to our supplier Acme Corp for the March shipment"
USERS = {"ana": ["manager"], "bob": ["manager"], "carla": ["cfo"], "dan": ["ceo"]}


@pytest.fixture
def roles_runner(services: Services, action_log: ActionLog) -> Iterator[ChatRunner]:
    context = services.context()
    context.registry = ConnectorRegistry.sandboxed(action_log)
    context.directory = MemoryDirectory(USERS)
    yield ChatRunner(build_chat_graph(InMemorySaver()), context)


async def test_removing_steps_and_lowering_the_threshold_keeps_cfo_and_ceo(
    roles_runner: ChatRunner, action_log: ActionLog
) -> None:
    await collect(roles_runner.send_text("w1", WIRE, "ana"))
    assert {"cfo", "ceo"} <= set((await roles_runner.state("w1"))["required_roles"])
    edit = ReviewResponse(
        type="response",
        args="remove step 4; remove step 5; change the threshold to $500",
        user="ana",
    )
    edited = await collect(roles_runner.send_decision("w1", edit))
    state = await roles_runner.state("w1")
    assert state["workflow"]["version"] == 2
    description = of_type(edited, "review")[-1]["request"]["description"]
    assert "sign-off threshold (step 2) 500,000 → 500" in description
    assert {"cfo", "ceo"} <= set(state["required_roles"])
    manager = await collect(
        roles_runner.send_decision("w1", ReviewResponse(type="accept", user="bob"))
    )
    assert "still needs cfo, ceo" in of_type(manager, "message")[0]["text"]
    assert not of_type(manager, "dispatched")
    assert action_log.actions == []


async def test_removing_the_ceo_sign_off_is_called_out_in_the_review(
    roles_runner: ChatRunner,
) -> None:
    events = await collect(roles_runner.send_text("w2", WIRE, "ana"))
    steps = of_type(events, "draft")[-1]["workflow"]["steps"]
    ceo = next(i for i, s in enumerate(steps, 1) if s["approver_role"] == "ceo")
    edit = ReviewResponse(type="response", args=f"remove step {ceo}", user="ana")
    edited = await collect(roles_runner.send_decision("w2", edit))
    description = of_type(edited, "review")[-1]["request"]["description"]
    assert "Missing sign-off" in description and "no approval step for ceo" in description
    assert {"cfo", "ceo"} <= set((await roles_runner.state("w2"))["required_roles"])


async def test_every_playbook_drafts_conditions_that_parse(services: Services) -> None:
    for slug, playbook in services.brain.playbooks.items():  # type: ignore[attr-defined]
        intent = Intent(kind="automate", confidence=1.0)
        draft = await services.brain.draft_workflow(playbook.title, intent, [])
        verdict = services.policy.verdict(draft)
        problems = [s.blocked_reason for s in verdict.draft.steps if s.kind == "condition"]
        assert not any(problems), (slug, problems)
