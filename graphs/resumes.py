"""Read a review answer in the shapes review clients send, as one ``ReviewResponse`` dict.

Agent Inbox resumes with a list of one HumanResponse whose ``edit`` args are an
ActionRequest (``{action, args}``) with every edited value as a string, and sends no user;
LangChain v1 human-in-the-loop clients (Agent Chat UI) resume with ``{decisions: [...]}``.
"""

from __future__ import annotations

import json
from typing import Any

from langgraph.config import get_config

V1_TYPES = {"approve": "accept", "edit": "edit", "reject": "ignore", "respond": "response"}


def normalize_answer(answer: Any) -> Any:
    """Return ``answer`` as a ``ReviewResponse``-shaped dict; leave what is unreadable as is.

    What stays unreadable (an empty list, two answers at once) fails validation in the
    node, which refuses it and keeps the review open.
    """
    if isinstance(answer, dict) and isinstance(answer.get("decisions"), list):
        answer = v1_decision(answer["decisions"])
    if isinstance(answer, list) and len(answer) == 1:
        answer = answer[0]
    if not isinstance(answer, dict):
        return answer
    answer = dict(answer)
    if answer.get("type") == "edit":
        answer["args"] = edited_args(answer.get("args"))
    if not answer.get("user"):
        user = authenticated_user()
        if user:
            answer["user"] = user
    return answer


def v1_decision(decisions: list[Any]) -> Any:
    """Translate a one-element v1 ``decisions`` list into an Agent Inbox HumanResponse."""
    if len(decisions) != 1 or not isinstance(decisions[0], dict):
        return decisions
    decision = decisions[0]
    kind = V1_TYPES.get(str(decision.get("type")), decision.get("type"))
    answer: dict[str, Any] = {"type": kind, "args": None}
    if kind == "edit":
        action = decision.get("edited_action") or {}
        answer["args"] = action.get("args") if isinstance(action, dict) else action
    elif kind == "response":
        answer["args"] = decision.get("message")
    for key in ("user", "content_hash", "version"):
        if key in decision:
            answer[key] = decision[key]
    return answer


def edited_args(args: Any) -> Any:
    """Unwrap an ActionRequest and parse the JSON objects Agent Inbox sent as strings."""
    if (
        isinstance(args, dict)
        and set(args) == {"action", "args"}
        and isinstance(args["args"], dict)
    ):
        args = args["args"]
    if not isinstance(args, dict):
        return args
    return {key: parsed(value) for key, value in args.items()}


def parsed(value: Any) -> Any:
    """Return a string holding a JSON object or list as that value; anything else unchanged."""
    if not isinstance(value, str) or not value.strip().startswith(("{", "[")):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def authenticated_user() -> str | None:
    """Return the user LangGraph Server authenticated for this run, if any."""
    try:
        configurable = get_config().get("configurable") or {}
    except RuntimeError:  # called outside a run
        return None
    if configurable.get("langgraph_auth_user_id"):
        return str(configurable["langgraph_auth_user_id"])
    user = configurable.get("langgraph_auth_user")
    identity = getattr(user, "identity", None) or (
        user.get("identity") if isinstance(user, dict) else None
    )
    return str(identity) if identity else None
