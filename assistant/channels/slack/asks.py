"""What an inbox item puts to people in Slack: its run, automation, deadlines and audiences.

An audience is a person (asked in a direct message) or, when the policy's
``approvals.slack_channels`` names one for the role, a channel. Each role the item still
needs is asked of the people who hold it; when nobody holds it, of those who may stand in
(the roles granting it, admins). Roles the run was escalated to are asked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from assistant.db.users import Directory
from assistant.policy.rules import Policy
from assistant.runtime import store
from assistant.runtime.deadlines import escalation
from assistant.runtime.deciders import who_can_decide
from assistant.runtime.inbox import OpenItem
from assistant.runtime.models import Automation, InboxItem, Run

RUN_KINDS = ("run_approval", "run_task")
"""Inbox kinds decided in Slack; workflow reviews are decided on their draft's message."""


@dataclass(frozen=True)
class Audience:
    """Who one Slack message asks: ``user:NAME`` or ``channel:#NAME``, for ``role``."""

    key: str
    role: str

    @property
    def user(self) -> str | None:
        """Return the user's name when the audience is a person."""
        return self.key.removeprefix("user:") if self.key.startswith("user:") else None

    @property
    def channel(self) -> str | None:
        """Return the channel when the audience is a channel."""
        return self.key.removeprefix("channel:") if self.key.startswith("channel:") else None


@dataclass(frozen=True)
class Ask:
    """An inbox item with what a Slack message about it shows."""

    item: InboxItem
    requesters: list[str]
    run: Run | None
    automation: Automation | None
    due_at: datetime | None
    remind_at: datetime | None
    escalate_at: datetime | None = None
    grants: dict[str, list[str]] = field(default_factory=dict)
    decided_by: str | None = None
    decision: str | None = None

    @property
    def needs(self) -> list[str]:
        """Return the roles still to decide (empty: any known user)."""
        needs = self.item.request.action_request.args.get("needs")
        if isinstance(needs, list) and needs:
            return [str(role) for role in needs]
        return [self.item.approver_role] if self.item.approver_role else []

    def escalated_to(self, now: datetime) -> list[str]:
        """Return the roles the overdue item is escalated to at ``now`` (also asked then).

        What the run reported, else what the policy's deadline says once it has passed (the
        next tier up per the grants, as ``deadlines.escalate`` does), so reminders and
        escalations reach people whichever engine runs the run and whenever it reports.
        """
        ups = self.item.request.action_request.args.get("escalated_to")
        if isinstance(ups, list) and ups:
            return [str(role) for role in ups]
        if self.escalate_at is None or now < self.escalate_at:
            return []
        return sorted(
            {up for roles in escalation(self.needs, self.grants).values() for up in roles}
        )

    @property
    def title(self) -> str:
        """Return the step's title (the request's action without its verb)."""
        action = self.item.request.action_request.action
        return action.split(": ", 1)[1] if ": " in action else action

    @property
    def is_task(self) -> bool:
        """Tell whether the item is a human task (marked done) rather than an approval."""
        return self.item.kind == "run_task"


def load_ask(db: Engine, held: OpenItem, policy: Policy) -> Ask:
    """Return the ask of ``held``: its run, automation, due time and reminder time."""
    item = held.item
    run = store.get_run(db, run_id=item.run_id) if item.run_id else None
    automation = store.get_automation(db, automation_id=run.automation_id) if run else None
    draft = store.automation_draft(db, automation_id=run.automation_id) if run else None
    # The same deadline the run's engine applies (``sign_off_plan``), from the same policy.
    deadline = policy.approvals.deadline_for(f"{draft.title}\n{draft.goal}") if draft else None
    due_at = remind_at = escalate_at = None
    if deadline is not None:
        since = item.created_at
        hours = deadline.escalate_after or deadline.expire_after
        due_at = since + timedelta(hours=hours)
        if deadline.remind_after is not None:
            remind_at = since + timedelta(hours=deadline.remind_after)
        if deadline.escalate_after is not None:
            escalate_at = since + timedelta(hours=deadline.escalate_after)
    return Ask(
        item=item,
        requesters=held.requesters,
        run=run,
        automation=automation,
        due_at=item.due_at or due_at,
        remind_at=remind_at,
        escalate_at=escalate_at,
        grants=dict(policy.approvals.grants),
        decided_by=held.decided_by,
        decision=held.decision,
    )


def audiences(ask: Ask, now: datetime, *, directory: Directory, policy: Policy) -> list[Audience]:
    """Return who is asked to decide ``ask`` at ``now``: per role, its channel or its people."""
    found: dict[str, Audience] = {}
    roles: list[str | None] = [*ask.needs, *ask.escalated_to(now)]
    for role in roles or [None]:
        channel = policy.approvals.slack_channels.get(role or "")
        if channel:
            found.setdefault(f"channel:{channel}", Audience(f"channel:{channel}", role or ""))
            continue
        for name in people_for(role, ask.requesters, directory=directory, policy=policy):
            found.setdefault(f"user:{name}", Audience(f"user:{name}", role or ""))
    return list(found.values())


def people_for(
    role: str | None, requesters: list[str], *, directory: Directory, policy: Policy
) -> list[str]:
    """Return the people to ask for ``role``: its holders, else whoever may stand in."""
    if role is not None:
        holders = [
            name
            for name in directory.who_can([role])
            if role in (directory.roles_of(name) or []) and name not in requesters
        ]
        if holders:
            return holders
    return who_can_decide(role=role, requesters=requesters, directory=directory, policy=policy)
