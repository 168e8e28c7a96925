"""Retrying a failed run through the desk (as ``runs retry`` and the API do) on real Temporal.

The worker indexes runs in the app database, as ``flowdraft serve`` does, so the retry of an
event with an id shows up as its own run next to the failed one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from assistant.db.audit import AuditLog
from assistant.db.engine import make_engine
from assistant.db.journal import SqlJournal
from assistant.db.users import UserDirectory, add_user
from assistant.policy import load_policy
from assistant.runtime import store
from assistant.runtime.activation import activate
from assistant.runtime.activities import RunActivities
from assistant.runtime.plan import RunOptions
from assistant.runtime.service import AutomationDesk, RunRefused
from assistant.runtime.temporal import TemporalEngine
from assistant.runtime.worker import build_worker
from connectors.sandbox import ActionLog
from tests.runtime.conftest import PEOPLE, delivery_draft
from tests.runtime.temporal.conftest import (
    CrashingConnector,
    Runtime,
    registry_with_crashes,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

QUEUE = "flowdraft-retries"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(
    runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[AutomationDesk, ActionLog]]:
    """Return a desk over an app database its own worker indexes runs in, and its actions."""
    db = make_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('app')) / 'app.db'}")
    for name, roles in PEOPLE.items():
        add_user(db, name=name, roles=roles)
    actions = ActionLog()
    client = runtime.engine.client
    activities = RunActivities(registry_with_crashes(actions), SqlJournal(db), db=db)
    engine = TemporalEngine(
        client,
        task_queue=QUEUE,
        directory=UserDirectory(db),
        journal=SqlJournal(db),
        options=RunOptions(attempts=2),
    )
    async with build_worker(client, activities, task_queue=QUEUE):
        yield AutomationDesk(db, engine, directory=UserDirectory(db), policy=load_policy()), actions


async def test_a_failed_run_is_retried_from_its_failed_step_by_who_may(
    desk: tuple[AutomationDesk, ActionLog],
) -> None:
    runs, actions = desk
    live = activate(runs.db, draft=delivery_draft(), approvals=["carol"], owner="ana").automation
    started = await runs.start(live.id, {"id": "del-1", "delivery": {"ref": "D-7"}}, actor="ana")
    failed = await runs.wait(started.run.id)
    assert failed.status == "failed" and failed.steps[1].status == "failed"
    with pytest.raises(RunRefused) as refused:
        await runs.retry(failed.id, actor="dan")
    assert refused.value.status == 403 and "ana, carol" in refused.value.message

    CrashingConnector.down = False
    try:
        retried = await runs.retry(failed.id, actor="carol")
        assert retried.id != failed.id
        done = await runs.wait(retried.id)
    finally:
        CrashingConnector.down = True
    # The step before the failed one keeps its result. Compared as JSON without its times:
    # one side may come from the runs index and the other from the engine, whose clocks
    # stamp the same step a few milliseconds apart.
    assert done.status == "completed"
    timeless = {"started_at", "finished_at"}
    kept = done.steps[0].model_dump(mode="json", exclude=timeless)
    assert kept == failed.steps[0].model_dump(mode="json", exclude=timeless)
    assert kept["status"] == "ok" and kept["attempts"] == 1
    # Each action performed once, under the failed run's keys.
    assert [a.connector for a in actions.actions] == ["slack", "sandbox"]
    assert all(a.idempotency_key.startswith(f"{failed.id}:") for a in actions.actions)
    listed = {run.id: run.status for run in store.list_runs(runs.db, automation_id=live.id)}
    assert listed[failed.id] == "failed" and retried.id in listed
    with pytest.raises(RunRefused) as again:
        await runs.retry(retried.id, actor="carol")
    assert again.value.status == 409
    audited = [r for r in AuditLog(runs.db).records() if r.event == "run_retry_requested"]
    assert [(r.actor, json.loads(r.data)["retries"]) for r in audited] == [("carol", failed.id)]
