"""Apply the policy to drafts: risk, approver role and blocked reason per step; who may approve.

``check`` runs at draft time and again at dispatch, against the approved content hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

from assistant.policy.rules import DoNotAutomate, Policy, load_policy
from assistant.schemas import Risk, Step, WorkflowDraft
from connectors.operations import CATALOG, is_runtime

DO_NOT_AUTOMATE = "policies/do-not-automate.md"
APPROVAL_MATRIX = "policies/approval-matrix.md"
RISK_ORDER: dict[Risk, int] = {"low": 0, "medium": 1, "high": 2}
OWNER = "owner"
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")


def higher(a: Risk, b: Risk) -> Risk:
    """Return the higher of two risk levels."""
    return a if RISK_ORDER[a] >= RISK_ORDER[b] else b


def workflow_amount(draft: WorkflowDraft) -> float | None:
    """Return the largest amount the draft's conditions compare against, if any."""
    amounts = []
    for step in draft.steps:
        if step.kind == "condition" and step.condition:
            for number in NUMBER.findall(step.condition):
                amounts.append(float(number.replace(",", "")))
    return max(amounts) if amounts else None


def email_addresses(step: Step) -> list[str]:
    """Return an email step's recipients, ``to`` and ``cc``, each given as a string or a list."""
    addresses: list[str] = []
    for key in ("to", "cc"):
        value = step.params.get(key) or []
        addresses += [str(a) for a in ([value] if isinstance(value, str) else value)]
    return addresses


def step_text(step: Step) -> str:
    """Return the text of a step that policy patterns are matched against."""
    return f"{step.title} {step.operation or ''} {step.params}"


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
        """Mark every step and work out the draft's risk and required approver roles."""
        skip = self.skip_requested(draft.goal)
        amount = workflow_amount(draft)
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
        risk: Risk = "low"
        for step in steps:
            if step.kind == "action" and not step.blocked_reason:
                risk = higher(risk, step.risk)
        groups = self.requirement_groups(marked, amount)
        roles = list(dict.fromkeys(role for group in groups for role in group))
        return Verdict(marked, risk, roles, warnings, groups)

    def check_step(self, step: Step, *, skip_requested: bool, amount: float | None) -> Step:
        """Return ``step`` marked by policy."""
        if step.kind != "action":
            return step.model_copy(update={"blocked_reason": None})
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
        for item in self.find_risky(step_text(step)):
            risk = "high"
            roles = self.item_roles(item, step, amount)
            role = roles[0]
            if item.action == "block":
                blocked = f"{item.reason} ({DO_NOT_AUTOMATE})"
            elif skip_requested:
                blocked = f"{item.reason}; the request asks to skip approval, which policy does not allow ({DO_NOT_AUTOMATE})"
            break
        if role is None:
            needed = self.policy.approvals.by_risk.get(risk, OWNER)
            role = None if needed == OWNER else needed
        return step.model_copy(
            update={"risk": risk, "approver_role": role, "blocked_reason": blocked}
        )

    def item_roles(self, item: DoNotAutomate, step: Step, amount: float | None) -> list[str]:
        """Return the roles that must approve a do-not-automate step."""
        if item.amount_roles and amount is not None:
            refund = "refund" in step_text(step).lower()
            roles = self.policy.roles_for_amount(amount, refund=refund)
            if roles:
                return roles
        return [item.role]

    def internal_email(self, step: Step) -> bool:
        """Tell whether every recipient of an email step is an internal address."""
        addresses = email_addresses(step)
        return bool(addresses) and all(
            not is_runtime(a) and self.policy.destinations.email_allowed(a) for a in addresses
        )

    def destination_problem(self, step: Step) -> str | None:
        """Return why a step's destination is not allowed, if it is not."""
        where = self.policy.destinations
        params = step.params
        if step.connector == "slack":
            channel = str(params.get("channel", ""))
            if not is_runtime(channel) and not where.slack_channel.match(channel):
                return f"Slack channel {channel!r} is not allowed: only public #channels ({APPROVAL_MATRIX})"
        if step.connector == "email":
            for address in email_addresses(step):
                if not is_runtime(address) and not where.email_allowed(address):
                    return (
                        f"Email to {address} is not allowed: outside {', '.join(where.email_domains)}; "
                        f"customer addresses must come from ticket data ({APPROVAL_MATRIX})"
                    )
        if step.connector == "webhook":
            url = str(params.get("url", ""))
            if is_runtime(url):
                return f"Webhook URL {url} is only known at run time, so its host cannot be checked"
            host = urlparse(url).hostname or ""
            if not where.host_allowed(host):
                return (
                    f"Webhook host {host or url!r} is not on the allowed list ({APPROVAL_MATRIX})"
                )
        return None

    def requirement_groups(
        self, draft: WorkflowDraft, amount: float | None = None
    ) -> list[list[str]]:
        """Return the approval requirements of ``draft``, strictest first.

        A group of several roles (the "cfo and ceo" tier) needs that many different people;
        separate groups may be satisfied by the same person.
        """
        amount = workflow_amount(draft) if amount is None else amount
        groups: list[list[str]] = []
        ordered = sorted(
            (s for s in draft.steps if s.kind == "action" and not s.blocked_reason),
            key=lambda s: -RISK_ORDER[s.risk],
        )
        for step in ordered:
            group = [step.approver_role] if step.approver_role else []
            for item in self.find_risky(step_text(step)):
                group = self.item_roles(item, step, amount)
                break
            if group and group not in groups:
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


def params_problem(step: Step) -> str | None:
    """Return a one-line description of why a step's params fail its operation's schema."""
    operation = CATALOG.get(step.connector or "", {}).get(step.operation or "")
    if operation is None:
        return None
    try:
        operation.params.model_validate(step.params)
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            parts = [
                f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in errors()
            ]
            return "Invalid params: " + "; ".join(parts)
        return f"Invalid params: {exc}"
    return None
