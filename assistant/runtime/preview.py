"""A test run: what a draft would do with a sample event, before anyone activates it.

The draft runs on a private in-memory engine as a shadow run: conditions are evaluated on
the sample's values, placeholders rendered, approvals and tasks marked with who would be
asked (and taken as accepted so the rest of the run shows), and no action is performed.
"""

from __future__ import annotations

from typing import Any

from assistant.db.tables import utcnow
from assistant.policy.rules import Policy
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.models import Automation, AutomationTrigger, Run
from assistant.runtime.steps import event_fields
from assistant.schemas import WorkflowDraft

PREVIEWER = "(test run)"


async def preview(draft: WorkflowDraft, event: dict[str, Any], *, policy: Policy) -> Run:
    """Return the shadow run ``draft`` would make of ``event``; nothing is sent or stored.

    Raises ``MissingEventFields`` when the sample lacks a field the steps use, as a live
    automation would refuse it.
    """
    automation = Automation(
        id=f"preview_{draft.id}",
        workflow_id=draft.id,
        version=draft.version,
        content_hash=draft.content_hash or draft.compute_hash(),
        title=draft.title,
        status="shadow",
        trigger=AutomationTrigger(kind=draft.trigger.kind, fields=event_fields(draft)),
        owner=PREVIEWER,
        created_at=utcnow(),
    )
    engine = MemoryEngine(policy=policy)  # no users: nobody's role is in the way
    run = await engine.start(automation, draft, event)
    asked: dict[str, str] = {}
    while run.status == "waiting":
        waiting = next(step for step in run.steps if step.status == "waiting")
        asked[waiting.step_id] = waiting.detail.replace("waiting for", "would wait for")
        await engine.decide(run.id, waiting.step_id, user=PREVIEWER, accept=True)
        run = await engine.run(run.id)
    for step in run.steps:
        if step.step_id in asked:
            step.detail, step.output = asked[step.step_id], {}
    return run
