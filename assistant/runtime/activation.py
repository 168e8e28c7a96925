"""Make an approved version a live automation, and pause, resume, shadow or unshadow it.

Activation derives the trigger (the event fields the steps use; a hook path and token for
webhook and event triggers; cron for schedules), retires the workflow's previous live
version and audits it all. Status changes are allowed to the automation's owner, its
approvers and admins; anyone else is refused with the names of who may.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.engine import Engine

from assistant.db.audit import AuditLog
from assistant.db.tables import utcnow
from assistant.db.users import Directory
from assistant.runtime import store
from assistant.runtime.models import Automation, AutomationStatus, AutomationTrigger
from assistant.runtime.schedules import Schedule, ScheduleError, check_timezone, parse_schedule
from assistant.runtime.steps import event_fields
from assistant.schemas import WorkflowDraft

HOOK_TOKEN_PREFIX = "fh_"
Change = Literal["pause", "resume", "shadow", "live"]
TARGET: dict[Change, AutomationStatus] = {
    "pause": "paused",
    "resume": "active",
    "shadow": "shadow",
    "live": "active",
}
EVENT: dict[Change, str] = {
    "pause": "automation_paused",
    "resume": "automation_resumed",
    "shadow": "automation_shadowed",
    "live": "automation_live",
}


class ActivationError(ValueError):
    """Raised when a version cannot be activated (unreadable schedule, newer version live)."""


class ChangeRefused(PermissionError):
    """Raised when a user may not change an automation's status; says who may."""


@dataclass(frozen=True)
class Activation:
    """A newly live automation and, for hook triggers, its token (shown once, never stored)."""

    automation: Automation
    hook_token: str | None
    timezone: str
    retired: list[str]

    def hook_url(self, base_url: str) -> str | None:
        """Return where events are posted, under ``base_url`` (e.g. http://host:8000)."""
        return hook_url(self.automation, base_url)


def hook_url(automation: Automation, base_url: str) -> str | None:
    """Return where ``automation``'s events are posted under ``base_url``, if it takes events."""
    hook = automation.trigger.hook
    return f"{base_url.rstrip('/')}{hook}" if hook else None


def derive_trigger(
    draft: WorkflowDraft, automation_id: str, *, timezone: str = "UTC"
) -> tuple[AutomationTrigger, Schedule | None]:
    """Return the automation trigger of ``draft`` and, for schedules, the parsed schedule.

    Raises ``ActivationError`` for a schedule that cannot be read as cron.
    """
    trigger = AutomationTrigger(
        kind=draft.trigger.kind, detail=draft.trigger.detail, fields=event_fields(draft)
    )
    schedule = None
    if draft.trigger.kind == "schedule":
        try:
            schedule = parse_schedule(draft.trigger.detail, default_timezone=timezone)
        except ScheduleError as exc:
            raise ActivationError(str(exc)) from None
        trigger.cron = schedule.cron
    if draft.trigger.kind in ("webhook", "event"):
        trigger.hook = f"/hooks/{automation_id}"
    return trigger, schedule


def activate(
    engine: Engine,
    *,
    draft: WorkflowDraft,
    approvals: list[str],
    owner: str,
    thread: str = "",
    timezone: str = "UTC",
    status: AutomationStatus = "active",
) -> Activation:
    """Make ``draft`` (an approved, sealed version) a live automation; retire older versions.

    ``approvals`` are who approved it and ``owner`` who asked for it. ``timezone`` is the
    zone a schedule is read in unless its text names one. Raises ``ActivationError`` for an
    unreadable schedule or when a newer version of the workflow is already live.
    """
    try:
        check_timezone(timezone)
    except ValueError as exc:
        raise ActivationError(str(exc)) from None
    automation_id = f"au_{uuid.uuid4().hex[:12]}"
    trigger, schedule = derive_trigger(draft, automation_id, timezone=timezone)
    token = HOOK_TOKEN_PREFIX + secrets.token_urlsafe(32) if trigger.hook else None
    automation = Automation(
        id=automation_id,
        workflow_id=draft.id,
        version=draft.version,
        content_hash=draft.content_hash or draft.compute_hash(),
        title=draft.title,
        status=status,
        trigger=trigger,
        owner=owner,
        approved_by=list(dict.fromkeys(approvals)),
        created_at=utcnow(),
    )
    zone = schedule.timezone if schedule else timezone
    try:
        retired = store.save_automation(
            engine,
            automation=automation,
            draft=draft,
            hook_token_hash=store.hash_hook_token(token) if token else None,
            thread=thread,
            timezone=zone,
        )
    except store.StoreError as exc:
        raise ActivationError(str(exc)) from None
    log = AuditLog(engine)
    for old in retired:
        log.append(
            "automation_retired",
            actor=owner,
            thread=thread,
            content_hash=automation.content_hash,
            data={"automation": old, "replaced_by": automation_id},
        )
    log.append(
        "activated",
        actor=owner,
        thread=thread,
        content_hash=automation.content_hash,
        data={
            "automation": automation_id,
            "workflow_id": draft.id,
            "version": draft.version,
            "approved_by": automation.approved_by,
            "trigger": trigger.model_dump(mode="json"),
            "timezone": zone,
            "retired": retired,
        },
    )
    return Activation(automation, token, zone, retired)


def may_change(automation: Automation, *, user: str, directory: Directory) -> bool:
    """Tell whether ``user`` may change the status of ``automation``."""
    if directory.is_open() or user == automation.owner or user in automation.approved_by:
        return True
    return "admin" in (directory.roles_of(user) or [])


def allowed_to_change(
    engine: Engine, *, automation_id: str, change: str, user: str, directory: Directory
) -> Automation:
    """Return the automation if ``user`` may ``change`` it, else audit and raise ``ChangeRefused``.

    Raises ``store.StoreError`` for an unknown automation.
    """
    current = store.get_automation(engine, automation_id=automation_id)
    if current is None:
        raise store.StoreError(
            f"no automation {automation_id!r} (see `flowdraft automations list`)"
        )
    if may_change(current, user=user, directory=directory):
        return current
    allowed = list(dict.fromkeys([current.owner, *current.approved_by]))
    admins = [name for name in directory.who_can(["admin"]) if name not in allowed]
    message = (
        f"{user} may not {change} {current.title} v{current.version}: only its owner, "
        f"its approvers or an admin may ({', '.join(allowed + admins)})"
    )
    AuditLog(engine).append(
        "automation_change_refused",
        actor=user,
        content_hash=current.content_hash,
        data={"automation": automation_id, "change": change, "reason": message},
    )
    raise ChangeRefused(message)


def change_status(
    engine: Engine, *, automation_id: str, change: Change, user: str, directory: Directory
) -> Automation:
    """Pause, resume, shadow or make live an automation as ``user``; audit it.

    Raises ``store.StoreError`` for an unknown or retired automation and ``ChangeRefused``
    (audited too) when ``user`` is not its owner, one of its approvers or an admin.
    """
    current = allowed_to_change(
        engine, automation_id=automation_id, change=change, user=user, directory=directory
    )
    changed = store.set_status(engine, automation_id=automation_id, status=TARGET[change])
    AuditLog(engine).append(
        EVENT[change],
        actor=user,
        content_hash=changed.content_hash,
        data={"automation": automation_id, "from": current.status, "to": changed.status},
    )
    return changed


def rotate_hook_token(
    engine: Engine, *, automation_id: str, user: str, directory: Directory
) -> str:
    """Issue a new hook token for ``automation_id`` as ``user``; the old one stops working.

    Returns the token (shown once, never stored). Refused like a status change; raises
    ``store.StoreError`` for an unknown automation or one whose trigger has no hook.
    """
    current = allowed_to_change(
        engine,
        automation_id=automation_id,
        change="rotate the hook token of",
        user=user,
        directory=directory,
    )
    if current.trigger.hook is None:
        raise store.StoreError(f"{current.title} has a {current.trigger.kind} trigger, no hook")
    token = HOOK_TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.set_hook_token(
        engine, automation_id=automation_id, token_hash=store.hash_hook_token(token)
    )
    AuditLog(engine).append(
        "hook_token_rotated",
        actor=user,
        content_hash=current.content_hash,
        data={"automation": automation_id},
    )
    return token
