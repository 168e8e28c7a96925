"""Build review requests (Agent Inbox shape), bind decisions to them, apply reviewers' edits."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import ValidationError

from assistant.rendering import literal, safe_markdown
from assistant.schemas import (
    ActionRequest,
    ReplyDraft,
    ReviewConfig,
    ReviewRequest,
    ReviewResponse,
    Step,
    Ticket,
    Trigger,
    WorkflowDraft,
)

ACTIVATE_ACTION = "activate_workflow"
SEND_REPLY_ACTION = "send_reply"
EDITABLE = ("title", "trigger", "steps")


TARGETS = ("channel", "to", "url", "queue")
"""The params that say where an action goes, in the order they are looked for."""
TARGET_LABELS = {"channel": "channel", "to": "recipients", "url": "URL", "queue": "queue"}
_STEP_ID = re.compile(r"\b(?:([Ss])teps? )?(s\d+)\b")


def target_key(step: Step) -> str | None:
    """Return the param that says where an action goes (``channel``, ``to``...), if any."""
    return next((key for key in TARGETS if step.params.get(key)), None)


def target_text(step: Step) -> str:
    """Return where an action goes as text: a channel, recipients, a URL or a queue."""
    key = target_key(step)
    target = step.params.get(key) if key else ""
    if isinstance(target, list):
        return ", ".join(str(t) for t in target)
    return str(target or "")


def action_target(step: Step) -> str:
    """Return where an action goes, as `` → target`` (empty when it names none)."""
    target = target_text(step)
    return f" → {target}" if target else ""


def step_numbers(text: str, draft: WorkflowDraft) -> str:
    """Return ``text`` with the draft's step ids ("s7", "step s7") as the numbers users read.

    Tables and lists number steps from 1 in the order they run; ids are internal.
    """
    numbers = {step.id: index for index, step in enumerate(draft.steps, 1)}

    def number(match: re.Match[str]) -> str:
        found = numbers.get(match.group(2))
        if found is None:
            return match.group(0)
        return f"{match.group(1) or 's'}tep {found}"

    return _STEP_ID.sub(number, text)


def who_in_each_run(step: Step) -> str:
    """Return who acts on each run for a sign-off or a task ("" for other steps)."""
    if step.kind == "approval":
        return f"{step.approver_role or 'anyone'} signs off"
    if step.kind == "human_task":
        return f"{step.approver_role or 'a person'} does it"
    return ""


def describe_step(step: Step, number: int) -> str:
    """Return one markdown line for the step shown as ``number``."""
    what = {
        "action": f"{step.connector}.{step.operation}{action_target(step)}",
        "approval": f"in each run, {who_in_each_run(step)}",
        "condition": f"if {step.condition}",
        "human_task": f"in each run, {who_in_each_run(step)}",
    }[step.kind]
    flags = [f"risk {step.risk}"]
    if step.kind == "action" and step.approver_role:
        flags.append(f"going live needs {step.approver_role}")
    line = f"{number}. **{literal(step.title)}** — {literal(what)} ({', '.join(flags)})"
    if step.blocked_reason:
        line += f"\n   - BLOCKED: {literal(step.blocked_reason)}"
    return line


def describe_workflow(
    draft: WorkflowDraft, notice: str | None = None, roles: list[str] | None = None
) -> str:
    """Return the markdown a reviewer reads before deciding."""
    title, goal = literal(draft.title), literal(draft.goal)
    lines = [f"### {title} (v{draft.version})", "", f"Goal: {goal}", ""]
    lines.append(f"Trigger: {draft.trigger.kind} — {literal(draft.trigger.detail)}".rstrip(" —"))
    lines.append("")
    lines.extend(describe_step(step, number) for number, step in enumerate(draft.steps, 1))
    live = f"Approval needed to make v{draft.version} live"
    if roles:
        lines += ["", f"{live}: {', '.join(roles)}."]
    elif roles is not None:
        lines += ["", f"{live}: any team member (low risk)."]
    blocked = [f"step {n}" for n, s in enumerate(draft.steps, 1) if s.blocked_reason]
    if blocked:
        lines.append(f"Blocked by policy (will not run): {', '.join(blocked)}.")
    if draft.sources:
        lines += ["", "Sources: " + "; ".join(f"{s.title} ({s.doc})" for s in draft.sources)]
    if notice:
        lines += ["", f"Note: {safe_markdown(step_numbers(notice, draft))}"]
    return "\n".join(lines)


def workflow_review(
    draft: WorkflowDraft, notice: str | None = None, roles: list[str] | None = None
) -> ReviewRequest:
    """Return the review request asking to make ``draft`` a live automation."""
    return ReviewRequest(
        action_request=ActionRequest(
            action=ACTIVATE_ACTION,
            args={"workflow": draft.model_dump(mode="json")},
        ),
        config=ReviewConfig(),
        description=describe_workflow(draft, notice, roles),
    )


def reply_review(ticket: Ticket, reply: ReplyDraft) -> ReviewRequest:
    """Return the review request asking to send ``reply`` to the ticket's customer."""
    cited = "; ".join(f"{c.title} ({c.doc})" for c in reply.citations) or "none"
    description = (
        f"### Reply to ticket {literal(ticket.id)}: {literal(ticket.subject)}\n\n"
        f"Route: {reply.route}, confidence {reply.confidence:.2f}, "
        f"{reply.triage.category}/{reply.triage.priority}\n\n{safe_markdown(reply.body)}\n\n"
        f"Sources: {cited}"
    )
    return ReviewRequest(
        action_request=ActionRequest(
            action=SEND_REPLY_ACTION,
            args={"ticket": ticket.model_dump(mode="json"), "reply": reply.model_dump(mode="json")},
        ),
        config=ReviewConfig(allow_respond=False),
        description=description,
    )


def review_hash(request: ReviewRequest) -> str:
    """Return the content hash of what ``request`` shows: its workflow version's, else its args'."""
    workflow = request.action_request.args.get("workflow")
    if isinstance(workflow, dict) and workflow.get("content_hash"):
        return str(workflow["content_hash"])
    canonical = json.dumps(
        request.action_request.args, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def review_version(request: ReviewRequest) -> int | None:
    """Return the workflow version ``request`` shows (None when it is not about a workflow)."""
    workflow = request.action_request.args.get("workflow")
    version = workflow.get("version") if isinstance(workflow, dict) else None
    return int(version) if isinstance(version, int) else None


def stale_reason(request: ReviewRequest, decision: ReviewResponse) -> str | None:
    """Return why ``decision`` was not made on what ``request`` shows, or None if it was.

    A decision that names no hash and no version answers whatever is pending.
    """
    version = review_version(request)
    same_hash = decision.content_hash is None or decision.content_hash == review_hash(request)
    same_version = decision.version is None or decision.version == version
    if same_hash and same_version:
        return None
    if version is None:
        return "That decision was made on another draft than the one under review; review it and decide again."
    seen = f" (v{decision.version})" if decision.version and decision.version != version else ""
    return (
        f"That decision was made on another version{seen}: v{version} is current; "
        "review it and decide again."
    )


class EditError(ValueError):
    """Raised when a reviewer's edit does not describe a valid workflow."""


def apply_edit(draft: WorkflowDraft, args: dict[str, Any]) -> WorkflowDraft:
    """Return the next version of ``draft`` with the edited title, trigger or steps.

    ``args`` is the edited action args: ``{"workflow": {...}}`` or the fields themselves.
    """
    edited = args.get("workflow", args)
    if not isinstance(edited, dict):
        raise EditError("an edit needs the edited workflow as an object")
    unknown = sorted(set(edited) - set(WorkflowDraft.model_fields))
    if unknown:
        raise EditError(f"unknown fields in the edit: {', '.join(unknown)}")
    changes: dict[str, Any] = {}
    try:
        if "title" in edited:
            title = str(edited["title"]).strip()
            if not title:
                raise EditError("the title cannot be empty")
            changes["title"] = title
        if "trigger" in edited:
            changes["trigger"] = Trigger.model_validate(edited["trigger"])
        if "steps" in edited:
            raw_steps = edited["steps"]
            if not isinstance(raw_steps, list) or not raw_steps:
                raise EditError("a workflow needs at least one step")
            changes["steps"] = [
                Step.model_validate({"id": f"s{i}", **step}) for i, step in enumerate(raw_steps, 1)
            ]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EditError(f"invalid edit at {where}: {first['msg']}") from None
    current = {k: getattr(draft, k) for k in EDITABLE}
    proposed = {**current, **changes}
    if all(proposed[k] == current[k] for k in EDITABLE):
        raise EditError("the edit changes nothing")
    return draft.next_version(**changes)


def edited_steps(
    current: WorkflowDraft, submitted: list[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """Return the full step list after a form's edits, or None if it changes nothing.

    ``submitted`` lists the steps kept, in their new order, as ``{"id", "title"}`` plus,
    optionally, ``"setting"``: the new value of what the form shows for that step (where an
    action goes, a condition, the role that signs off or does a task). A step missing from
    it is removed. The result is what an ``edit`` decision carries as its steps; policy
    checks it like any other edit.
    """
    by_id = {s.id: s for s in current.steps}
    steps = []
    for item in submitted:
        original = by_id.get(str(item.get("id")))
        if original is None:
            continue
        title = str(item.get("title") or original.title).strip() or original.title
        step = original.model_dump(mode="json", exclude={"id", "risk", "blocked_reason"})
        step["title"] = title
        if "setting" in item:
            apply_setting(original, step, str(item.get("setting") or "").strip())
        steps.append(step)
    before = [
        s.model_dump(mode="json", exclude={"id", "risk", "blocked_reason"}) for s in current.steps
    ]
    return None if steps == before or not steps else steps


def setting_of(step: Step) -> tuple[str, str] | None:
    """Return what the edit form lets a user change on ``step``: (label, current value)."""
    if step.kind == "action":
        key = target_key(step) or next((k for k in TARGETS if k in step.params), None)
        return (TARGET_LABELS[key], target_text(step)) if key else None
    if step.kind == "condition":
        return "condition", step.condition or ""
    return ("signs off" if step.kind == "approval" else "done by"), step.approver_role or ""


def apply_setting(original: Step, step: dict[str, Any], value: str) -> None:
    """Write a form's new ``value`` for ``original``'s setting into the step dict ``step``."""
    if original.kind == "action":
        key = target_key(original) or next((k for k in TARGETS if k in original.params), None)
        if key is None:
            return
        was = original.params.get(key)
        parts = [part.strip() for part in value.split(",") if part.strip()]
        step["params"] = {**step["params"], key: parts if isinstance(was, list) else value}
    elif original.kind == "condition":
        step["condition"] = value or None
    else:
        step["approver_role"] = value or None
