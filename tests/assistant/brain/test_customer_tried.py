"""Replies do not tell a customer to redo what they say they already tried."""

from assistant.brain.offline.tried import repeats_tried, tried_actions
from assistant.schemas import Ticket
from assistant.services import Services


def test_reported_actions_are_found_across_wrapped_lines() -> None:
    actions = tried_actions(
        "Our finance team needs the PDF. I've signed in and gone to Billing,\n"
        "Invoices twice now and there is no download option. Can someone send it?"
    )
    assert repeats_tried("Sign in and go to Billing → Invoices, or open https://x.example/b.", actions)
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
