"""The edit form for a draft: what it shows of each step, and what its message says after.

Each step row shows what users change most: where an action goes (channel, recipients, URL,
queue), a condition's threshold, the role that signs off or does a task; rows can be renamed,
moved and removed. What the form returns becomes an ``edit`` decision (``edited_steps``), so
policy checks it like any other edit.
"""

from __future__ import annotations

from typing import Any

import chainlit as cl

from assistant.review import setting_of
from assistant.schemas import WorkflowDraft

HINTS = {
    "channel": "#channel",
    "recipients": "name@example.com, …",
    "URL": "https://…",
    "queue": "queue name",
    "condition": "e.g. invoice.amount > 10000",
    "signs off": "role, e.g. cfo",
    "done by": "role, e.g. it",
}


def edit_form(draft: WorkflowDraft) -> cl.CustomElement:
    """Return the form over ``draft``'s steps (``public/elements/StepsForm.jsx``)."""
    rows = []
    for step in draft.steps:
        row: dict[str, Any] = {"id": step.id, "title": step.title, "kind": step.kind}
        setting = setting_of(step)
        if setting is not None:
            label, value = setting
            row["setting"] = {"label": label, "value": value, "hint": HINTS.get(label, "")}
        rows.append(row)
    return cl.CustomElement(name="StepsForm", props={"steps": rows, "version": draft.version})


def form_outcome(draft: WorkflowDraft, answer: Any) -> str:
    """Return what the form's message says once it is answered (instead of "Thanks")."""
    if not answer:
        return f"The edit of v{draft.version} timed out; nothing changed."
    if not answer.get("submitted"):
        return f"Edit of v{draft.version} cancelled; nothing changed."
    return f"You edited v{draft.version}; the new version follows."
