"""Reverting to an earlier version puts its content back up for review, never live."""

from __future__ import annotations

import uuid

from assistant.db.versions import get_version
from assistant.review import review_hash, review_version
from assistant.runtime import store
from assistant.runtime.activation import activate
from assistant.schemas import ReviewResponse
from assistant.services import Services
from assistant.web.views.versions import revert, workflow_versions
from graphs.runner import ChatRunner
from tests.conftest import collect, of_type
from tests.runtime.conftest import invoice_draft

GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"


async def test_a_live_threads_old_version_comes_back_as_a_new_draft_on_that_thread(
    services: Services, runner: ChatRunner
) -> None:
    thread = f"t-{uuid.uuid4().hex[:8]}"
    await collect(runner.send_text(thread, GOAL, "ana"))
    await collect(runner.send_text(thread, "send it to #ops instead", "ana"))
    accepted = await collect(
        runner.send_decision(thread, ReviewResponse(type="accept", user="ana"))
    )
    [activated] = of_type(accepted, "activated")
    automation = store.get_automation(services.engine, automation_id=activated["automation"]["id"])
    assert automation is not None and automation.version == 2
    v1 = get_version(services.engine, workflow_id=automation.workflow_id, version=1)
    assert v1 is not None

    outcome, where = await revert(
        runner, services.engine, automation=automation, target=v1, latest=2, user="ana"
    )

    assert outcome.ok, outcome.message
    assert "v3 of Vendor invoice triage has the content of v1" in outcome.message
    assert where == thread
    pending = await runner.pending_review(thread)
    assert pending is not None and review_version(pending) == 3
    assert review_hash(pending) == v1.content_hash  # the same title, trigger and steps
    live = store.get_automation(services.engine, automation_id=automation.id)
    assert live is not None and live.status == "active" and live.version == 2  # nothing went live
    listed = [
        row.draft.version for row in workflow_versions(services.engine, automation.workflow_id)
    ]
    assert listed == [3, 2, 1]


async def test_a_version_activated_without_a_chat_comes_back_in_a_new_thread(
    services: Services, runner: ChatRunner
) -> None:
    draft = invoice_draft(workflow_id=f"wf_{uuid.uuid4().hex[:8]}")
    made = activate(services.engine, draft=draft, approvals=["carol"], owner="ana")

    outcome, where = await revert(
        runner, services.engine, automation=made.automation, target=draft, latest=1, user="ana"
    )

    assert outcome.ok and where == "" and "new chat thread" in outcome.message
    [row, _] = workflow_versions(services.engine, draft.id)
    assert row.draft.version == 2 and row.thread.startswith("revert-") and row.author == "ana"
    pending = await runner.pending_review(row.thread)
    assert pending is not None and review_hash(pending) == row.draft.content_hash
