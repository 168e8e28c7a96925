"""Activation checks the approval again: roles or policy changed after approval stop it."""

from typing import Any

from assistant.db.journal import MemoryJournal
from assistant.db.users import MemoryDirectory
from assistant.schemas import ReviewResponse
from connectors.sandbox import ActionLog
from graphs.context import Context
from graphs.runner import ChatRunner
from tests.conftest import collect, of_type

PAYMENT = "Vendor payments over $10,000: release the payment after CFO sign-off; post a summary in #finance"
SUMMARY = "Post the weekly ticket summary in #support"


class ChangeOnApproval(MemoryJournal):
    """A journal that runs ``change`` once the approval is recorded, just before activation."""

    def __init__(self, change: Any) -> None:
        super().__init__()
        self.change = change

    def event(
        self, name: str, *, actor: str, thread: str, content_hash: str = "", **data: Any
    ) -> None:
        super().event(name, actor=actor, thread=thread, content_hash=content_hash, **data)
        if name == "approved":
            self.change()


def runner_with(
    roles_runner: ChatRunner, roles_context: Context, journal: MemoryJournal
) -> ChatRunner:
    roles_context.journal = journal
    return ChatRunner(roles_runner.graph, roles_context)


async def test_a_role_revoked_between_approval_and_activation_stops_it(
    roles_runner: ChatRunner, roles_context: Context, action_log: ActionLog
) -> None:
    directory = roles_context.directory
    assert isinstance(directory, MemoryDirectory)
    journal = ChangeOnApproval(lambda: directory.users.update(carla=["finance"]))
    runner = runner_with(roles_runner, roles_context, journal)
    await collect(runner.send_text("r1", PAYMENT, "ana"))
    events = await collect(runner.send_decision("r1", ReviewResponse(type="accept", user="carla")))
    text = of_type(events, "message")[0]["text"]
    assert "Not activated: the current approvers no longer cover cfo" in text
    assert "ask again for a new draft" in text  # the thread is over: say what to do next
    assert not of_type(events, "activated")
    assert action_log.actions == [] and not of_type(events, "activated")
    assert "activation_refused" in [e["event"] for e in journal.events]


async def test_an_operation_blocked_after_approval_does_not_go_live(
    roles_runner: ChatRunner, roles_context: Context, action_log: ActionLog
) -> None:
    rules = roles_context.policy.policy
    journal = ChangeOnApproval(lambda: rules.blocked_operations.append("slack.post_message"))
    runner = runner_with(roles_runner, roles_context, journal)
    await collect(runner.send_text("r2", SUMMARY, "ana"))
    events = await collect(runner.send_decision("r2", ReviewResponse(type="accept", user="ana")))
    assert "Not activated: the policy marks changed" in of_type(events, "message")[0]["text"]
    assert action_log.actions == [] and not of_type(events, "activated")


async def test_a_higher_role_required_after_approval_stops_the_activation(
    roles_runner: ChatRunner, roles_context: Context, action_log: ActionLog
) -> None:
    rules = roles_context.policy.policy
    journal = ChangeOnApproval(lambda: rules.risk.update({"slack.post_message": "high"}))
    runner = runner_with(roles_runner, roles_context, journal)
    await collect(runner.send_text("r3", SUMMARY, "lee"))
    events = await collect(runner.send_decision("r3", ReviewResponse(type="accept", user="ana")))
    assert "Not activated" in of_type(events, "message")[0]["text"]
    assert action_log.actions == [] and not of_type(events, "activated")
