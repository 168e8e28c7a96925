"""Decision deadlines of a run's waiting step: reminder, escalation up the tiers, expiry.

The policy's ``approvals.deadlines`` say, in hours from when a sign-off or task starts
waiting, when its deciders are reminded, when the next tier up may also decide, and when
the request expires. The next tier up comes from the policy's grants: the lowest roles that
stand in for the waiting role (a cfo step escalates to the ceo, a controller step to the
cfo), never a peer and never the catch-all ``*`` grant. Waiting uses Temporal timers
(``workflow.wait_condition`` with a timeout), so it is deterministic and survives restarts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from temporalio import workflow

from assistant.policy.rules import Deadline
from assistant.runtime.models import RunStep
from assistant.runtime.plan import Waiting

Phase = Literal["remind", "escalate", "expire"]


def next_tier(role: str, grants: dict[str, list[str]]) -> list[str]:
    """Return the lowest roles that stand in for ``role`` by name in ``grants``.

    Example:
        >>> grants = {"ceo": ["cfo", "controller"], "cfo": ["controller"], "admin": ["*"]}
        >>> next_tier("controller", grants), next_tier("cfo", grants), next_tier("ceo", grants)
        (['cfo'], ['ceo'], [])
    """
    above = [held for held, granted in grants.items() if role in granted and held != role]
    # The lowest: those that stand in for no other role that stands in for ``role``.
    return [held for held in above if not any(o in grants.get(held, []) for o in above)]


def escalation(needed: list[str], grants: dict[str, list[str]]) -> dict[str, list[str]]:
    """Return, per still-needed role that has one, the next tier up that may also decide."""
    return {role: up for role in needed if (up := next_tier(role, grants))}


def escalate(
    waiting: Waiting, record: RunStep, deadline: Deadline, grants: dict[str, list[str]]
) -> list[str]:
    """Let the next tier up decide the overdue ``waiting`` step too; say so on its record.

    Return the roles it was escalated to (none when its roles are already the top tier).
    """
    waiting.escalated_to = escalation(waiting.needed, grants)
    after = hours_text(deadline.escalate_after or 0)
    ups = sorted({up for roles in waiting.escalated_to.values() for up in roles})
    record.input["escalated_to"] = ups
    if record.started_at is not None:
        record.input["due_at"] = due_at(deadline, record.started_at, escalated=True).isoformat()
    record.detail = (
        f"escalated to {' or '.join(ups)} after {after} without a decision"
        if ups
        else f"overdue after {after}; no higher tier to escalate to"
    )
    return ups


def phases(deadline: Deadline, since: datetime) -> list[tuple[Phase, datetime]]:
    """Return when each phase of ``deadline`` falls for a step waiting ``since``, in order."""
    hours: list[tuple[Phase, float | None]] = [
        ("remind", deadline.remind_after),
        ("escalate", deadline.escalate_after),
        ("expire", deadline.expire_after),
    ]
    return [(name, since + timedelta(hours=h)) for name, h in hours if h is not None]


def due_at(deadline: Deadline, since: datetime, *, escalated: bool) -> datetime:
    """Return when the step is due: its decide-within time, or its expiry once escalated."""
    hours = deadline.escalate_after if not escalated else None
    return since + timedelta(hours=hours or deadline.expire_after)


def hours_text(hours: float) -> str:
    """Return ``hours`` as a reader says it ("48h", "4h", "3s" for test-sized deadlines)."""
    if hours >= 1:
        return f"{hours:g}h"
    return f"{hours * 3600:g}s"


async def wait_for_decision(
    decided: Callable[[], bool],
    deadline: Deadline | None,
    since: datetime,
    on_phase: Callable[[Phase], None],
) -> bool:
    """Wait until ``decided()``; call ``on_phase`` as reminders and escalation fall due.

    Return False when the request expired undecided. Must run inside a workflow.
    """
    if deadline is None:
        await workflow.wait_condition(decided)
        return True
    for phase, when in phases(deadline, since):
        remaining = (when - workflow.now()).total_seconds()
        if remaining > 0:
            # A timeout means the phase fell due: acted on below unless decided meanwhile.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(decided, timeout=remaining, timeout_summary=phase)
        if decided():
            return True
        if phase == "expire":
            return False
        on_phase(phase)
    return True
