"""The ``chat --json`` channel: decisions name the version they were made on."""

import json
from typing import Any

from assistant.channels.jsonl import handle_line
from connectors.sandbox import ActionLog
from graphs.runner import ChatRunner


async def line(runner: ChatRunner, data: dict[str, Any]) -> list[dict[str, Any]]:
    return [e async for e in handle_line(runner, json.dumps(data).encode())]


async def test_a_decision_on_an_older_version_is_an_error_naming_the_current_one(
    runner: ChatRunner, action_log: ActionLog
) -> None:
    goal = {"text": "Post the weekly ticket summary in #support", "user": "ana", "thread": "j1"}
    v1 = next(e for e in await line(runner, goal) if e["type"] == "draft")["workflow"]
    change = {"text": "send it to #ops instead", "user": "ana", "thread": "j1"}
    v2 = next(e for e in await line(runner, change) if e["type"] == "draft")["workflow"]
    for stale in ({"content_hash": v1["content_hash"]}, {"version": 1}):
        decision = {"decision": {"type": "accept", **stale}, "user": "ana", "thread": "j1"}
        events = await line(runner, decision)
        assert [e["type"] for e in events] == ["error"]
        assert "v2 is current; review it and decide again" in events[0]["message"]
    assert action_log.actions == []
    bound = {"type": "accept", "content_hash": v2["content_hash"], "version": 2}
    done = await line(runner, {"decision": bound, "user": "ana", "thread": "j1"})
    assert [e["type"] for e in done][:1] == ["activated"]
    live = done[0]["automation"]
    assert live["version"] == 2 and live["content_hash"] == v2["content_hash"]


async def test_a_question_and_a_new_goal_beside_a_waiting_draft_are_answered_as_such(
    runner: ChatRunner,
) -> None:
    goal = {"text": "Post the weekly ticket summary in #support", "user": "ana", "thread": "j2"}
    await line(runner, goal)
    asked = await line(runner, {"text": "what can you do?", "user": "ana", "thread": "j2"})
    assert [e["type"] for e in asked] == ["intent", "message", "message"]
    assert all(e["thread"] == "j2" for e in asked)
    assert "v1 still waits for review" in asked[-1]["text"]
    other = {"text": "Route new support tickets to billing or tech queues", "user": "ana"}
    drafted = await line(runner, {**other, "thread": "j2"})
    assert [e["type"] for e in drafted] == ["intent", "draft", "review", "message"]
    new_thread = drafted[1]["thread"]
    assert new_thread != "j2" and drafted[2]["thread"] == new_thread
    assert drafted[3]["thread"] == "j2" and f"thread {new_thread}" in drafted[3]["text"]
    for thread in ("j2", new_thread):  # each review is answered where it waits
        done = await line(runner, {"decision": {"type": "ignore"}, "user": "ana", "thread": thread})
        assert "nothing went live" in done[-1]["text"]
