"""Policy checks on drafted workflows: risk per step, blocked steps, required approver roles.

The rules mirror ``knowledge/library/policies/do-not-automate.md`` and the Approval Matrix:
every action needs a human approval before dispatch; known-dangerous actions are high risk;
actions on the do-not-automate list are blocked outright.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.schemas import Risk, Step, WorkflowDraft
from connectors.operations import CATALOG
from connectors.registry import ConnectorRegistry

DO_NOT_AUTOMATE = "policies/do-not-automate.md"
RISK_ORDER: dict[Risk, int] = {"low": 0, "medium": 1, "high": 2}
DEFAULT_APPROVER = "manager"
SKIP_APPROVAL = re.compile(
    r"\b(without|no|skip\w*|bypass\w*|no need for|don'?t need|never)\s+(any\s+|an?\s+|the\s+)?"
    r"(human\s+|manual\s+)?(approval|review|sign[- ]?off|check\w*|underwriter|person|human|"
    r"one|anyone|somebody|someone)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RiskyPattern:
    """An action on the do-not-automate list, how to spot it and what policy does with it."""

    name: str
    pattern: re.Pattern[str]
    step_title: str
    endpoint: str
    role: str
    reason: str
    blocked: bool

    def matches(self, text: str) -> bool:
        """Tell whether ``text`` describes this action."""
        return bool(self.pattern.search(text))


def _p(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


RISKY: tuple[RiskyPattern, ...] = (
    RiskyPattern(
        "delete_records",
        _p(
            r"\b(delet\w*|purg\w*|wip\w*|eras\w*|remov\w*|drop)\b[^.;]{0,50}\b(customer|client|user|"
            r"employee|personal|account|contact)s?\b[^.;]{0,25}\b(records?|data|accounts?|profiles?|"
            r"rows?|entries|details|info)\b|\b(customer|user|employee)\s+(records?|data)\b[^.;]{0,30}"
            r"\b(delet\w*|purg\w*|wip\w*|eras\w*)"
        ),
        "Delete customer records",
        "https://crm.internal.northwind.example/api/records/delete",
        "compliance",
        "Deleting customer or employee records must be done by a person through the data "
        "deletion procedure",
        True,
    ),
    RiskyPattern(
        "bank_details",
        _p(
            r"\b(chang\w*|updat\w*|replac\w*|switch\w*|edit\w*|modif\w*)\b[^.;]{0,40}\b(bank|banking|"
            r"iban|routing|account number|payment details|remittance)\b|\b(bank|banking|iban|"
            r"remittance) (details|info\w*|accounts?|numbers?)\b[^.;]{0,30}\b(chang\w*|updat\w*|"
            r"replac\w*|switch\w*|edit\w*|modif\w*)"
        ),
        "Change bank details",
        "https://erp.internal.northwind.example/api/vendors/bank-details",
        "controller",
        "Bank details are changed only by a person after a call-back to a known number",
        True,
    ),
    RiskyPattern(
        "grant_access",
        _p(
            r"\b(grant\w*|give|giv\w*|provision\w*|add\w*|hand\w* out|elevat\w*)\b[^.;]{0,40}\b(admin\w*|"
            r"administrator|root|superuser|production access|prod access|elevated)\b|\badmin (rights|"
            r"access|privileges)\b[^.;]{0,40}\b(automatic\w*|auto)\b"
        ),
        "Grant admin access",
        "https://iam.internal.northwind.example/api/grants",
        "security",
        "Admin and production access is granted only by the security team",
        True,
    ),
    RiskyPattern(
        "terminate",
        _p(
            r"\b(auto[- ]?)?(terminat\w*|fir(e|ing)|dismiss\w*|let go)\b[^.;]{0,40}\b(employees?|staff|"
            r"workers?|contractors?|people|them)\b|\bauto[- ]?terminat\w*"
        ),
        "Terminate employment",
        "https://hr.internal.northwind.example/api/terminations",
        "hr",
        "Terminations are decided and carried out by HR and the manager, never automatically",
        True,
    ),
    RiskyPattern(
        "credit_decision",
        _p(
            r"\b(auto[- ]?|automatic\w*\s+)?(reject\w*|declin\w*|deny|denies|approv\w*)\b[^.;]{0,40}\b"
            r"(loan|credit|financing)\b[^.;]{0,20}\b(applications?|requests?|applicants?)?|\b(loan|"
            r"credit|financing) (applications?|requests?)\b[^.;]{0,40}\b(auto[- ]?)?(reject\w*|"
            r"declin\w*|deny)"
        ),
        "Decide the credit application",
        "https://lending.internal.northwind.example/api/decisions",
        "finance",
        "Final credit decisions are made by an underwriter, not automatically",
        True,
    ),
    RiskyPattern(
        "personal_data_out",
        _p(
            r"\b(customer|client|user|employee|personal|contact)\w*\s+(lists?|data|details|records|"
            r"info\w*|addresses|phone numbers|emails?)\b[^;]{0,80}@(?!northwind\.example)[\w-]+\.|"
            r"@(gmail|yahoo|hotmail|outlook|proton\w*)\.\w+"
        ),
        "Send personal data outside the company",
        "https://mail.internal.northwind.example/api/export",
        "compliance",
        "Personal data may not be sent to addresses outside northwind.example",
        True,
    ),
    RiskyPattern(
        "move_money",
        _p(
            r"\b(wire|wires|transfer\w*|pay\s?out\w*|payouts?|disburs\w*|send\w* money|move\w* money|"
            r"pay (the|all|every|any|vendors?|suppliers?|invoices?)|run\w* payroll|issu\w* (a |the )?refunds?|"
            r"auto[- ]?refund\w*|refund\w* (whatever|any|every|all|each|automatically|them|it)|"
            r"pay\w* (it |them |that )?out|schedul\w* (the )?"
            r"payments?|releas\w* (the )?payments?|execut\w* (the )?payments?)\b"
        ),
        "Move money",
        "https://payments.internal.northwind.example/api/transfers",
        "cfo",
        "Money is moved only with the approval the Approval Matrix requires",
        False,
    ),
    RiskyPattern(
        "legal_reply",
        _p(
            r"\b(repl\w*|respond\w*|answer\w*)\b[^.;]{0,40}\b(legal threats?|lawsuits?|attorneys?|subpoena\w*)"
        ),
        "Reply to a legal threat",
        "https://legal.internal.northwind.example/api/replies",
        "legal",
        "Legal threats are answered by the legal team",
        True,
    ),
)


def find_risky(text: str) -> list[RiskyPattern]:
    """Return the do-not-automate actions that ``text`` asks for."""
    return [p for p in RISKY if p.matches(text)]


def higher(a: Risk, b: Risk) -> Risk:
    """Return the higher of two risk levels."""
    return a if RISK_ORDER[a] >= RISK_ORDER[b] else b


class PolicyChecker:
    """Mark each step of a draft with risk, required approver role and blocked reason."""

    def __init__(self, registry: ConnectorRegistry | None = None) -> None:
        self.registry = registry

    def check(self, draft: WorkflowDraft) -> WorkflowDraft:
        """Return the draft with every step marked; same version, new content hash."""
        skip_requested = bool(SKIP_APPROVAL.search(draft.goal))
        steps = [self.check_step(step, skip_requested) for step in draft.steps]
        return draft.model_copy(update={"steps": steps}).sealed()

    def check_step(self, step: Step, skip_requested: bool) -> Step:
        """Return ``step`` marked by policy."""
        if step.kind != "action":
            return step.model_copy(update={"blocked_reason": None})
        risk: Risk = "low"
        role = step.approver_role or DEFAULT_APPROVER
        blocked: str | None = None
        operation = CATALOG.get(step.connector or "", {}).get(step.operation or "")
        if step.connector is None or operation is None:
            blocked = f"Unknown action {step.connector}.{step.operation}: nothing to run it with"
        else:
            risk = operation.risk
            blocked = params_problem(step)
        text = f"{step.title} {step.operation or ''} {step.params}"
        for pattern in find_risky(text):
            risk = "high"
            role = pattern.role
            if pattern.blocked:
                blocked = f"{pattern.reason} ({DO_NOT_AUTOMATE})"
            elif skip_requested:
                blocked = (
                    f"{pattern.reason}; the request asks to skip approval, which policy does "
                    f"not allow ({DO_NOT_AUTOMATE})"
                )
            break
        return step.model_copy(
            update={"risk": risk, "approver_role": role, "blocked_reason": blocked}
        )


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


def required_roles(draft: WorkflowDraft) -> list[str]:
    """Return the roles whose approval the draft needs before dispatch, strictest first."""
    roles: list[str] = []
    ordered = sorted(
        (s for s in draft.steps if s.kind == "action" and not s.blocked_reason),
        key=lambda s: -RISK_ORDER[s.risk],
    )
    for step in ordered:
        if step.approver_role and step.approver_role not in roles:
            roles.append(step.approver_role)
    return roles
