"""The web chat names the steps of the chat graph as they run."""

from assistant.web.chat import STEP_NAMES
from graphs.chat import NODES


def test_every_named_step_is_a_node_of_the_chat_graph() -> None:
    nodes = {node.__name__ for node in NODES}
    assert set(STEP_NAMES) <= nodes
    assert "activate" in STEP_NAMES
