"""The shipped library: every slug in the contract, valid front matter, runnable templates."""

from pathlib import Path

import pytest

from assistant.brain.offline.drafting import merged_slots, template_steps
from assistant.policy import PolicyChecker
from assistant.schemas import ROLES, Slots, WorkflowDraft
from assistant.settings import Settings
from knowledge.library import load_library

PLAYBOOKS = [
    "invoice-triage",
    "expense-categorization",
    "claims-intake",
    "ticket-routing",
    "returns-refunds",
    "kyc-onboarding",
    "employee-onboarding",
    "employee-offboarding",
    "essay-grading",
    "social-monitoring",
    "incident-escalation",
    "loan-application",
    "vendor-onboarding",
    "contract-review",
    "lead-routing",
    "churn-outreach",
    "password-reset",
]
POLICIES = ["approval-matrix", "do-not-automate", "data-handling"]
FAQ = [
    "refund-policy",
    "return-window",
    "shipping-times",
    "order-tracking",
    "password-reset",
    "account-lockout",
    "billing-dispute",
    "invoice-copy",
    "cancel-subscription",
    "change-plan",
    "data-export",
    "account-deletion",
    "two-factor-setup",
    "api-rate-limits",
    "sso-setup",
    "pricing-tiers",
    "service-status",
    "support-hours",
    "warranty-claims",
    "damaged-item",
]

LIBRARY = {doc.doc: doc for doc in load_library(Settings().library)}


def test_every_contract_slug_is_shipped() -> None:
    expected = (
        [f"playbooks/{s}.md" for s in PLAYBOOKS]
        + [f"policies/{s}.md" for s in POLICIES]
        + [f"faq/{s}.md" for s in FAQ]
    )
    assert sorted(LIBRARY) == sorted(expected)


@pytest.mark.parametrize("doc", sorted(LIBRARY))
def test_documents_are_substantial_and_well_formed(doc: str) -> None:
    item = LIBRARY[doc]
    assert (
        item.kind
        == {"playbooks": "playbook", "policies": "policy", "faq": "faq"}[doc.split("/")[0]]
    )
    assert item.title and item.tags
    assert len(item.body.split()) >= 200


@pytest.mark.parametrize("slug", PLAYBOOKS)
def test_playbook_templates_fill_into_valid_steps(slug: str) -> None:
    playbook = LIBRARY[f"playbooks/{slug}.md"]
    steps = template_steps(playbook, merged_slots(playbook, Slots()))
    assert 3 <= len(steps) <= 8
    draft = PolicyChecker().check(
        WorkflowDraft(title=playbook.title, goal=slug, steps=steps).sealed()
    )
    for step in draft.steps:
        assert step.blocked_reason is None, f"{step.title}: {step.blocked_reason}"
        assert step.approver_role is None or step.approver_role in ROLES
        assert not any(f"{{{name}}}" in str(step.model_dump()) for name in Slots.model_fields)


def test_library_folder_is_where_settings_point() -> None:
    assert Path(Settings().library).joinpath("policies", "approval-matrix.md").is_file()
