"""The offline brain: intents, playbook choice and drafting over the shipped library."""

import pytest

from assistant.brain.offline.answering import sentences
from assistant.schemas import Ticket
from assistant.services import Services


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance",
            "automate",
        ),
        ("When someone resigns, revoke their access and collect the laptop", "automate"),
        ("who needs to approve a payment of 40,000?", "question"),
        ("automate this for me", "clarify"),
        ("thanks!", "chitchat"),
        ("remove step 2", "revise"),
    ],
)
async def test_classifies_intent(services: Services, text: str, kind: str) -> None:
    intent = await services.brain.classify(text)
    assert intent.kind == kind


async def test_a_vague_request_gets_one_clarifying_question(services: Services) -> None:
    intent = await services.brain.classify("can you set up a workflow?")
    assert intent.kind == "clarify"
    assert intent.question and intent.question.endswith("approve or be told.")
    assert intent.missing == ["process"]


async def test_draft_fills_the_playbook_with_the_request(services: Services) -> None:
    goal = "Supplier invoices above 25k EUR need the controller to sign off; tell #ap-team; also email ap@northwind.example"
    intent = await services.brain.classify(goal)
    passages = services.retriever.search(goal, kinds=["playbook", "policy"], k=4)
    draft = await services.brain.draft_workflow(goal, intent, passages)
    assert draft.playbook == "invoice-triage"
    conditions = [s.condition for s in draft.steps if s.kind == "condition"]
    assert any("25000" in (c or "") for c in conditions)
    assert any(s.kind == "approval" and s.approver_role == "controller" for s in draft.steps)
    assert any(s.connector == "slack" and s.params["channel"] == "#ap-team" for s in draft.steps)
    assert any(
        s.connector == "email" and "ap@northwind.example" in s.params["to"] for s in draft.steps
    )
    assert "playbooks/invoice-triage.md" in [s.doc for s in draft.sources]
    assert not any("{channel}" in str(s.params) for s in draft.steps)


async def test_risky_request_gets_an_explicit_step_for_policy_to_block(services: Services) -> None:
    goal = "Automatically delete customer records for anyone inactive for two years"
    intent = await services.brain.classify(goal)
    draft = services.policy.check(await services.brain.draft_workflow(goal, intent, []))
    blocked = [s for s in draft.steps if s.blocked_reason]
    assert blocked and blocked[0].title == "Delete customer records"


async def test_answers_quote_the_cited_policy(services: Services) -> None:
    passages = services.retriever.with_documents(
        services.retriever.search(
            "What is the most a manager can approve alone?", k=4, boost={"policy": 0.08}
        )
    )
    answer = await services.brain.answer("What is the most a manager can approve alone?", passages)
    assert answer.sources and answer.text.startswith("From ")
    available = [s for p in passages for s in sentences(p.document)]
    quoted = answer.text.split(": ", 1)[1]
    used = [s for s in available if s in quoted]
    assert used and len(" ".join(used)) == len(quoted)  # nothing but quoted sentences


async def test_reply_is_grounded_or_goes_to_a_human(services: Services) -> None:
    ticket = Ticket.model_validate(
        {
            "id": "T1",
            "subject": "Where is my parcel?",
            "body": "I ordered a lamp last week and have no tracking number yet.",
            "customer": {"email": "jo@example.com", "name": "Jo Park"},
        }
    )
    passages = services.retriever.with_documents(
        services.retriever.search(ticket.body, kinds=["faq"], k=4), top=1
    )
    reply = await services.brain.draft_reply(ticket, passages)
    assert reply.body.startswith("Hi Jo,")
    assert reply.citations[0].doc.startswith("faq/")
    legal = ticket.model_copy(update={"body": "My lawyer will sue you over this charge."})
    assert (await services.brain.draft_reply(legal, passages)).route == "human"


def test_rules_kept_in_tables_can_be_quoted() -> None:
    text = "---\ntitle: T\n---\n\n| Amount | Required approver |\n|---|---|\n| up to 1,000 | manager |\n| above 10,000 | cfo |\n"
    assert sentences(text) == [
        "Amount: up to 1,000; Required approver: manager.",
        "Amount: above 10,000; Required approver: cfo.",
    ]


def test_a_list_is_quoted_with_its_lead_in_and_fragments_never_alone() -> None:
    text = (
        "---\ntitle: T\n---\n\nHow do I track my order?\n\n# How do I track my order?\n\n"
        'You\'ll see the message **"Account temporarily locked. Try again later."**\n\n'
        "Under **Billing** you can update:\n\n- company name\n- **VAT or tax ID**\n\n"
        "Contact us if:\n\n- no tracking number appears **2 business days** after payment,\n"
        "- tracking has been frozen for 5 business days, or\n- the parcel is missing.\n\n"
        "| | Starter | Business |\n| --- | --- | --- |\n| Price | **$12** per user | **$29** per user |\n"
    )
    assert sentences(text) == [
        'You\'ll see the message "Account temporarily locked. Try again later."',
        "Under Billing you can update: company name; VAT or tax ID.",
        "Contact us if: no tracking number appears 2 business days after payment, tracking "
        "has been frozen for 5 business days, or the parcel is missing.",
        "Price; Starter: $12 per user; Business: $29 per user.",
    ]
