"""Translate the chat graph's updates into the events of the ``chat --json`` contract."""

from __future__ import annotations

from typing import Any

from graphs.offers import review_request_of

Event = dict[str, Any]


def progress_event(task: dict[str, Any]) -> Event:
    """Turn a LangGraph task start/result into a progress event with a short summary."""
    node = str(task.get("name", ""))
    if "result" not in task:
        return {"type": "progress", "node": node, "phase": "start", "summary": ""}
    result = task.get("result")
    update = dict(result) if isinstance(result, dict) else dict(result or [])
    return {"type": "progress", "node": node, "phase": "end", "summary": summarize(node, update)}


def summarize(node: str, update: dict[str, Any]) -> str:
    """Say in one line what a node found or did."""
    if node == "capture_intent" and update.get("intent"):
        intent = update["intent"]
        slots = ", ".join(f"{k}: {v}" for k, v in intent["slots"].items()) or "none stated"
        return f"intent {intent['kind']} ({intent['confidence']:.2f}); slots: {slots}"
    if node == "retrieve_context":
        found = [f"{p['title']} ({p['score']:.2f})" for p in update.get("passages") or []]
        return "sources: " + ("; ".join(found) or "none")
    if node == "draft_workflow" and update.get("workflow"):
        workflow = update["workflow"]
        return f"drafted '{workflow['title']}' with {len(workflow['steps'])} steps"
    if node == "check_policy":
        roles = ", ".join(update.get("required_roles") or []) or "any team member"
        blocked = sum(
            1 for s in (update.get("workflow") or {}).get("steps", []) if s.get("blocked_reason")
        )
        return f"risk {update.get('risk')}; approval from {roles}; {blocked} step(s) blocked"
    if node == "activate":
        automation = update.get("automation")
        return f"live as {automation['id']}" if automation else "not activated"
    if node == "send_reply":
        results = update.get("results") or []
        return ", ".join(f"{r['step_id']} {r['status']}" for r in results) or "nothing sent"
    return ""


def events_for(node: str, update: Any) -> list[Event]:
    """Translate one node's state update into contract events."""
    if node == "__interrupt__":
        return [{"type": "review", "request": review_request_of(item.value)} for item in update]
    if not isinstance(update, dict):
        return []
    events: list[Event] = []
    if node == "capture_intent":
        events.append({"type": "intent", "intent": update["intent"]})
    if node == "check_policy":
        events.append({"type": "draft", "workflow": update["workflow"]})
    if node == "activate" and update.get("automation"):
        events.append({"type": "activated", "automation": update["automation"]})
        if update.get("first_run"):
            events.append({"type": "run", "run": update["first_run"]})
    if node == "send_reply":
        events.append({"type": "dispatched", "results": update["results"]})
    message = update.get("message")
    if message:
        event: Event = {"type": "message", "text": message["text"]}
        if message.get("sources"):
            event["sources"] = message["sources"]
        events.append(event)
    return events
