"""The terminal channel, driven by a scripted user."""

import re
from collections.abc import Callable, Iterator

import pytest
from rich.console import Console

from assistant.channels.terminal import TerminalChat
from assistant.schemas import ReviewRequest
from connectors.sandbox import ActionLog
from graphs.runner import ChatRunner


def scripted(*answers: str) -> tuple[list[str], Callable[[str], str]]:
    prompts: list[str] = []
    replies: Iterator[str] = iter(answers)

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(replies)
        except StopIteration:
            raise EOFError from None

    return prompts, ask


async def test_draft_edit_approve_in_the_terminal(
    runner: ChatRunner, action_log: ActionLog
) -> None:
    console = Console(record=True, width=200)
    prompts, ask = scripted(
        "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance",
        "e",
        "send it to #ops instead",
        "a",
        "quit",
    )
    await TerminalChat(runner, thread="term", user="ana", console=console, ask=ask).run()
    screen = console.export_text()
    assert "Vendor invoice triage — v1" in screen and "Vendor invoice triage — v2" in screen
    assert "slack.post_message → #ops" in screen
    assert re.search(r"live au_\w+ — Vendor invoice triage v2 \(/hooks/au_\w+\)", screen)
    assert "(approved by ana)" in screen
    assert prompts.count("[a]pprove / [e]dit / [r]eject") == 2
    assert action_log.actions == []  # live: events start runs, approval sends nothing


async def test_reject_makes_nothing_live(runner: ChatRunner, action_log: ActionLog) -> None:
    console = Console(record=True, width=200)
    _, ask = scripted("Route new support tickets to billing or tech queues", "r")
    await TerminalChat(runner, thread="term2", user="ana", console=console, ask=ask).run()
    assert "nothing went live" in console.export_text()
    assert action_log.actions == []


@pytest.mark.parametrize(
    ("typed", "outcome"), [("looks good", "approved by ana"), ("Reject.", "nothing went live")]
)
async def test_decisions_in_words_read_as_in_every_channel(
    runner: ChatRunner, typed: str, outcome: str
) -> None:
    console = Console(record=True, width=200)
    _, ask = scripted("Route new support tickets to billing or tech queues", typed, "quit")
    await TerminalChat(
        runner, thread=f"words-{len(typed)}", user="ana", console=console, ask=ask
    ).run()
    assert outcome in console.export_text()


async def test_a_decision_is_made_on_the_version_shown(
    runner: ChatRunner, action_log: ActionLog
) -> None:
    goal = "Post the weekly ticket summary in #support"
    first = [e async for e in runner.send_text("term3", goal, "ana")]
    shown = ReviewRequest.model_validate(next(e for e in first if e["type"] == "review")["request"])
    [_ async for _ in runner.send_text("term3", "send it to #ops instead", "ana")]
    console = Console(record=True, width=200)
    _, ask = scripted("a")
    await TerminalChat(runner, thread="term3", user="ana", console=console, ask=ask).review(shown)
    assert "v2 is current; review it and decide again" in console.export_text()
    assert action_log.actions == [] and await runner.pending_review("term3") is not None


GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"


async def test_quit_at_the_review_prompt_leaves_and_the_draft_keeps_waiting(
    runner: ChatRunner,
) -> None:
    console = Console(record=True, width=200)
    prompts, ask = scripted(GOAL, "quit")
    await TerminalChat(runner, thread="term4", user="ana", console=console, ask=ask).run()
    screen = console.export_text()
    assert "didn't understand" not in screen and "not understood" not in screen
    assert "flowdraft chat --thread term4" in screen
    assert prompts == ["you", "[a]pprove / [e]dit / [r]eject"]  # it left at once
    pending = await runner.pending_review("term4")
    assert pending is not None and pending.action_request.args["workflow"]["version"] == 1


async def test_resuming_a_thread_shows_the_draft_waiting_for_review(runner: ChatRunner) -> None:
    [_ async for _ in runner.send_text("term5", GOAL, "ana")]
    [_ async for _ in runner.send_text("term5", "send it to #ops instead", "ana")]
    console = Console(record=True, width=200)
    _, ask = scripted("quit")
    await TerminalChat(runner, thread="term5", user="ana", console=console, ask=ask).run()
    screen = console.export_text()
    assert "Vendor invoice triage — v2" in screen
    assert "slack.post_message → #ops" in screen
    assert "Note: v2: Slack messages now go to #ops" in screen


async def test_a_question_at_the_review_prompt_is_answered_and_the_review_asked_again(
    runner: ChatRunner,
) -> None:
    console = Console(record=True, width=200)
    prompts, ask = scripted(GOAL, "Which actions may never be automated?", "r")
    await TerminalChat(runner, thread="term6", user="ana", console=console, ask=ask).run()
    screen = console.export_text()
    assert "policies/do-not-automate.md" in screen
    assert "v1 still waits for review" in screen and "didn't understand" not in screen
    assert prompts.count("[a]pprove / [e]dit / [r]eject") == 2
    assert "nothing went live" in screen


async def test_a_new_goal_at_the_review_prompt_is_reviewed_on_its_own_thread(
    runner: ChatRunner,
) -> None:
    console = Console(record=True, width=200)
    _, ask = scripted(GOAL, "Route new support tickets to billing or tech queues", "r")
    await TerminalChat(runner, thread="term7", user="ana", console=console, ask=ask).run()
    screen = console.export_text()
    assert "still waits for review in thread term7" in screen
    assert await runner.pending_review("term7") is not None  # the first draft
    assert await runner.pending_review("term7+2") is None  # the new one, rejected
