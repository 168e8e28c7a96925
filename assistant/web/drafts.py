"""How a draft and its review look in the browser: the steps table, diagram and buttons.

Steps are numbered 1, 2, 3 everywhere a user reads them. Who acts in each run (who signs
off, who does a task) is a column of its own; who must approve a version to make it live is
said once, with the review's buttons, which name the version they decide on.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import chainlit as cl

from assistant.changes import describe_changes
from assistant.diagram import workflow_svg
from assistant.rendering import code_span, literal, safe_markdown
from assistant.review import action_target, review_hash, review_version, who_in_each_run
from assistant.schemas import ReviewRequest, WorkflowDraft
from assistant.web.history import marker
from assistant.web.sandbox import sandbox_line
from assistant.web.sources import source_chips

RISK_BADGE = {"low": "low", "medium": "medium", "high": "**high**"}
DECISIONS = {"approve": "Approve", "edit": "Edit", "reject": "Reject"}


def steps_table(draft: WorkflowDraft, previous: WorkflowDraft | None = None) -> str:
    """Return the draft as markdown: a table of steps, then what blocks a step, in full.

    With ``previous`` (the version before), also say what changed since it.
    """
    lines = [
        f"### {literal(draft.title)} — v{draft.version}",
        f"*Trigger:* {draft.trigger.kind} — {literal(draft.trigger.detail)}",
        "",
    ]
    if previous is not None:
        changes = describe_changes(previous, draft) or ["nothing but policy's marks"]
        lines += [f"**What changed since v{previous.version}:**"]
        lines += [f"- {literal(change)}" for change in changes]
        lines.append("")
    lines += [
        "| step | title | does | risk | in each run | notes |",
        "|---|---|---|---|---|---|",
    ]
    for number, step in enumerate(draft.steps, 1):
        does = {
            "action": f"`{step.connector}.{step.operation}`{literal(action_target(step))}",
            "approval": "sign-off",
            "condition": f"if {code_span(step.condition or '')}",
            "human_task": "task for a person",
        }[step.kind]
        notes = []
        if step.blocked_reason:
            notes.append("**blocked** (see below)")
        if step.kind == "action" and step.approver_role:
            notes.append(f"going live needs {literal(step.approver_role)}")
        lines.append(
            f"| {number} | {literal(step.title)} | {does} | {RISK_BADGE[step.risk]} | "
            f"{literal(who_in_each_run(step))} | {'; '.join(notes)} |"
        )
    blocked = [(n, s) for n, s in enumerate(draft.steps, 1) if s.blocked_reason]
    if blocked:
        lines.append("")
        lines += [
            f"⛔ **Step {n} is blocked by policy and will not run:** {literal(s.blocked_reason or '')}"
            for n, s in blocked
        ]
    return "\n".join(lines)


def draft_elements(draft: WorkflowDraft) -> list[Any]:
    """Return the draft's diagram and source chips, to attach to the message showing it."""
    svg = base64.b64encode(workflow_svg(draft).encode()).decode()
    # A data URL rather than uploaded content: a reopened thread gets the diagram back from
    # its element dict alone, with no session file behind it (see ``resume``).
    elements: list[Any] = [
        cl.Image(
            name=f"workflow v{draft.version}",
            url=f"data:image/svg+xml;base64,{svg}",
            mime="image/svg+xml",
            display="inline",
            size="large",  # readable in the chat, without opening it
        )
    ]
    if draft.sources:
        elements.append(source_chips(draft.sources))
    return elements


def draft_message(
    draft: WorkflowDraft, graph_thread: str, previous: WorkflowDraft | None = None
) -> cl.Message:
    """Return the message showing ``draft`` of ``graph_thread``: table, diagram, sources."""
    return cl.Message(
        content=steps_table(draft, previous),
        elements=draft_elements(draft),
        metadata=marker("draft", graph_thread, draft),
    )


def review_actions(request: ReviewRequest, graph_thread: str) -> list[cl.Action]:
    """Return the Approve / Edit / Reject buttons for ``request`` of ``graph_thread``.

    Each carries the content hash of what it was shown with: pressed under an older
    version, it is refused rather than applied to the newer one. Labels name the version,
    and ids are the same wherever the review is offered, so ``retire`` can take them away
    once the review is decided.
    """
    content_hash = review_hash(request)
    version = review_version(request)
    payload = {"thread": graph_thread, "content_hash": content_hash}
    suffix = f" v{version}" if version is not None else ""
    return [
        cl.Action(
            id=button_id(graph_thread, content_hash, name),
            name=name,
            payload=payload,
            label=f"{label}{suffix}",
            tooltip=f"{label} version {version} ({content_hash[:8]})" if version else label,
        )
        for name, label in DECISIONS.items()
    ]


def button_id(graph_thread: str, content_hash: str, name: str) -> str:
    """Return the id of a review button: one per thread, version and decision."""
    digest = hashlib.sha256(f"{graph_thread}\n{content_hash}".encode()).hexdigest()[:24]
    return f"{name}-{digest}"


async def retire(graph_thread: str, content_hash: str) -> None:
    """Take the buttons of a decided (or superseded) review off the page."""
    for name in DECISIONS:
        action_id = button_id(graph_thread, content_hash, name)
        await cl.Action(id=action_id, name=name, payload={}).remove()


def review_message(request: ReviewRequest, graph_thread: str) -> cl.Message:
    """Return the message offering the buttons for ``request`` of ``graph_thread``."""
    notes = [
        line
        for line in request.description.splitlines()
        if line.startswith(("Approval needed", "Note:"))
    ]
    text = "\n".join(notes) or "Review the draft."
    return cl.Message(
        content=f"{safe_markdown(text)}\n\nApprove, edit (or type a change), or reject:",
        actions=review_actions(request, graph_thread),
        metadata=marker("review", graph_thread, request),
    )


def run_notes(run: dict[str, Any]) -> list[str]:
    """Return what a user must know about a run's steps: those only recorded in sandbox mode."""
    notes = []
    for number, step in enumerate(run.get("steps") or [], 1):
        line = sandbox_line(str(step.get("detail") or ""))
        if line:
            notes.append(f"Step {number} ({literal(str(step.get('title') or ''))}): {line}")
    return notes
