"""Escalation of an overdue step goes up the shipped policy's tiers, never sideways."""

from datetime import UTC, datetime, timedelta

from assistant.policy import load_policy
from assistant.policy.rules import Deadline
from assistant.runtime.deadlines import due_at, next_tier, phases

GRANTS = load_policy().approvals.grants


def test_each_role_escalates_to_the_tier_just_above_it() -> None:
    assert next_tier("controller", GRANTS) == ["cfo"]
    assert next_tier("cfo", GRANTS) == ["ceo"]
    assert next_tier("ceo", GRANTS) == []  # the top; the catch-all admin grant is no tier


def test_escalation_never_goes_sideways_or_down() -> None:
    roles = {role for granted in GRANTS.values() for role in granted if role != "*"}
    for role in roles:
        for up in next_tier(role, GRANTS):
            assert role in GRANTS[up] and up not in GRANTS.get(role, []), (role, up)


def test_a_step_is_due_when_it_should_be_decided_then_when_it_expires() -> None:
    since = datetime(2026, 12, 1, 9, tzinfo=UTC)
    deadline = Deadline(remind_after=24, escalate_after=48, expire_after=168)
    assert [name for name, _ in phases(deadline, since)] == ["remind", "escalate", "expire"]
    assert due_at(deadline, since, escalated=False) == since + timedelta(hours=48)
    assert due_at(deadline, since, escalated=True) == since + timedelta(hours=168)
    assert due_at(Deadline(expire_after=4), since, escalated=False) == since + timedelta(hours=4)
