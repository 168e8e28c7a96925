"""Ticket replies: what the customer already tried, how sure a draft is, what is sensitive."""

from assistant.brain.offline.answering import MIN_CONFIDENCE, SENSITIVE, reply_confidence
from assistant.brain.offline.tried import repeats_tried, tried_actions
from assistant.schemas import Ticket
from assistant.services import Services
from knowledge.retrieval import Passage


def test_reported_actions_are_found_across_wrapped_lines() -> None:
    actions = tried_actions(
        "Our finance team needs the PDF. I've signed in and gone to Billing,\n"
        "Invoices twice now and there is no download option. Can someone send it?"
    )
    assert repeats_tried(
        "Sign in and go to Billing → Invoices, or open https://x.example/b.", actions
    )
    assert not repeats_tried("Only the owner and billing admins can see this page.", actions)


def test_a_message_without_a_report_of_tries_repeats_nothing() -> None:
    actions = tried_actions("How do I get a copy of my invoice from March?")
    assert actions == []
    assert not repeats_tried("Sign in and go to Billing → Invoices.", actions)


async def test_the_reply_leaves_out_the_step_the_customer_already_took(services: Services) -> None:
    ticket = Ticket.model_validate(
        {
            "id": "T2",
            "subject": "Where's the invoice download?",
            "body": "I've signed in and gone to Billing, Invoices twice now and there is no "
            "download option for me at all. Can someone send the PDF?",
            "customer": {"email": "k@example.com", "name": "Kemi Oduya"},
        }
    )
    passages = services.retriever.with_documents(
        services.retriever.search(ticket.body, kinds=["faq"], k=4), top=1
    )
    reply = await services.brain.draft_reply(ticket, passages)
    assert reply.citations[0].doc == "faq/invoice-copy.md"
    assert "Sign in and go to Billing" not in reply.body
    assert "tried so far" in reply.body


def test_an_article_far_ahead_of_the_rest_is_sure_even_with_low_scores() -> None:
    def ranked(*scores: float) -> list[Passage]:
        return [
            Passage(doc=f"faq/{i}.md", title=str(i), kind="faq", slug=str(i), text="", score=s)
            for i, s in enumerate(scores)
        ]

    assert reply_confidence(ranked(0.36, 0.29, 0.25)) >= MIN_CONFIDENCE
    assert reply_confidence(ranked(0.40, 0.38, 0.33)) < MIN_CONFIDENCE
    assert reply_confidence(ranked(0.20, 0.10)) < MIN_CONFIDENCE


def test_disputes_and_deletion_in_the_customers_words_are_sensitive() -> None:
    assert SENSITIVE.search("a payment I never authorised; I'll file a dispute with my bank")
    assert SENSITIVE.search("Please erase all of my personal information")
    assert not SENSITIVE.search("Can I remove my card details and add a new card?")
