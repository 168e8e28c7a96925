"""Apply the policy to drafts: risk, approver role and blocked reason per step; who may approve.

``check`` runs at draft time and again at activation, against the approved content hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.policy import conditions
from assistant.policy.destinations import (
    destination_problem,
    internal_email,
    params_problem,
)
from assistant.policy.facts import (
    is_refund,
    item_roles,
    missing_sign_off,
    required_items,
    step_items,
)
from assistant.policy.facts import workflow_amount as facts_amount
from assistant.policy.rules import DoNotAutomate, Policy, load_policy
from assistant.schemas import Risk, Step, WorkflowDraft
from connectors.operations import CATALOG

DO_NOT_AUTOMATE = "policies/do-not-automate.md"
RISK_ORDER: dict[Risk, int] = {"low": 0, "medium": 1, "high": 2}
OWNER = "owner"


def cited(item: DoNotAutomate) -> str:
    """Return the document an item's reason cites (the list's own path, as before, for its items)."""
    return DO_NOT_AUTOMATE if item.source == DO_NOT_AUTOMATE else item.cited


def higher(a: Risk, b: Risk) -> Risk:
    """Return the higher of two risk levels."""
    return a if RISK_ORDER[a] >= RISK_ORDER[b] else b


def workflow_amount(draft: WorkflowDraft, policy: Policy | None = None) -> float | None:
    """Return the largest amount the draft handles (money fields, params, the request)."""
    return facts_amount(draft, policy or load_policy())


@dataclass
class Verdict:
    """What policy says about a whole draft."""

    draft: WorkflowDraft
    risk: Risk
    required_roles: list[str]
    warnings: list[str] = field(default_factory=list)
    groups: list[list[str]] = field(default_factory=list)
    """Approval requirements: each group's roles need distinct people (e.g. cfo and ceo)."""

    @property
    def blocked(self) -> list[Step]:
        """Return the steps that will not run."""
        return [s for s in self.draft.steps if s.blocked_reason]


@dataclass
class Coverage:
    """How far approvals go towards the requirement groups."""

    matched: int
    covered: list[str]
    missing: list[str]


@dataclass
class Authorization:
    """The outcome of one approval attempt."""

    allowed: bool
    complete: bool
    covered: list[str]
    missing: list[str]
    reason: str


class PolicyChecker:
    """Check drafts against a ``Policy`` (the shipped default unless one is given)."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or load_policy()

    def find_risky(self, text: str) -> list[DoNotAutomate]:
        """Return the do-not-automate items ``text`` asks for."""
        return self.policy.risky(text)

    def skip_requested(self, text: str) -> bool:
        """Tell whether a request asks to skip approval."""
        return any(p.search(text) for p in self.policy.skip_approval)

    def injection(self, text: str) -> list[str]:
        """Return the passages of ``text`` that try to talk the assistant out of its rules."""
        return [m.group(0) for p in self.policy.injection for m in [p.search(text)] if m]

    def check(self, draft: WorkflowDraft) -> WorkflowDraft:
        """Return ``draft`` with every step marked (same version, new content hash)."""
        return self.verdict(draft).draft

    def verdict(self, draft: WorkflowDraft) -> Verdict:
        """Mark every step and work out the draft's risk and required approver roles.

        The whole draft is checked on every call, so an edit is judged like a new draft;
        requirements come from facts (amounts, the actions steps perform, what the request
        asks for) and the approval steps present never lower them.
        """
        skip = self.skip_requested(draft.goal)
        amount = workflow_amount(draft, self.policy)
        steps = [self.check_step(step, skip_requested=skip, amount=amount) for step in draft.steps]
        marked = draft.model_copy(update={"steps": steps}).sealed()
        warnings = []
        found = self.injection(draft.goal)
        if found:
            warnings.append(
                f"The request contains text that tries to change the rules ({found[0]!r}); "
                "it was ignored and every step is checked as usual."
            )
        if skip:
            warnings.append("The request asks to skip approval; policy does not allow that.")
        warnings += [
            f"Step {s.id} is marked: {s.blocked_reason}."
            for s in marked.steps
            if s.kind != "action" and s.blocked_reason
        ]
        risk: Risk = "low"
        for step in steps:
            if step.kind == "action" and not step.blocked_reason:
                risk = higher(risk, step.risk)
        if self.required_items(marked):
            risk = "high"
        groups = self.requirement_groups(marked, amount)
        warnings += self.missing_sign_offs(marked, amount)
        warnings += self.held_actions(marked, amount)
        roles = list(dict.fromkeys(role for group in groups for role in group))
        return Verdict(marked, risk, roles, warnings, groups)

    def check_step(self, step: Step, *, skip_requested: bool, amount: float | None) -> Step:
        """Return ``step`` marked by policy."""
        if step.kind != "action":
            problem = None
            if step.kind == "condition" or step.condition is not None:
                problem = conditions.problem(step.condition)
            return step.model_copy(update={"blocked_reason": problem})
        key = f"{step.connector}.{step.operation}"
        operation = CATALOG.get(step.connector or "", {}).get(step.operation or "")
        if step.connector is None or operation is None:
            reason = f"Unknown action {key}: no connector can run it"
            return step.model_copy(
                update={"risk": "high", "approver_role": None, "blocked_reason": reason}
            )
        if key in self.policy.blocked_operations:
            reason = f"{key} is blocked by policy"
            return step.model_copy(
                update={"risk": "high", "approver_role": None, "blocked_reason": reason}
            )
        risk: Risk = self.policy.risk.get(key, operation.risk)
        if step.connector == "email" and self.internal_email(step):
            risk = "low"
        blocked = params_problem(step) or self.destination_problem(step)
        role: str | None = None
        items = step_items(step, self.policy)
        if items:
            risk = "high"
            role = self.item_roles(
                items[0], amount, refund=is_refund(f"{step.title} {step.params}")
            )[0]
            blocking = next((i for i in items if i.action == "block"), None)
            if blocking is not None:
                blocked = f"{blocking.reason} ({cited(blocking)})"
            elif skip_requested:
                blocked = f"{items[0].reason}; the request asks to skip approval, which policy does not allow ({cited(items[0])})"
        if role is None:
            needed = self.policy.approvals.by_risk.get(risk, OWNER)
            role = None if needed == OWNER else needed
        return step.model_copy(
            update={"risk": risk, "approver_role": role, "blocked_reason": blocked}
        )

    def item_roles(
        self, item: DoNotAutomate, amount: float | None, *, refund: bool = False
    ) -> list[str]:
        """Return the roles that must approve a do-not-automate action (see ``facts``)."""
        return item_roles(self.policy, item, amount, refund=refund)

    def required_items(self, draft: WorkflowDraft) -> list[tuple[DoNotAutomate, list[str]]]:
        """Return each held-for-approval item the draft is, with what makes it that item."""
        return required_items(draft, self.policy)

    def missing_sign_offs(self, draft: WorkflowDraft, amount: float | None) -> list[str]:
        """Explain each required sign-off the draft has no approval step for."""
        approvers = [
            (s.id, [s.approver_role])
            for s in draft.steps
            if s.kind == "approval" and s.approver_role and not s.blocked_reason
        ]
        warnings = []
        for item, sources in self.required_items(draft):
            group = self.item_roles(item, amount, refund=is_refund(draft.goal))
            covered = self.match(group, approvers)
            missing = [r for r in group if r not in covered]
            if missing:
                warnings.append(missing_sign_off(item, sources, group, missing, amount))
        return warnings

    def held_actions(self, draft: WorkflowDraft, amount: float | None) -> list[str]:
        """Say which actions are held for a role on every run, why, and under which policy."""
        return [
            f"{item.step_title} ({' and '.join(sources)}) needs "
            f"{' and '.join(self.item_roles(item, amount, refund=is_refund(draft.goal)))} "
            f"on every run: {item.reason} ({item.cited})."
            for item, sources in self.required_items(draft)
        ]

    def internal_email(self, step: Step) -> bool:
        """Tell whether every recipient of an email step is an internal address."""
        return internal_email(step, self.policy.destinations)

    def destination_problem(self, step: Step) -> str | None:
        """Return why a step's destination is not allowed, if it is not."""
        return destination_problem(step, self.policy.destinations)

    def requirement_groups(
        self, draft: WorkflowDraft, amount: float | None = None
    ) -> list[list[str]]:
        """Return the approval requirements of ``draft``, strictest first.

        A group of several roles (the "cfo and ceo" tier) needs that many different people;
        separate groups may be satisfied by the same person. Actions the request asks for
        count even when their step was removed.
        """
        amount = workflow_amount(draft, self.policy) if amount is None else amount
        groups: list[list[str]] = []
        ordered = sorted(
            (s for s in draft.steps if s.kind == "action" and not s.blocked_reason),
            key=lambda s: -RISK_ORDER[s.risk],
        )
        for step in ordered:
            items = step_items(step, self.policy)
            group = [step.approver_role] if step.approver_role else []
            if items:
                group = self.item_roles(
                    items[0], amount, refund=is_refund(f"{step.title} {step.params}")
                )
            if group and group not in groups:
                groups.append(group)
        for item, _ in self.required_items(draft):
            group = self.item_roles(item, amount, refund=is_refund(draft.goal))
            if group not in groups:
                groups.append(group)
        return groups

    def authorize(
        self,
        verdict: Verdict,
        *,
        approver: str,
        approver_roles: list[str] | None,
        requesters: list[str],
        prior: list[dict[str, object]],
        open_mode: bool,
    ) -> Authorization:
        """Decide whether ``approver`` may approve, and whether approval is now complete.

        ``approver_roles`` is None for an unknown user. ``requesters`` are who asked for this
        version: the original requester and whoever changed a high-risk step of it (none of
        them may approve a high-risk version). ``prior`` are earlier partial
        approvals of the same content (``{"user", "roles"}``). In ``open_mode`` (no users
        configured) any approval counts, and the result says so.
        """
        required = verdict.required_roles
        if open_mode:
            return Authorization(
                True, True, required, [], "no users are configured, so roles are not checked"
            )
        if approver_roles is None:
            return Authorization(False, False, [], required, f"{approver} is not a known user")
        sod = self.policy.separation_of_duties.requester_may_not_approve_high_risk
        if sod and verdict.risk == "high" and approver in requesters:
            return Authorization(
                False,
                False,
                [],
                required,
                f"{approver} requested or changed this high-risk workflow and may not approve it "
                "(separation of duties)",
            )
        if any(p.get("user") == approver for p in prior):
            return Authorization(
                False, False, [], required, f"{approver} has already approved this version"
            )
        holders = [(str(p["user"]), [str(r) for r in p.get("roles", [])]) for p in prior]  # type: ignore[attr-defined]
        groups = verdict.groups or [[role] for role in required]
        before = self.cover(groups, holders)
        holders.append((approver, approver_roles))
        after = self.cover(groups, holders)
        covered, missing = after.covered, after.missing
        if required and after.matched <= before.matched:
            return Authorization(
                False,
                False,
                before.covered,
                missing,
                f"{approver} does not hold a role this approval still needs ({', '.join(missing)})",
            )
        return Authorization(
            True, not missing, covered, missing, "approved" if not missing else "partially approved"
        )

    def approvals_suffice(
        self, verdict: Verdict, approvals: list[tuple[str, list[str]]], requesters: list[str]
    ) -> str | None:
        """Return why ``approvals`` (user, current roles) do not cover ``verdict``, or None."""
        sod = self.policy.separation_of_duties.requester_may_not_approve_high_risk
        if sod and verdict.risk == "high" and any(user in requesters for user, _ in approvals):
            return "a requester approved a high-risk workflow (separation of duties)"
        groups = verdict.groups or [[role] for role in verdict.required_roles]
        missing = self.cover(groups, approvals).missing
        if missing:
            return f"the current approvers no longer cover {', '.join(missing)}"
        return None

    def cover(self, groups: list[list[str]], holders: list[tuple[str, list[str]]]) -> Coverage:
        """Match approvers to every requirement group.

        Within a group each approver counts for one role, so "cfo and ceo" needs two people
        even though a ceo may stand in for an absent cfo; exact role holders are preferred.
        Groups are independent: one person may satisfy several groups.
        """
        covered: list[str] = []
        missing: list[str] = []
        matched = 0
        for group in groups:
            got = self.match(group, holders)
            matched += len(got)
            covered += [r for r in got if r not in covered]
            missing += [r for r in group if r not in got and r not in missing]
        return Coverage(matched, covered, missing)

    def match(self, roles: list[str], holders: list[tuple[str, list[str]]]) -> list[str]:
        """Return the largest set of ``roles`` distinct holders can cover, exact holders first."""
        best: tuple[int, int, list[str]] = (0, 0, [])

        def search(index: int, used: frozenset[str], covered: list[str], exact: int) -> None:
            nonlocal best
            if index == len(roles):
                if (len(covered), exact) > best[:2]:
                    best = (len(covered), exact, list(covered))
                return
            role = roles[index]
            for user, held in holders:
                if user not in used and self.policy.satisfies(held, role):
                    search(index + 1, used | {user}, [*covered, role], exact + (role in held))
            search(index + 1, used, covered, exact)

        search(0, frozenset(), [], 0)
        return best[2]
