"""The automations, runs and inbox tables on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import inspect

from assistant.db.engine import make_engine
from assistant.db.tables import utcnow
from assistant.runtime import inbox, store
from assistant.runtime.activation import activate
from assistant.runtime.inbox import approval_item
from assistant.runtime.models import Run, RunStep
from tests.runtime.conftest import invoice, invoice_draft


def a_run(automation_id: str, run_id: str, event: dict) -> Run:
    return Run(
        id=run_id,
        automation_id=automation_id,
        version=1,
        content_hash="h",
        event=event,
        started_at=utcnow(),
        steps=[RunStep(step_id="s1", title="Log", kind="action")],
    )


def test_runs_are_indexed_once_per_event_id_and_kept_up_to_date(database_url: str) -> None:
    db = make_engine(database_url)
    automation = activate(db, draft=invoice_draft(), approvals=["carol"], owner="ana").automation
    first = store.add_run(db, run=a_run(automation.id, "run_1", invoice(5000, event_id="e1")))
    second = store.add_run(db, run=a_run(automation.id, "run_2", invoice(5000, event_id="e1")))
    assert second.id == first.id == "run_1"
    store.add_run(db, run=a_run(automation.id, "run_3", invoice(7000)))
    done = first.model_copy(update={"status": "completed", "finished_at": utcnow()})
    store.save_run(db, run=done)
    assert store.get_run(db, run_id="run_1") == done
    assert [r.id for r in store.list_runs(db, status="completed")] == ["run_1"]
    assert {r.id for r in store.list_runs(db, automation_id=automation.id)} == {"run_1", "run_3"}
    assert store.list_runs(db, automation_id="au_other") == []


def test_inbox_items_open_once_and_are_decided_once(database_url: str) -> None:
    db = make_engine(database_url)
    draft = invoice_draft()
    automation = activate(db, draft=draft, approvals=["carol"], owner="ana").automation
    run = a_run(automation.id, "run_1", invoice(50_000))
    item = approval_item(run, draft.steps[2], automation)
    inbox.open_item(db, item=item, requesters=["ana"])
    inbox.open_item(db, item=item, requesters=["ana"])
    (held,) = inbox.open_items(db)
    assert held.item == item and held.requesters == ["ana"]
    assert inbox.close_item(db, item_id=item.id, user="carol", decision="accepted")
    assert not inbox.close_item(db, item_id=item.id, user="erin", decision="rejected")
    assert inbox.open_items(db) == []
    decided = inbox.get_item(db, item_id=item.id)
    assert decided is not None and decided.decided_by == "carol"


def test_automations_survive_a_round_trip(database_url: str) -> None:
    db = make_engine(database_url)
    made = activate(db, draft=invoice_draft(), approvals=["carol", "erin"], owner="ana")
    assert store.get_automation(db, automation_id=made.automation.id) == made.automation
    assert store.automation_draft(db, automation_id=made.automation.id) == invoice_draft()
    assert store.list_automations(db, status="active") == [made.automation]


def test_an_older_database_gets_the_runtime_tables_on_start(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT)")
    engine = make_engine(f"sqlite:///{path}")
    tables = set(inspect(engine).get_table_names())
    assert {"automationrecord", "runrecord", "inboxrecord"} <= tables


def test_two_processes_given_the_same_event_index_one_run(database_url: str) -> None:
    db = make_engine(database_url)
    automation = activate(db, draft=invoice_draft(), approvals=["carol"], owner="ana").automation
    barrier = threading.Barrier(4)

    def index(run_id: str) -> str:
        engine = make_engine(database_url)  # its own pool, as another process would have
        barrier.wait()
        return store.add_run(engine, run=a_run(automation.id, run_id, invoice(1, event_id="e9"))).id

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(index, ["run_a", "run_b", "run_c", "run_d"]))
    assert len(ids) == 1
    assert [r.id for r in store.list_runs(db)] == list(ids)
