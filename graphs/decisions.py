"""Who may decide a workflow review, and who counts as a requester of a version.

Every channel's decisions reach the graph's ``review`` node, which asks ``refusal`` before
acting, so the rule holds on the web, Slack, the terminal, the JSON channel and any Agent
Inbox client alike. Approval itself (``accept``) is ruled on by the policy's ``authorize``
in the ``approve`` node, which also records partial approvals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from assistant.review import stale_reason
from assistant.schemas import ReviewRequest, ReviewResponse, Step, WorkflowDraft
from graphs.context import Context
from graphs.state import ChatState

OPEN_MODE = "no users are configured, so roles are not checked"
VERBS = {"accept": "approve", "edit": "edit", "response": "change", "ignore": "reject"}


@dataclass(frozen=True)
class Refusal:
    """Why a decision was not applied: ``reason`` for the audit, ``text`` for the person."""

    reason: str
    text: str


def requesters_of(state: ChatState) -> list[str]:
    """Return who asked for the thread's current version (the original requester first)."""
    names = state.get("requesters") or [state.get("requester") or ""]
    return [name for name in names if name]


def refusal(
    decision: ReviewResponse, request: ReviewRequest, state: ChatState, context: Context
) -> Refusal | None:
    """Return why ``decision`` may not be applied to the pending ``request``, or None.

    A decision made on another version is refused. Edits, changes and rejections are for
    the requesters, anyone holding a role the draft requires (who could approve it) and
    admins; unknown users may decide nothing. With no users configured, anyone may.
    """
    stale = stale_reason(request, decision)
    if stale:
        return Refusal(stale, stale)
    directory = context.directory
    if directory.is_open() or decision.type == "accept":
        return None
    user, required = decision.user, list(state.get("required_roles") or [])
    requesters = requesters_of(state)
    roles = directory.roles_of(user)
    if roles is not None and may_change(roles, user, requesters, required, context):
        return None
    if roles is None:
        why = f"{user} is not a known user"
    else:
        why = (
            f"{user} did not request it and holds no role that could approve it "
            f"({', '.join(required)})"
        )
    text = (
        f"{user} may not {VERBS[decision.type]} this draft: {why}. {who_can_decide(state, context)}"
    )
    return Refusal(why, text)


def may_change(
    roles: list[str], user: str, requesters: list[str], required: list[str], context: Context
) -> bool:
    """Tell whether a known user may edit, change or reject a draft needing ``required``."""
    if user in requesters or "admin" in roles or not required:
        return True
    return any(context.policy.policy.satisfies(roles, role) for role in required)


def who_can_decide(state: ChatState, context: Context) -> str:
    """Say who may edit, change or reject the thread's draft."""
    requesters = requesters_of(state)
    required = list(state.get("required_roles") or [])
    if not required:
        return "Any known user can decide."
    others = [
        n
        for n in context.directory.who_can(context.policy.policy.roles_satisfying(required))
        if n not in requesters
    ]
    return (
        "Who can decide: " + ", ".join([*(f"{n} (requester)" for n in requesters), *others]) + "."
    )


def changed_high_risk(before: WorkflowDraft, after: WorkflowDraft) -> bool:
    """Tell whether going from ``before`` to ``after`` changed what a high-risk workflow does.

    That is: a high-risk step was added, removed or altered, or a condition or approval was
    when either version is high risk (they decide when its high-risk steps run). Whoever
    makes such a change is a requester of the new version (separation of duties).
    """
    old = {fingerprint(s): s for s in before.steps}
    new = {fingerprint(s): s for s in after.steps}
    changed = [old.get(key) or new[key] for key in old.keys() ^ new.keys()]
    high = any(s.risk == "high" for s in [*before.steps, *after.steps])
    return any(s.risk == "high" or (high and s.kind != "action") for s in changed)


def fingerprint(step: Step) -> str:
    """Return what a step does, apart from its position and the policy's risk marks."""
    content = step.model_dump(mode="json", exclude={"id", "risk", "blocked_reason"})
    return json.dumps(content, sort_keys=True)
