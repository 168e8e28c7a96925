"""Keyword-only CRUD over automations and the runs index (SQLite or PostgreSQL).

Automations keep the approved draft they run and only a hash of their hook token. The runs
index keeps the latest ``Run`` snapshot, written by whichever engine drives the run, and the
event id that makes a repeated event return the run it started.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from assistant.db.engine import session_scope
from assistant.db.tables import AutomationRecord, RunRecord, utcnow
from assistant.runtime.models import (
    Automation,
    AutomationStatus,
    AutomationTrigger,
    Run,
    RunStatus,
)
from assistant.schemas import WorkflowDraft

LIVE: tuple[AutomationStatus, ...] = ("active", "paused", "shadow")
"""Statuses of an automation that has not been retired."""


class StoreError(ValueError):
    """Raised for a store operation that cannot be done, with the reason."""


def aware(moment: datetime | None) -> datetime | None:
    """Return ``moment`` in UTC with its zone, however the database handed it back."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def hash_hook_token(token: str) -> str:
    """Return the sha256 hex digest stored for a hook token."""
    return hashlib.sha256(token.encode()).hexdigest()


def as_automation(row: AutomationRecord) -> Automation:
    """Return the contract form of a stored automation."""
    return Automation(
        id=row.id,
        workflow_id=row.workflow_id,
        version=row.version,
        content_hash=row.content_hash,
        title=row.title,
        status=row.status,
        trigger=AutomationTrigger.model_validate_json(row.trigger),
        owner=row.owner,
        approved_by=[name for name in row.approved_by.split(",") if name],
        created_at=aware(row.created_at) or utcnow(),
    )


def save_automation(
    engine: Engine,
    *,
    automation: Automation,
    draft: WorkflowDraft,
    hook_token_hash: str | None = None,
    thread: str = "",
    timezone: str = "UTC",
) -> list[str]:
    """Store a newly activated automation; retire older live versions of its workflow.

    Returns the ids of the automations retired. Raises ``StoreError`` when a newer version
    of the same workflow is already live (activating an older one would go backwards).
    """
    with session_scope(engine) as session:
        live = session.exec(
            select(AutomationRecord).where(
                AutomationRecord.workflow_id == automation.workflow_id,
                col(AutomationRecord.status).in_(LIVE),
            )
        ).all()
        newer = [row for row in live if row.version >= automation.version]
        if newer:
            raise StoreError(
                f"{automation.title} v{newer[0].version} is already live as {newer[0].id}; "
                f"v{automation.version} cannot replace it"
            )
        retired_at = utcnow()
        for row in live:
            row.status = "retired"
            row.retired_at = retired_at
            session.add(row)
        session.add(
            AutomationRecord(
                id=automation.id,
                workflow_id=automation.workflow_id,
                version=automation.version,
                content_hash=automation.content_hash,
                title=automation.title,
                status=automation.status,
                trigger=automation.trigger.model_dump_json(),
                hook_token_hash=hook_token_hash,
                owner=automation.owner,
                approved_by=",".join(automation.approved_by),
                draft=draft.model_dump_json(),
                thread=thread,
                timezone=timezone,
                created_at=automation.created_at,
            )
        )
        return [row.id for row in live]


def get_automation(engine: Engine, *, automation_id: str) -> Automation | None:
    """Return the automation ``automation_id``, if there is one."""
    with session_scope(engine) as session:
        row = session.get(AutomationRecord, automation_id)
        return as_automation(row) if row else None


def automation_draft(engine: Engine, *, automation_id: str) -> WorkflowDraft | None:
    """Return the approved draft the automation ``automation_id`` runs."""
    with session_scope(engine) as session:
        row = session.get(AutomationRecord, automation_id)
        return WorkflowDraft.model_validate_json(row.draft) if row else None


def automation_timezone(engine: Engine, *, automation_id: str) -> str | None:
    """Return the IANA zone the automation's cron is read in."""
    with session_scope(engine) as session:
        row = session.get(AutomationRecord, automation_id)
        return row.timezone if row else None


def list_automations(
    engine: Engine, *, status: str | None = None, workflow_id: str | None = None
) -> list[Automation]:
    """Return automations, newest first, optionally of one status or workflow."""
    with session_scope(engine) as session:
        query = select(AutomationRecord)
        if status is not None:
            query = query.where(AutomationRecord.status == status)
        if workflow_id is not None:
            query = query.where(AutomationRecord.workflow_id == workflow_id)
        rows = session.exec(query.order_by(col(AutomationRecord.created_at).desc())).all()
        return [as_automation(row) for row in rows]


def set_status(engine: Engine, *, automation_id: str, status: AutomationStatus) -> Automation:
    """Change an automation's status; raise ``StoreError`` if it is unknown or retired."""
    with session_scope(engine) as session:
        row = session.get(AutomationRecord, automation_id)
        if row is None:
            raise StoreError(f"no automation {automation_id!r} (see `flowdraft automations list`)")
        if row.status == "retired":
            raise StoreError(f"{row.title} v{row.version} is retired; a newer version replaced it")
        row.status = status
        session.add(row)
        session.flush()
        return as_automation(row)


def set_hook_token(engine: Engine, *, automation_id: str, token_hash: str) -> None:
    """Replace the hook token hash of ``automation_id`` (the old token stops working)."""
    with session_scope(engine) as session:
        row = session.get(AutomationRecord, automation_id)
        if row is None:
            raise StoreError(f"no automation {automation_id!r} (see `flowdraft automations list`)")
        row.hook_token_hash = token_hash
        session.add(row)


def check_hook_token(engine: Engine, *, automation_id: str, token: str) -> bool:
    """Tell whether ``token`` is the hook token of ``automation_id``."""
    with session_scope(engine) as session:
        row = session.get(AutomationRecord, automation_id)
    if row is None or not row.hook_token_hash:
        return False
    return hmac.compare_digest(row.hook_token_hash, hash_hook_token(token))


def event_id(run: Run) -> str | None:
    """Return the event's own top-level ``id``, the key runs are deduplicated on.

    A retry carries the event of the run it redoes, whose key that run keeps (None).
    """
    if ".retry-" in run.id:
        return None
    value = run.event.get("id")
    return None if value is None or value == "" else str(value)


def add_run(engine: Engine, *, run: Run) -> Run:
    """Index a new run; return the run already started for the same event id instead, if any."""
    key = event_id(run)
    if key is not None:
        existing = find_run(engine, automation_id=run.automation_id, event_id=key)
        if existing is not None:
            return existing
    try:
        with session_scope(engine) as session:
            session.add(run_record(run))
    except IntegrityError:
        # Another process (or the run itself, reporting) indexed it in between.
        existing = get_run(engine, run_id=run.id) or find_run(
            engine, automation_id=run.automation_id, event_id=key or ""
        )
        if existing is None:
            raise
        return existing
    return run


def run_record(run: Run) -> RunRecord:
    """Return the index row of ``run``."""
    return RunRecord(
        id=run.id,
        automation_id=run.automation_id,
        version=run.version,
        status=run.status,
        event_id=event_id(run),
        started_at=run.started_at,
        finished_at=run.finished_at,
        body=run.model_dump_json(),
    )


def save_run(engine: Engine, *, run: Run) -> None:
    """Write the latest snapshot of ``run`` (indexing it if it is new)."""
    with session_scope(engine) as session:
        row = session.get(RunRecord, run.id)
        if row is None:
            session.add(run_record(run))
            return
        row.status = run.status
        row.finished_at = run.finished_at
        row.body = run.model_dump_json()
        session.add(row)


def find_run(engine: Engine, *, automation_id: str, event_id: str) -> Run | None:
    """Return the run ``automation_id`` started for the event ``event_id``, if any."""
    with session_scope(engine) as session:
        row = session.exec(
            select(RunRecord).where(
                RunRecord.automation_id == automation_id, RunRecord.event_id == event_id
            )
        ).first()
        return Run.model_validate_json(row.body) if row else None


def get_run(engine: Engine, *, run_id: str) -> Run | None:
    """Return the latest snapshot of the run ``run_id``."""
    with session_scope(engine) as session:
        row = session.get(RunRecord, run_id)
        return Run.model_validate_json(row.body) if row else None


def list_runs(
    engine: Engine,
    *,
    automation_id: str | None = None,
    status: RunStatus | None = None,
    limit: int = 200,
) -> list[Run]:
    """Return runs, newest first, optionally of one automation or status."""
    with session_scope(engine) as session:
        query = select(RunRecord)
        if automation_id is not None:
            query = query.where(RunRecord.automation_id == automation_id)
        if status is not None:
            query = query.where(RunRecord.status == status)
        query = query.order_by(col(RunRecord.started_at).desc()).limit(limit)
        return [Run.model_validate_json(row.body) for row in session.exec(query).all()]
