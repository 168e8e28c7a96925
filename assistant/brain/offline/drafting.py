"""Draft a workflow by filling a playbook's step template with the request's slots."""

from __future__ import annotations

import re
from typing import Any

from assistant.brain.offline.revision import email_step, slack_step
from assistant.policy import DoNotAutomate, Policy
from assistant.schemas import Slots, Source, Step, Trigger, WorkflowDraft
from knowledge.library import LibraryDoc

SLOT_PLACEHOLDER = re.compile(
    r"(?<!\{)\{(amount_threshold|currency|channel|email|approver_role|schedule)\}(?!\})"
)
SIGN_OFF = re.compile(r"\b(sign[- ]?off|approv\w*|authori[sz]\w*|green[- ]?light|ok'?d)\b", re.I)


def fill(value: Any, slots: dict[str, Any]) -> Any:
    """Replace ``{slot}`` placeholders in strings, lists and dicts; keep ``{{runtime}}`` ones."""
    if isinstance(value, str):
        whole = SLOT_PLACEHOLDER.fullmatch(value.strip())
        if whole and whole.group(1) == "amount_threshold":
            return slots.get("amount_threshold", value)
        return SLOT_PLACEHOLDER.sub(lambda m: format_slot(slots.get(m.group(1)), m.group(0)), value)
    if isinstance(value, list):
        return [fill(v, slots) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, slots) for k, v in value.items()}
    return value


def format_slot(value: Any, placeholder: str) -> str:
    """Render a slot value inside text (amounts with thousands separators)."""
    if value is None:
        return placeholder
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and "amount" in placeholder:
        return str(value)
    return str(value)


def template_steps(playbook: LibraryDoc, slots: dict[str, Any]) -> list[Step]:
    """Return the playbook's steps with slots filled."""
    steps = []
    for i, raw in enumerate(playbook.front.get("steps") or [], 1):
        data = fill(dict(raw), slots)
        data.setdefault("params", {})
        data["params"] = data["params"] or {}
        steps.append(Step.model_validate({"id": f"s{i}", **data}))
    return steps


def merged_slots(playbook: LibraryDoc | None, stated: Slots) -> dict[str, Any]:
    """Return the playbook's default slots overridden by what the user said."""
    defaults = dict((playbook.front.get("slots") or {}) if playbook else {})
    return {**defaults, **stated.stated()}


def draft_from_playbook(
    goal: str, playbook: LibraryDoc | None, stated: Slots, sources: list[Source], policy: Policy
) -> WorkflowDraft:
    """Draft a workflow for ``goal`` from ``playbook`` (or from the request alone)."""
    slots = merged_slots(playbook, stated)
    if playbook is not None:
        steps = template_steps(playbook, slots)
        trigger = Trigger.model_validate(playbook.front.get("trigger") or {"kind": "manual"})
        title = playbook.title
    else:
        steps = []
        trigger = Trigger(kind="manual", detail="Started by hand")
        title = short_title(goal)
    steps = add_requested(goal, steps, stated)
    steps = add_risky(goal, steps, policy)
    if stated.schedule:
        trigger = Trigger(kind="schedule", detail=stated.schedule)
    if not steps:
        steps = [
            Step(
                id="s1",
                title="Record the request for a person to handle",
                kind="human_task",
                approver_role=stated.approver_role or "manager",
            )
        ]
    draft = WorkflowDraft(
        title=title,
        goal=goal,
        playbook=playbook.slug if playbook else None,
        trigger=trigger,
        steps=steps,
        sources=sources,
    )
    return draft.sealed()


def add_requested(goal: str, steps: list[Step], stated: Slots) -> list[Step]:
    """Add what the request asks for that the template lacks: sign-off, Slack post, email."""
    steps = list(steps)
    role = stated.approver_role
    wants_sign_off = bool(role and SIGN_OFF.search(goal)) or stated.amount_threshold is not None
    has_role = any(s.kind == "approval" and s.approver_role == role for s in steps)
    if wants_sign_off and role and not has_role:
        at = first_action_after_condition(steps)
        approval = Step(id="new", title=f"Sign-off by {role}", kind="approval", approver_role=role)
        steps.insert(at, approval)
    if stated.amount_threshold is not None and not any(s.kind == "condition" for s in steps):
        shown = f"{stated.amount_threshold:,.0f}"
        at = next((i for i, s in enumerate(steps) if s.kind == "approval"), 0)
        condition = Step(
            id="new",
            title=f"Check the amount is over {shown} {stated.currency or ''}".strip(),
            kind="condition",
            condition=f"amount > {stated.amount_threshold}",
        )
        steps.insert(at, condition)
    if stated.channel and not any(s.connector == "slack" for s in steps):
        steps.append(slack_step(stated.channel, "Post a summary", text=summary_text(goal)))
    if stated.email and not any(
        s.connector == "email" and stated.email in str(s.params.get("to")) for s in steps
    ):
        steps.append(email_step(stated.email, subject=short_title(goal)))
    return steps


def first_action_after_condition(steps: list[Step]) -> int:
    """Return where a new approval belongs: after the first condition, else before actions."""
    for i, step in enumerate(steps):
        if step.kind == "condition":
            return i + 1
    for i, step in enumerate(steps):
        if step.kind == "action" and i > 0:
            return i
    return len(steps)


def add_risky(goal: str, steps: list[Step], policy: Policy) -> list[Step]:
    """Make a risky request's action explicit so policy can block or gate it visibly."""
    steps = list(steps)
    for pattern in policy.risky(goal):
        if any(pattern.matches(f"{s.title} {s.operation or ''}") for s in steps):
            continue
        steps.append(risky_step(pattern, goal))
    return steps


def risky_step(pattern: DoNotAutomate, goal: str) -> Step:
    """Return the action step a risky request asks for, as the policy will see it."""
    return Step(
        id="new",
        title=pattern.step_title,
        kind="action",
        connector="webhook",
        operation="post_json",
        params={
            "url": pattern.endpoint,
            "payload": {"request": goal[:500], "action": pattern.name},
        },
    )


def summary_text(goal: str) -> str:
    """Return the message a summary step posts."""
    return f"Update: {short_title(goal)} ({{{{workflow.run_summary}}}})"


def short_title(goal: str) -> str:
    """Return a short title for a workflow drafted without a playbook."""
    words = re.sub(r"\s+", " ", goal).strip().split(" ")
    title = " ".join(words[:8])
    title = title[:1].upper() + title[1:]
    return title.rstrip(".,;:!?") + ("…" if len(words) > 8 else "")
