"""Judgment on requests the playbooks do not spell out: vague ones, small talk, risky ones."""

import pytest

from assistant.brain.base import CHITCHAT_REPLY
from assistant.policy import PolicyChecker
from assistant.services import Services


@pytest.mark.parametrize(
    "text",
    [
        "whatever is over 15k",  # an amount, no process
        "something for #team-ops on Wednesdays",  # a channel and a day, no process
        "the controller, 3 grand",  # a role and an amount
        "each evening at 6",  # a time
        "approvals above 3,000 dollars are a pain",  # a word five playbooks share
        "hiring and firing, can you automate that",  # two processes, neither clearly
    ],
)
async def test_details_without_a_process_get_a_question_offering_playbooks(
    services: Services, text: str
) -> None:
    intent = await services.brain.classify(text)
    assert intent.kind == "clarify", intent
    titles = {d.title for d in services.brain.playbooks.values()}
    assert intent.question and any(title in intent.question for title in titles)


@pytest.mark.parametrize(
    "text",
    [
        "cheers, that was helpful",
        "ok, bye!",
        "are you a bot?",
        "what can you do for me?",
        "find me a cheap flight to Rome",
        "what's the capital of Australia?",
        "oops, never mind",
        "which company designed you?",
        "do you have a name?",
        "much obliged, catch you later",
        "can you remember our chat from yesterday?",
    ],
)
async def test_small_talk_and_off_topic_requests_are_recognised(
    services: Services, text: str
) -> None:
    intent = await services.brain.classify(text)
    assert intent.kind == "chitchat", intent


def test_the_small_talk_answer_says_what_the_assistant_can_do() -> None:
    assert "draft a workflow" in CHITCHAT_REPLY and "support tickets" in CHITCHAT_REPLY
    assert not CHITCHAT_REPLY.startswith("Hi")  # it also answers thanks and goodbyes


async def test_thanks_with_a_process_is_still_a_request(services: Services) -> None:
    intent = await services.brain.classify(
        "thanks! now, vendor invoices above 10k should need the CFO's approval"
    )
    assert intent.kind == "automate"


@pytest.mark.parametrize(
    ("text", "item", "policy_doc"),
    [
        (
            "switch off 2FA for every account in the sales team",
            "security_control",
            "approval-matrix",
        ),
        (
            "send a discount email to all of our customers tonight",
            "mass_message",
            "approval-matrix",
        ),
        (
            "give the new agency admin rights now, security review can wait",
            "grant_access",
            "do-not-automate",
        ),
        (
            "every Sunday, shred the archived HR files older than five years",
            "delete_records",
            "do-not-automate",
        ),
        (
            "upload the customer phone numbers and addresses to files@partner-crm.net daily",
            "personal_data_out",
            "do-not-automate",
        ),
    ],
)
async def test_a_risky_request_matching_no_playbook_is_drafted_with_its_action_guarded(
    services: Services, text: str, item: str, policy_doc: str
) -> None:
    intent = await services.brain.classify(text)
    assert intent.kind == "automate", intent
    draft = await services.brain.draft_workflow(text, intent, [])
    verdict = PolicyChecker().verdict(draft)
    risky = [s for s in verdict.draft.steps if s.kind == "action" and item in str(s.params)]
    assert risky, verdict.draft.steps
    step = risky[0]
    assert step.blocked_reason or step.approver_role
    said = " ".join([step.blocked_reason or "", *verdict.warnings])
    assert f"policies/{policy_doc}.md" in said, said
    assert step.risk == "high"


@pytest.mark.parametrize(
    "text",
    ["a weekly thing at 10am for the sales people", "we want tighter controls on spending"],
)
async def test_one_word_a_playbook_uses_does_not_draft_it(services: Services, text: str) -> None:
    intent = await services.brain.classify(text)
    assert intent.kind == "clarify", intent
