"""Support flows outside a chat: draft a reply for a ticket, answer a one-off question."""

from __future__ import annotations

from assistant.brain.base import Answer
from assistant.schemas import ReplyDraft, Ticket
from assistant.services import Services
from graphs.nodes.support import route_by_amount
from knowledge.retrieval import QUESTION_BOOST

REPLY_KINDS = ["faq", "policy"]


async def draft_ticket_reply(services: Services, ticket: Ticket) -> ReplyDraft:
    """Retrieve help articles for ``ticket`` and draft a grounded reply."""
    text = f"{ticket.subject}\n{ticket.body}"
    passages = services.retriever.search(text, kinds=REPLY_KINDS, k=4)
    passages = services.retriever.with_documents(passages, top=1)
    reply = await services.brain.draft_reply(ticket, passages)
    return route_by_amount(ticket, reply, services.policy.policy)


async def answer_question(services: Services, question: str) -> Answer:
    """Answer ``question`` from the whole library, with citations."""
    passages = services.retriever.search(question, k=4, boost=QUESTION_BOOST)
    passages = services.retriever.with_documents(passages, top=2)
    return await services.brain.answer(question, passages)
