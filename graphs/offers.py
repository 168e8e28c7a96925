"""The value a review interrupt carries: the Agent Inbox ``ReviewRequest`` and its LangChain v1 twin.

Agent Inbox reads ``action_request``/``config``/``description`` (DESIGN.md's ``ReviewRequest``);
Agent Chat UI renders LangChain v1 human-in-the-loop requests (``action_requests`` and
``review_configs``, as ``langchain.agents.middleware.human_in_the_loop.HITLRequest``
defines them). One interrupt carries both; the channels and contract events only ever see
the ``ReviewRequest`` part (``review_request_of``).
"""

from __future__ import annotations

from typing import Any

from assistant.schemas import ReviewRequest

REQUEST_KEYS = ("action_request", "config", "description")
V1_DECISIONS = (
    ("allow_accept", "approve"),
    ("allow_edit", "edit"),
    ("allow_ignore", "reject"),
    ("allow_respond", "respond"),
)


def offered(request: ReviewRequest) -> dict[str, Any]:
    """Return the interrupt value for ``request``: its Agent Inbox shape plus the v1 keys.

    Each v1 action request also carries its args as ``arguments``, the key Agent Inbox reads
    when it finds ``action_requests``, so both clients show the same values.
    """
    value = request.model_dump(mode="json")
    action, config = value["action_request"], value["config"]
    value["action_requests"] = [
        {
            "name": action["action"],
            "args": action["args"],
            "arguments": action["args"],
            "description": value["description"],
        }
    ]
    value["review_configs"] = [
        {
            "action_name": action["action"],
            "allowed_decisions": [v1 for flag, v1 in V1_DECISIONS if config.get(flag)],
        }
    ]
    return value


def review_request_of(value: Any) -> Any:
    """Return the ``ReviewRequest`` part of an interrupt value (other values unchanged)."""
    if not isinstance(value, dict) or "action_request" not in value:
        return value
    return {key: value[key] for key in REQUEST_KEYS if key in value}
