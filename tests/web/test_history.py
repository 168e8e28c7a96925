"""Chat history: a reopened thread finds the messages that showed its pending draft and review."""

from pathlib import Path

import pytest

from assistant.schemas import ActionRequest, ReviewRequest
from assistant.settings import Settings
from assistant.web.history import (
    add_to_thread,
    build_data_layer,
    find_marked,
    marker,
    prepare_history,
)
from assistant.web.server import PROJECT_ROOT


def review(channel: str) -> ReviewRequest:
    args = {"workflow": {"title": "Weekly summary", "channel": channel}}
    action = ActionRequest(action="activate_workflow", args=args)
    return ReviewRequest(action_request=action, description="Approval needed from: manager.")


async def test_a_stored_review_message_is_found_only_for_the_review_still_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chainlit reads its config from its app root when first imported, as in server.py.
    monkeypatch.setenv("CHAINLIT_APP_ROOT", str(PROJECT_ROOT))
    import chainlit.data
    from chainlit.context import init_http_context

    settings = Settings(home=tmp_path)
    prepare_history(settings)
    layer = build_data_layer(settings)
    # Chainlit asks for "the" data layer; use this one, not the chat app's (which needs a
    # running server) when another test has already mounted the chat in this process.
    monkeypatch.setattr(chainlit.data, "_data_layer", layer)
    monkeypatch.setattr(chainlit.data, "_data_layer_initialized", True)
    init_http_context(thread_id="chat-1")  # the data layer writes within a Chainlit context
    for number, channel in enumerate(["#support", "#ops"]):
        await layer.create_step(
            {
                "id": f"review-{channel}",
                "threadId": "chat-1",
                "name": "Flowdraft",
                "type": "assistant_message",
                "output": "Approve, edit (or type a change), or reject:",
                "streaming": False,
                "createdAt": f"2025-01-01T00:00:0{number}Z",
                "metadata": marker("review", "chat-1", review(channel)),
            }
        )
    thread = await layer.get_thread("chat-1")
    assert thread is not None
    assert isinstance(thread["steps"][0]["metadata"], str)  # handed back as stored text

    assert find_marked(thread, marker("review", "chat-1", review("#ops"))) == "review-#ops"
    assert find_marked(thread, marker("review", "chat-1", review("#support"))) == "review-#support"
    assert find_marked(thread, marker("review", "chat-1", review("#it"))) is None  # changed since
    assert find_marked(thread, marker("review", "chat-2", review("#ops"))) is None  # another's
    assert find_marked(thread, marker("draft", "chat-1", review("#ops"))) is None  # not a review

    add_to_thread(thread, [{"id": "new"}], [{"id": "diagram"}])
    assert thread["steps"][-1] == {"id": "new"} and thread["elements"] == [{"id": "diagram"}]
    await layer.engine.dispose()
