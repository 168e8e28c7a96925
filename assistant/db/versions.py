"""Stored workflow versions: every draft and edit, immutable once written."""

from __future__ import annotations

import difflib
import json

from sqlalchemy import and_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from assistant.db.engine import session_scope
from assistant.db.tables import WorkflowVersion
from assistant.schemas import WorkflowDraft


def save_version(engine: Engine, *, draft: WorkflowDraft, thread: str, author: str) -> None:
    """Store ``draft`` once; storing the same version again is a no-op (resumes replay)."""
    row = WorkflowVersion(
        workflow_id=draft.id,
        version=draft.version,
        content_hash=draft.content_hash,
        title=draft.title,
        thread=thread,
        author=author,
        body=draft.model_dump_json(),
    )
    try:
        with session_scope(engine) as session:
            existing = session.exec(
                select(WorkflowVersion).where(
                    WorkflowVersion.workflow_id == draft.id,
                    WorkflowVersion.version == draft.version,
                )
            ).first()
            if existing is None:
                session.add(row)
    except IntegrityError:
        pass  # another process stored the same version first


def list_workflows(engine: Engine) -> list[tuple[str, str, int, str, str]]:
    """Return (workflow id, title, latest version, thread, last author), newest first."""
    with session_scope(engine) as session:
        latest = (
            select(WorkflowVersion.workflow_id, func.max(WorkflowVersion.version).label("v"))
            .group_by(col(WorkflowVersion.workflow_id))
            .subquery()
        )
        rows = session.exec(
            select(WorkflowVersion)
            .join(
                latest,
                and_(
                    col(WorkflowVersion.workflow_id) == latest.c.workflow_id,
                    col(WorkflowVersion.version) == latest.c.v,
                ),
            )
            .order_by(col(WorkflowVersion.created_at).desc())
        ).all()
        return [(r.workflow_id, r.title, r.version, r.thread, r.author) for r in rows]


def recent_threads(engine: Engine, *, author: str, limit: int = 10) -> list[str]:
    """Return the threads ``author`` drafted or edited in, most recent first."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(WorkflowVersion.thread, func.max(WorkflowVersion.created_at).label("last"))
            .where(WorkflowVersion.author == author)
            .group_by(col(WorkflowVersion.thread))
            .order_by(func.max(WorkflowVersion.created_at).desc())
            .limit(limit)
        ).all()
        return [row[0] for row in rows]


def get_version(
    engine: Engine, *, workflow_id: str, version: int | None = None
) -> WorkflowDraft | None:
    """Return one version (the latest when ``version`` is None)."""
    with session_scope(engine) as session:
        query = select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id)
        if version is not None:
            query = query.where(WorkflowVersion.version == version)
        row = session.exec(query.order_by(col(WorkflowVersion.version).desc())).first()
        return WorkflowDraft.model_validate_json(row.body) if row else None


def diff_versions(old: WorkflowDraft, new: WorkflowDraft) -> str:
    """Return a unified diff of two versions' title, trigger and steps."""

    def lines(draft: WorkflowDraft) -> list[str]:
        body = draft.model_dump(mode="json", include={"title", "trigger", "steps"})
        return json.dumps(body, indent=2, sort_keys=True).splitlines()

    return "\n".join(
        difflib.unified_diff(
            lines(old), lines(new), f"v{old.version}", f"v{new.version}", lineterm=""
        )
    )
