"""A run on a real Temporal dev server reaches its deciders in Slack: asked, reminded,
escalated to the next tier, and answered, from the inbox the run itself indexes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from assistant.channels.slack.notifier import RunNotifier
from assistant.db.engine import make_engine
from assistant.db.journal import SqlJournal
from assistant.db.users import UserDirectory, add_user, link_slack
from assistant.policy import load_policy
from assistant.policy.rules import Deadline, Policy
from assistant.runtime.activation import activate
from assistant.runtime.activities import RunActivities
from assistant.runtime.models import InboxItem
from assistant.runtime.service import AutomationDesk
from assistant.runtime.temporal import TemporalEngine
from assistant.runtime.worker import build_worker
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog
from tests.runtime.temporal.conftest import Runtime, invoice, invoice_draft
from tests.support.servers import FakeSlack, serving

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

SECOND = 1 / 3600
QUEUE = "flowdraft-slack-notices"
TOKEN = "xoxb-temporal-notices"
PEOPLE = {"ana": ["finance"], "carla": ["cfo"], "erin": ["ceo"]}


@dataclass
class Desk:
    """The app database a Temporal worker indexes runs into, and a desk over it."""

    db: Engine
    desk: AutomationDesk
    engine: TemporalEngine
    policy: Policy


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Desk]:
    """Run a worker whose runs index into an app database, with deadlines of seconds."""
    db = make_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('notices')) / 'app.db'}")
    for name, roles in PEOPLE.items():
        add_user(db, name=name, roles=roles)
        link_slack(db, name=name, slack_user_id=f"U0{name.upper()}")
    policy = load_policy()
    policy.approvals = policy.approvals.model_copy(
        update={
            "deadlines": {
                "default": Deadline(
                    remind_after=1 * SECOND, escalate_after=3 * SECOND, expire_after=600 * SECOND
                )
            }
        }
    )
    journal = SqlJournal(db)
    directory = UserDirectory(db)
    client = runtime.engine.client
    activities = RunActivities(ConnectorRegistry.sandboxed(ActionLog()), journal, policy, db=db)
    engine = TemporalEngine(
        client, task_queue=QUEUE, directory=directory, journal=journal, policy=policy
    )
    async with build_worker(client, activities, task_queue=QUEUE):
        yield Desk(
            db, AutomationDesk(db, engine, directory=directory, policy=policy), engine, policy
        )


async def until(fake: FakeSlack, found: Callable[[], Any]) -> Any:
    """Sweep-free wait: return ``found()`` once it is truthy; fail after 30 seconds."""
    deadline = time.monotonic() + 30
    while not (result := found()):
        assert time.monotonic() < deadline, f"Slack never saw it; calls: {fake.methods()}"
        await asyncio.sleep(0.1)
    return result


def escalated_items(items: list[InboxItem]) -> list[InboxItem]:
    """Return the items whose request says they were escalated."""
    return [i for i in items if i.request.action_request.args.get("escalated_to")]


def texts(message: dict[str, Any]) -> str:
    """Return the text of a message's sections and context lines."""
    out = []
    for block in message.get("blocks") or []:
        out.append(str((block.get("text") or {}).get("text", "")))
        out += [
            str(e.get("text", ""))
            for e in block.get("elements") or []
            if block["type"] == "context"
        ]
    return "\n".join(out)


async def test_a_waiting_run_is_asked_reminded_escalated_and_closed_in_slack(desk: Desk) -> None:
    live = activate(desk.db, draft=invoice_draft(), approvals=["carla"], owner="ana")
    with serving(FakeSlack(TOKEN)) as fake:
        assert isinstance(fake, FakeSlack)
        client = AsyncWebClient(token=TOKEN, base_url=fake.url)
        notifier = RunNotifier(desk.db, client, directory=desk.desk.directory, policy=desk.policy)
        notifying = asyncio.create_task(notifier.keep_notifying(interval=0.2))
        try:
            started = await desk.desk.start(live.automation.id, invoice(52000), actor="hook")
            run_id = started.run.id

            def posted(channel: str) -> list[dict[str, Any]]:
                return [p for p in fake.posted if p["channel"] == channel]

            [asked] = await until(fake, lambda: posted("D0CARLA"))
            assert run_id in texts(asked) and "Amount: 52,000" in texts(asked)
            reminder = await until(fake, lambda: posted("D0CARLA")[1:])
            assert reminder[0]["thread_ts"] == asked["ts"] and "Reminder" in reminder[0]["text"]
            [escalated] = await until(fake, lambda: posted("D0ERIN"))
            assert "Escalated to ceo" in texts(escalated)
            # The run reports its escalation to the inbox too, after the reminder's report.
            [shown] = await until(fake, lambda: escalated_items(desk.desk.inbox("erin")))
            assert shown.due_at is not None and shown.due_at > shown.created_at + timedelta(
                seconds=60
            )

            item = desk.desk.inbox("erin")[0]
            assert (await desk.desk.decide(item.id, user="erin", accept=True)).ok
            for channel, ts in (("D0CARLA", asked["ts"]), ("D0ERIN", escalated["ts"])):
                closed = await until(
                    fake, lambda c=channel, t=ts: "Approved by erin" in texts(fake.messages[c, t])
                )
                assert closed
            assert len(posted("D0CARLA")) == 2 and len(posted("D0ERIN")) == 1
        finally:
            notifying.cancel()
