"""The chat-model brain with langchain-core's fake chat models, malformed output included."""

import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.brain.chat_model import ChatModelBrain, ModelUnavailable, load_chat_model
from assistant.schemas import Ticket
from assistant.services import Services
from knowledge.retrieval import Passage


def brain(
    services: Services, *responses: str, timeout: float = 5.0, sleep: float | None = None
) -> ChatModelBrain:
    model = FakeListChatModel(responses=list(responses), sleep=sleep)
    offline = services.brain
    playbooks = [p for p in offline.playbooks.values()]  # type: ignore[attr-defined]
    return ChatModelBrain(model, fallback=offline, playbooks=playbooks, timeout=timeout, retries=2)


INTENT = json.dumps({"kind": "automate", "confidence": 0.8, "slots": {"channel": "#ops"}})


async def test_structured_output_is_parsed(services: Services) -> None:
    intent = await brain(services, f"```json\n{INTENT}\n```").classify("post outages in #ops")
    assert intent.kind == "automate" and intent.slots == {"channel": "#ops"}


async def test_malformed_output_is_retried_with_the_error(services: Services) -> None:
    model_brain = brain(services, "sure! here you go", '{"kind": "automate"}', INTENT)
    intent = await model_brain.classify("post outages in #ops")
    assert intent.confidence == 0.8  # the third answer, after two invalid ones


async def test_output_that_stays_invalid_falls_back_to_offline(services: Services) -> None:
    intent = await brain(services, "nope", "still nope", "{}").classify("thanks!")
    assert intent.kind == "chitchat"  # the offline brain's answer


async def test_timeout_falls_back_to_offline(services: Services) -> None:
    slow = brain(services, INTENT, timeout=0.05, sleep=1.0)
    intent = await slow.classify("who approves a 50k invoice?")
    assert intent.kind == "question"


async def test_draft_from_the_model_is_sealed_and_cites_retrieval(services: Services) -> None:
    answer = json.dumps(
        {
            "title": "Invoice approvals",
            "playbook": "invoice-triage",
            "trigger": {"kind": "event", "detail": "invoice arrives"},
            "steps": [
                {"title": "CFO sign-off", "kind": "approval", "approver_role": "cfo"},
                {
                    "title": "Tell finance",
                    "kind": "action",
                    "connector": "slack",
                    "operation": "post_message",
                    "params": {"channel": "#finance", "text": "ok"},
                },
                {"title": "Fax it", "kind": "action", "connector": "fax", "operation": "send"},
            ],
        }
    )
    passages = [
        Passage(
            doc="playbooks/invoice-triage.md",
            title="Vendor invoice triage",
            kind="playbook",
            slug="invoice-triage",
            text="...",
            score=0.7,
        )
    ]
    intent = await services.brain.classify("invoices over 10k need the CFO")
    draft = await brain(services, answer).draft_workflow(
        "invoices over 10k need the CFO", intent, passages
    )
    assert draft.content_hash == draft.compute_hash()
    assert [s.id for s in draft.steps] == ["s1", "s2", "s3"]
    assert draft.sources[0].doc == "playbooks/invoice-triage.md"
    checked = services.policy.check(draft)
    assert checked.steps[2].blocked_reason  # the unknown connector is blocked, not dropped


async def test_citations_are_limited_to_retrieved_documents(services: Services) -> None:
    passages = [
        Passage(
            doc="faq/refund-policy.md",
            title="How refunds work",
            kind="faq",
            slug="refund-policy",
            text="Refunds take 5 days.",
            score=0.7,
        )
    ]
    reply = json.dumps(
        {
            "body": "Hi! Refunds take 5 days.",
            "confidence": 0.9,
            "route": "draft",
            "category": "billing",
            "priority": "normal",
            "cited_docs": ["faq/refund-policy.md", "faq/invented.md"],
        }
    )
    ticket = Ticket.model_validate(
        {"id": "T", "subject": "refund", "body": "when?", "customer": {"email": "a@example.com"}}
    )
    draft = await brain(services, reply).draft_reply(ticket, passages)
    assert [c.doc for c in draft.citations] == ["faq/refund-policy.md"]
    assert draft.route == "draft"


def test_missing_provider_package_is_a_clear_error() -> None:
    with pytest.raises(ModelUnavailable, match="uv add langchain-"):
        load_chat_model("anthropic:claude-sonnet-4-5")
