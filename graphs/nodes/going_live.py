"""Nodes after the review: make an approved version live, and test-run a draft on a sample.

Approval never performs the steps itself: the version becomes a live automation and every
trigger event starts a run (``graphs.automations``, ``assistant.runtime``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from langgraph.runtime import Runtime

from assistant.schemas import WorkflowDraft
from graphs.automations import Activated, ActivationRefused
from graphs.context import Context
from graphs.decisions import requesters_of
from graphs.nodes.common import current_workflow, message, record
from graphs.samples import example_request
from graphs.state import ChatState

MAX_VALUE_CHARS = 160


async def activate(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Check the approval again, then make the approved version a live automation."""
    context = runtime.context
    draft = current_workflow(state)
    thread = state["thread"]
    approvals = list(state.get("approvals") or [])
    approvers = list(dict.fromkeys(str(a["user"]) for a in approvals))
    # The recheck reads the users' roles from the database: off the event loop.
    refusal = await asyncio.to_thread(recheck, state, context, draft, approvals)
    if refusal is None and context.automations is None:
        refusal = "this server has no automation runtime configured"
    if refusal is None and context.automations is not None:
        try:
            activated = await context.automations.activate(
                draft,
                approvals=approvers,
                owner=state.get("requester") or approvers[0],
                thread=thread,
                inputs=dict(state.get("sample_event") or {}),
            )
        except ActivationRefused as exc:
            refusal = str(exc)
        else:
            return {
                "automation": activated.automation,
                "first_run": activated.run,
                "approved_by": ", ".join(approvers),
                "message": message(live_text(draft, activated, approvers)),
            }
    await record(
        context.journal,
        "activation_refused",
        actor="policy",
        thread=thread,
        content_hash=draft.content_hash,
        reason=refusal,
    )
    return {
        "automation": None,
        "first_run": None,
        "message": message(
            f"Not activated: {refusal}. Nothing went live; ask again for a new draft "
            "to review it with today's roles and policy."
        ),
    }


def recheck(
    state: ChatState, context: Context, draft: WorkflowDraft, approvals: list[dict[str, Any]]
) -> str | None:
    """Return why the approved draft may not go live now, or None if it may."""
    verdict = context.policy.verdict(draft)
    if verdict.draft.content_hash != draft.content_hash:
        return "the policy marks changed since this version was approved; review it again"
    if not approvals or any(a.get("content_hash") != draft.content_hash for a in approvals):
        return "there is no approval for this exact version (content hash)"
    if context.directory.is_open():
        return None
    current = [
        (str(a["user"]), context.directory.roles_of(str(a["user"])) or []) for a in approvals
    ]
    return context.policy.approvals_suffice(verdict, current, requesters_of(state))


def live_text(draft: WorkflowDraft, activated: Activated, approvers: list[str]) -> str:
    """Say what approval did: the automation is live, where its events go, what comes next."""
    automation = activated.automation
    who = ", ".join(approvers) or "a reviewer"
    text = (
        f"{draft.title} v{draft.version} is live as automation {automation['id']} "
        f"(approved by {who})"
    )
    if activated.hook_url:
        text += f"; send {event_noun(automation)} to {activated.hook_url}"
    text += "."
    run = activated.run
    if run is not None:
        text += f" Its first run {run['id']} is {run['status']}."
    for note in activated.notes:
        text += f" {note[0].upper()}{note[1:]}."
    return text


def event_noun(automation: dict[str, Any]) -> str:
    """Name what the automation's events are, from the fields its steps read ("invoices")."""
    roots = [str(f).split(".")[0] for f in automation.get("trigger", {}).get("fields") or []]
    if not roots:
        return "events"
    root = max(dict.fromkeys(roots), key=roots.count).replace("_", " ")
    if root.endswith("y") and not root.endswith(("ay", "ey", "oy", "uy")):
        return root[:-1] + "ies"
    return root if root.endswith("s") else root + "s"


async def test_run(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Show which steps the draft would run on the sample event, with their rendered values."""
    context = runtime.context
    draft = current_workflow(state)
    sample = dict(state.get("sample_event") or {})
    if context.automations is None:
        return {"message": message("Test runs need the automation runtime, which is not set up.")}
    try:
        run = await context.automations.test_run(draft, sample)
    except ActivationRefused as exc:
        return {
            "message": message(
                f"No test run: {exc}. Give the values, e.g. `{example_request(draft)}`."
            )
        }
    await record(
        context.journal,
        "test_run",
        actor=state.get("user", "anonymous"),
        thread=state["thread"],
        content_hash=draft.content_hash,
        status=run["status"],
    )
    return {"message": message(test_run_text(draft, run, sample))}


def test_run_text(draft: WorkflowDraft, run: dict[str, Any], sample: dict[str, Any]) -> str:
    """Render a test run step by step: status, rendered input and what it would do."""
    lines = [
        f"Test run of {draft.title} v{draft.version} on {compact(sample)} "
        "(nothing was sent; the review is still open):"
    ]
    for number, step in enumerate(run["steps"], start=1):
        line = f"{number}. {step['title']}: {test_step_outcome(step)}"
        if step.get("input") and step["kind"] == "action":
            line += f"; input {compact(step['input'])}"
        lines.append(line)
    lines.append(f"The run would end {run['status']}.")
    return "\n".join(lines)


def test_step_outcome(step: dict[str, Any]) -> str:
    """Say what a step of a test run would do, in the words a reviewer expects."""
    status, detail = step["status"], str(step.get("detail") or "")
    if status == "ok" and step["kind"] == "action":
        return "would run"
    if status == "ok" and detail.startswith("would wait for"):
        return detail
    if status == "ok" and step["kind"] == "condition":
        return detail or "holds"
    reason = detail.removeprefix(f"{status}: ")
    return f"{status}: {reason}" if reason else status


def compact(value: Any) -> str:
    """Return ``value`` as short one-line JSON."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"
