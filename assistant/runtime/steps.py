"""What an approved draft's steps need from an event, and which steps a condition guards.

Shared by activation (an automation's ``trigger.fields``), the run engines and the trigger
endpoints, so that an event is judged the same way wherever it arrives.

A ``{{path}}`` placeholder or a compared field is an *event field* unless an earlier step
produces it: an action's output is available under its step id (``{{s1.external_id}}``) and
under the noun of what it creates (``{{ticket.id}}`` after ``create_ticket``); an approval
leaves ``{{approval.approver}}``; a human task may fill in anything, so fields first used
after one are checked when their step runs, not when the event arrives.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import suppress
from typing import Any

from assistant.policy.conditions import ConditionError, comparisons, lookup, parse
from assistant.schemas import Step, WorkflowDraft

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)\s*\}\}")
CREATES: dict[str, str] = {"create_ticket": "ticket"}
"""The name an action's output is also known by, per operation."""


class MissingEventFields(ValueError):
    """Raised when an event lacks fields the automation's steps use; no run is started."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(f"the event has no value for {', '.join(fields)}")
        self.fields = fields


def placeholders(value: Any) -> Iterator[str]:
    """Yield every ``{{path}}`` in ``value`` (text, or lists and dicts of text), in order."""
    if isinstance(value, str):
        yield from (match[1] for match in PLACEHOLDER.finditer(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from placeholders(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from placeholders(item)


def step_fields(step: Step) -> list[str]:
    """Return the fields ``step`` reads: its placeholders and the fields its condition compares."""
    found = list(placeholders(step.params))
    if step.kind == "condition" and step.condition:
        # A condition that does not parse is refused at draft time; a run fails its step.
        with suppress(ConditionError):
            found += [c.field for c in comparisons(parse(step.condition))]
    return list(dict.fromkeys(found))


def produced_names(step: Step) -> set[str]:
    """Return the names under which ``step``'s result is available to later steps."""
    names = {step.id}
    if step.kind == "action" and step.operation in CREATES:
        names.add(CREATES[step.operation])
    if step.kind == "approval":
        names.add("approval")
    return names


def event_fields(draft: WorkflowDraft) -> list[str]:
    """Return the event fields the draft's steps use, in first-use order.

    Example:
        >>> from assistant.schemas import Step, WorkflowDraft
        >>> draft = WorkflowDraft(title="t", goal="g", steps=[
        ...     Step(id="s1", title="check", kind="condition", condition="invoice.amount > 10"),
        ...     Step(id="s2", title="post", kind="action", params={"text": "{{invoice.vendor}}"}),
        ... ])
        >>> event_fields(draft)
        ['invoice.amount', 'invoice.vendor']
    """
    fields: list[str] = []
    produced: set[str] = set()
    for step in draft.steps:
        if step.blocked_reason:
            continue  # a blocked step never runs, so the event need not feed it
        for field in step_fields(step):
            if field.split(".")[0] not in produced and field not in fields:
                fields.append(field)
        if step.kind == "human_task":
            break
        produced |= produced_names(step)
    return fields


def missing_fields(fields: list[str], event: Mapping[str, Any]) -> list[str]:
    """Return the ``fields`` ``event`` has no value for (absent or null)."""
    missing = []
    for field in fields:
        try:
            value = lookup(event, field)
        except ConditionError:
            missing.append(field)
            continue
        if value is None:
            missing.append(field)
    return missing


def check_event(fields: list[str], event: Mapping[str, Any]) -> None:
    """Raise ``MissingEventFields`` if ``event`` lacks any of ``fields``."""
    missing = missing_fields(fields, event)
    if missing:
        raise MissingEventFields(missing)


def guarded_steps(steps: list[Step], index: int) -> list[str]:
    """Return the ids of the steps the condition at ``index`` skips when it is false.

    A condition right before approvals is a sign-off threshold: it gates those approvals
    only ("amount > 10,000" then "CFO sign-off" skips the sign-off for a small invoice, and
    the summary after it still goes out). Any other condition is a filter: when it is false
    nothing after it runs ("keep only negative mentions", "check the return is eligible").
    """
    later = steps[index + 1 :]
    if later and later[0].kind == "approval":
        guarded = []
        for step in later:
            if step.kind != "approval":
                break
            guarded.append(step.id)
        return guarded
    return [step.id for step in later]
