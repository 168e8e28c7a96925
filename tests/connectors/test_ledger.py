"""The action ledger and dispatch leases on SQLite and PostgreSQL."""

import os
import subprocess
import sys
from typing import Any

from assistant.db.engine import make_engine
from assistant.db.journal import SqlJournal
from assistant.schemas import Step, WorkflowDraft
from connectors.base import ActionResult
from connectors.dispatcher import DispatchBusy, Dispatcher, idempotency_key
from connectors.email import EmailConnector
from connectors.ledger import SqlLedger
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog


def draft(steps: int) -> WorkflowDraft:
    return WorkflowDraft(
        title="t",
        goal="g",
        steps=[
            Step(
                id=f"s{i}",
                title=f"Note {i}",
                kind="action",
                connector="sandbox",
                operation="record",
                params={"note": f"n{i}"},
            )
            for i in range(steps)
        ],
    ).sealed()


async def test_resumed_dispatch_skips_done_actions_and_retries_started_ones(
    database_url: str,
) -> None:
    ledger = SqlLedger(make_engine(database_url))
    log = ActionLog()
    wf = draft(3)
    keys = [idempotency_key("t1", wf.content_hash, step.id) for step in wf.steps]
    # A crashed run: s0 finished, s1 started (its result never written), s2 never begun.
    ledger.begin(
        keys[0],
        thread="t1",
        content_hash=wf.content_hash,
        step_id="s1",
        connector="sandbox",
        operation="record",
        owner="dead:1:x",
    )
    ledger.finish(keys[0], ActionResult(status="ok", detail="noted n0"))
    ledger.begin(
        keys[1],
        thread="t1",
        content_hash=wf.content_hash,
        step_id="s2",
        connector="sandbox",
        operation="record",
        owner="dead:1:x",
    )
    results = await Dispatcher(ConnectorRegistry.sandboxed(log), ledger).dispatch(wf, thread="t1")
    assert [r.status for r in results] == ["ok", "ok", "ok"]
    assert results[0].detail == "already done: noted n0"
    assert [a.idempotency_key for a in log.actions] == keys[1:]
    entries = {e.step_id: e for e in ledger.entries("t1")}
    assert entries["s2"].attempts == 2 and entries["s3"].attempts == 1
    assert all(e.status == "ok" for e in entries.values())


def test_a_live_lease_blocks_a_second_dispatcher_and_a_dead_one_is_taken_over(
    database_url: str,
) -> None:
    ledger = SqlLedger(make_engine(database_url))
    mine = f"{os.uname().nodename}:{os.getpid()}:a"
    assert ledger.acquire("t2", mine)
    assert not ledger.acquire(
        "t2", f"{os.uname().nodename}:{os.getpid()}:b"
    )  # a live process holds it
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    ledger.release("t2", mine)
    dead = f"{os.uname().nodename}:{gone.stdout.strip()}:c"
    assert ledger.acquire("t2", dead)
    assert ledger.acquire("t2", mine)  # its owner has exited, so the lease is taken over


async def test_dispatch_busy_when_another_process_holds_the_lease(database_url: str) -> None:
    ledger = SqlLedger(make_engine(database_url))
    ledger.acquire("t3", f"{os.uname().nodename}:{os.getpid()}:other")
    try:
        await Dispatcher(ConnectorRegistry.sandboxed(), ledger).dispatch(draft(1), thread="t3")
    except DispatchBusy as exc:
        assert "another process" in str(exc)
    else:
        raise AssertionError("dispatch ran under someone else's lease")


def test_only_the_first_answer_to_a_review_counts(database_url: str) -> None:
    journal = SqlJournal(make_engine(database_url))
    assert journal.claim("t4:review-1", thread="t4", user="carla", decision="accept") is None
    assert journal.claim("t4:review-1", thread="t4", user="dan", decision="accept") == "carla"
    assert journal.claim("t4:review-2", thread="t4", user="dan", decision="accept") is None


async def test_an_action_that_breaks_is_recorded_failed_and_dispatch_goes_on(
    database_url: str,
) -> None:
    class Broken(EmailConnector):
        async def perform(self, operation: str, params: Any, idempotency_key: str) -> Any:
            raise ValueError("Header values may not contain linefeed or carriage return")

    ledger = SqlLedger(make_engine(database_url))
    log = ActionLog()
    email = Step(
        id="s9",
        title="Email",
        kind="action",
        connector="email",
        operation="send_email",
        params={"to": ["a@northwind.example"], "subject": "s", "body": "b"},
    )
    wf = draft(1).model_copy(update={"steps": [email, *draft(1).steps]}).sealed()
    sandbox = ConnectorRegistry.sandboxed(log).get("sandbox")
    registry = ConnectorRegistry([Broken(host="127.0.0.1"), sandbox])
    results = await Dispatcher(registry, ledger).dispatch(wf, thread="t9")
    assert [r.status for r in results] == ["failed", "ok"]
    assert "Header values may not contain" in results[0].detail
    entries = {e.step_id: e.status for e in ledger.entries("t9")}
    assert entries == {"s1": "failed", "s2": "ok"}
