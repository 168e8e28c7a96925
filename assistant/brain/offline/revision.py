"""Revise a workflow from plain-language instructions (the offline brain's edit language).

Understood instructions, several per message when separated by ";", a new line or "then":

- ``remove step 3`` / ``delete the last step`` / ``drop the slack step``
- ``rename step 2 to Notify the controller``
- ``move step 4 before step 2`` / ``move step 1 after step 3`` / ``move step 5 to the top``
- ``add an approval by legal before step 3`` (no position: before the first action)
- ``send it to #ops instead`` / ``change the channel to #ops``
- ``change the threshold to $5,000`` (the sign-off threshold; see ``thresholds``)
- ``also email ana@northwind.example``
- ``run it every Monday at 9am`` / ``change the schedule to daily``

Steps are named by number ("step 2", "s2", "the second step", "the last step") or by
connector ("the slack step", "the email step"). Anything else gets an explanation of
this list, never a silent no-op.
"""

from __future__ import annotations

import re

from assistant.brain.base import Revision
from assistant.brain.offline.slots import (
    extract_channel,
    extract_email,
    extract_role,
    extract_schedule,
)
from assistant.brain.offline.thresholds import change_threshold
from assistant.brain.offline.triggers import trigger_change
from assistant.policy import Policy, load_policy
from assistant.policy.amounts import extract_amount
from assistant.schemas import Step, Trigger, WorkflowDraft

HELP = (
    "I can change a draft with instructions like: 'remove step 3', 'rename step 2 to ...', "
    "'move step 4 before step 2', 'add an approval by legal before step 3', "
    "'send it to #ops instead', 'change the threshold to $5,000', "
    "'also email ana@northwind.example', or 'run it every Monday at 9am'."
)

ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
STEP_REF = (
    r"(?:step\s*#?\s*(?P<{n}num>\d+)|s(?P<{n}sid>\d+)|the\s+(?P<{n}ord>first|second|third|"
    r"fourth|fifth|sixth|seventh|eighth|ninth|tenth|last)\s+step|the\s+(?P<{n}conn>slack|email|"
    r"webhook|ticket|tickets|approval|condition)\s+step)"
)


def ref(name: str) -> str:
    """Return the step-reference pattern with group names prefixed by ``name``."""
    return STEP_REF.format(n=name)


REMOVE = re.compile(rf"\b(?:remove|delete|drop|get rid of|skip)\s+{ref('a')}", re.I)
RENAME = re.compile(rf"\b(?:rename|retitle|call)\s+{ref('a')}\s+(?:to|as)\s+(?P<title>.+)$", re.I)
MOVE = re.compile(
    rf"\bmove\s+{ref('a')}\s+(?:(?P<where>before|after|above|below)\s+{ref('b')}|"
    r"to\s+the\s+(?P<edge>top|start|beginning|front|end|bottom))",
    re.I,
)
ADD_APPROVAL = re.compile(
    r"\badd\s+(?:an?\s+)?(?:approval|sign[- ]?off|review)(?:\s+step)?\s+(?:by|from|for)\s+"
    r"(?P<who>.+?)(?:\s+(?P<where>before|after)\s+" + ref("b") + r")?\s*$",
    re.I,
)
CHANNEL_SWAP = re.compile(
    r"\b(?:(?:send|post|move|put)\s+(?:it|that|this|them|the (?:message|summary|alert|note))\s+"
    r"(?:to|in|into)|use|change\s+the\s+(?:slack\s+)?channel\s+to|switch\s+(?:to|the channel to))"
    r"\s+#[a-z]",
    re.I,
)
THRESHOLD = re.compile(
    r"\b(?:change|set|make|lower|raise|update|move|increase|decrease|drop)\s+(?:the\s+)?"
    r"(?:(?:amount|approval|sign[- ]?off|dollar)\s+)?(?:threshold|limit|amount)\s+(?:to|at)\b",
    re.I,
)
ALSO_EMAIL = re.compile(
    r"\b(?:also\s+(?:email|mail|send\s+(?:it|an email)\s+to|notify|cc)|(?:email|cc|notify)\s+"
    r"\S+@\S+\s+(?:too|as well)|add\s+an?\s+email\s+(?:step\s+)?to)\b",
    re.I,
)
SCHEDULE = re.compile(
    r"\b(?:run|schedule|trigger|change\s+the\s+schedule|make\s+it\s+run|set\s+the\s+schedule)\b",
    re.I,
)
PATTERNS = (REMOVE, RENAME, MOVE, ADD_APPROVAL, CHANNEL_SWAP, THRESHOLD, ALSO_EMAIL)


def looks_like_instruction(text: str) -> bool:
    """Tell whether ``text`` reads as an edit to an existing draft."""
    parts = split_instructions(text)
    return any(any(p.search(part) for p in PATTERNS) for part in parts) or any(
        SCHEDULE.search(part) and extract_schedule(part) and len(part.split()) <= 10
        for part in parts
    )


def split_instructions(text: str) -> list[str]:
    """Split a message into single instructions."""
    parts = re.split(r";|\n|\.\s+|,?\s+(?:and\s+)?then\s+|,\s+and\s+(?=\w+\s)", text)
    return [p.strip(" .,") for p in parts if p and p.strip(" .,")]


class InstructionError(ValueError):
    """Raised when an instruction names something the draft does not have."""


def revise(draft: WorkflowDraft, instruction: str, policy: Policy | None = None) -> Revision:
    """Apply every instruction in ``instruction`` to ``draft`` and return the new version.

    Example:
        >>> from assistant.schemas import Step, WorkflowDraft
        >>> wf = WorkflowDraft(title="t", goal="g", steps=[
        ...     Step(id="s1", title="Approve", kind="approval", approver_role="cfo"),
        ...     Step(id="s2", title="Notify", kind="action", connector="slack",
        ...          operation="post_message", params={"channel": "#finance", "text": "hi"}),
        ... ]).sealed()
        >>> new = revise(wf, "send it to #ops instead; remove step 1").draft
        >>> new.version, [s.title for s in new.steps], new.steps[0].params["channel"]
        (2, ['Notify'], '#ops')
    """
    policy = policy or load_policy()
    steps = [s.model_copy(deep=True) for s in draft.steps]
    trigger = draft.trigger.model_copy()
    changes: list[str] = []
    parts = split_instructions(instruction)
    if not parts:
        return Revision(None, problem=f"Tell me what to change. {HELP}")
    try:
        for part in parts:
            change, steps, trigger = apply_one(part, steps, trigger, policy)
            changes.append(change)
    except InstructionError as exc:
        return Revision(None, problem=str(exc))
    if not steps:
        return Revision(None, problem="That would leave the workflow with no steps.")
    return Revision(draft.next_version(steps=steps, trigger=trigger), changes=changes)


def apply_one(
    part: str, steps: list[Step], trigger: Trigger, policy: Policy
) -> tuple[str, list[Step], Trigger]:
    """Apply one instruction; return a description of the change and the new steps."""
    if match := RENAME.search(part):
        index = resolve(match, "a", steps)
        title = match["title"].strip().strip("'\"")
        old = steps[index].title
        steps[index] = steps[index].model_copy(update={"title": title})
        return f"renamed step {index + 1} from '{old}' to '{title}'", steps, trigger
    if match := MOVE.search(part):
        index = resolve(match, "a", steps)
        step = steps.pop(index)
        if match["edge"]:
            target = (
                0 if match["edge"].lower() in ("top", "start", "beginning", "front") else len(steps)
            )
        else:
            steps.insert(index, step)
            other = resolve(match, "b", steps)
            steps.pop(index)
            other = other - 1 if other > index else other
            target = other if match["where"].lower() in ("before", "above") else other + 1
        steps.insert(target, step)
        return f"moved '{step.title}' to position {target + 1}", steps, trigger
    if match := REMOVE.search(part):
        index = resolve(match, "a", steps)
        removed = steps.pop(index)
        return f"removed step {index + 1} '{removed.title}'", steps, trigger
    if match := ADD_APPROVAL.search(part):
        role = extract_role(match["who"]) or extract_role(part)
        if role is None:
            raise InstructionError(
                f"I don't know the role '{match['who'].strip()}'. Roles: cfo, ceo, controller, "
                "finance, manager, hr, legal, security, compliance, support_lead, it, sales_lead."
            )
        if match["bnum"] or match["bsid"] or match["bord"] or match["bconn"]:
            index = resolve(match, "b", steps)
            at = index if match["where"].lower() == "before" else index + 1
        else:
            at = next((i for i, s in enumerate(steps) if s.kind == "action"), 0)
        step = Step(id="new", title=f"Approval by {role}", kind="approval", approver_role=role)
        steps.insert(at, step)
        return f"added an approval by {role} at position {at + 1}", steps, trigger
    if CHANNEL_SWAP.search(part):
        channel = extract_channel(part)
        slack = [i for i, s in enumerate(steps) if s.connector == "slack"]
        if not slack:
            steps.append(slack_step(channel or "#general", "Post a summary"))
            return f"added a Slack post to {channel}", steps, trigger
        for i in slack:
            params = {**steps[i].params, "channel": channel}
            steps[i] = steps[i].model_copy(update={"params": params})
        return f"Slack messages now go to {channel}", steps, trigger
    if THRESHOLD.search(part):
        amount, _ = extract_amount(re.sub(r"^.*?\b(?:to|at)\b", "over", part, count=1))
        if amount is None:
            raise InstructionError("Which amount? For example: 'change the threshold to $5,000'.")
        return change_threshold(steps, amount, policy), steps, trigger
    if ALSO_EMAIL.search(part):
        address = extract_email(part)
        if address is None:
            raise InstructionError(
                "Which address? For example: 'also email ana@northwind.example'."
            )
        steps.append(email_step(address))
        return f"added an email to {address}", steps, trigger
    if SCHEDULE.search(part) and (schedule := extract_schedule(part)):
        change = trigger_change(trigger, schedule)
        return change, steps, Trigger(kind="schedule", detail=schedule)
    raise InstructionError(f"I didn't understand '{part}'. {HELP}")


def resolve(match: re.Match[str], name: str, steps: list[Step]) -> int:
    """Return the 0-based index of the step a reference names, or raise a clear error."""
    count = len(steps)
    number = match[f"{name}num"] or match[f"{name}sid"]
    if number:
        index = int(number) - 1
    elif ordinal := match[f"{name}ord"]:
        index = count - 1 if ordinal.lower() == "last" else ORDINALS[ordinal.lower()] - 1
    else:
        wanted = match[f"{name}conn"].lower()
        kinds = {"ticket": "tickets", "approval": "approval", "condition": "condition"}
        target = kinds.get(wanted, wanted)
        found = [i for i, s in enumerate(steps) if s.connector == target or s.kind == target]
        if len(found) != 1:
            what = "no" if not found else f"{len(found)}"
            raise InstructionError(
                f"There are {what} {wanted} steps; name the step by number, e.g. 'step 2'."
            )
        index = found[0]
    if not 0 <= index < count:
        raise InstructionError(f"There is no step {index + 1}; this draft has {count} steps.")
    return index


def slack_step(channel: str, title: str, text: str = "{{workflow.summary}}") -> Step:
    """Return a Slack post step."""
    return Step(
        id="new",
        title=f"{title} in {channel}",
        kind="action",
        connector="slack",
        operation="post_message",
        params={"channel": channel, "text": text},
    )


def email_step(address: str, subject: str = "Workflow update") -> Step:
    """Return an email step."""
    return Step(
        id="new",
        title=f"Email {address}",
        kind="action",
        connector="email",
        operation="send_email",
        params={"to": [address], "subject": subject, "body": "{{workflow.summary}}"},
    )
