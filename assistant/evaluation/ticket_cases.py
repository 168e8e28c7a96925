"""Score ticket cases on the path the support desk uses: the chat graph's reply path."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from assistant.evaluation.answering import repeated_steps
from assistant.evaluation.grounding import check_reply
from assistant.evaluation.metrics import Metric
from assistant.schemas import ReplyDraft, Ticket
from assistant.services import Services
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner
from knowledge.library import cached_library


async def desk_reply(runner: ChatRunner, ticket: Ticket) -> ReplyDraft:
    """Draft the reply to ``ticket`` as the support desk does (triage, retrieval, review)."""
    thread = f"eval-ticket-{ticket.id}"
    async for _ in runner.send_ticket(thread, ticket, ref=ticket.id):
        pass
    state = await runner.state(thread)
    return ReplyDraft.model_validate(state["reply"])


def score_grounding(
    services: Services, ticket: Ticket, reply: ReplyDraft, metrics: dict[str, Metric]
) -> list[dict[str, str]]:
    """Score whether ``reply`` greets, gives a next step and states only what it cites.

    Returns the unsupported claim sentences as ``{"ticket", "sentence"}`` rows.
    See ``assistant.evaluation.grounding`` for what counts as a claim and as support.
    """
    library = {d.doc: d for d in cached_library(str(services.settings.library))}
    cited = [library[c.doc] for c in reply.citations if c.doc in library]
    check = check_reply(
        reply.body,
        {d.doc: f"# {d.title}\n\n{d.body}" for d in cited},
        ticket_text=f"{ticket.subject}\n{ticket.body}",
        titles=tuple(c.title for c in reply.citations),
    )
    for sentence in check.claims:
        ok = sentence not in check.unsupported
        metrics["reply claims supported"].add(ok, f"{ticket.id} ({reply.route}): {sentence}")
    metrics["replies without unsupported claims"].add(
        not check.unsupported, f"{ticket.id} ({reply.route}): {len(check.unsupported)} unsupported"
    )
    metrics["replies greet the customer"].add(check.greets, f"{ticket.id}: {reply.body[:40]!r}")
    metrics["replies give a next step"].add(check.next_step, f"{ticket.id} ({reply.route})")
    return [{"ticket": ticket.id, "sentence": s} for s in check.unsupported]


async def score_tickets(
    services: Services, cases: list[dict[str, Any]], metrics: dict[str, Metric]
) -> list[dict[str, str]]:
    """Draft a reply for every ticket case and score citations, routing, grounding, answers.

    Returns every unsupported claim sentence, with its ticket id.
    """
    runner = ChatRunner(build_chat_graph(InMemorySaver()), services.context())
    unsupported: list[dict[str, str]] = []
    for case in cases:
        ticket = Ticket.model_validate(case["ticket"])
        reply = await desk_reply(runner, ticket)
        top = [c.doc for c in reply.citations[:3]]
        label = f"{ticket.id} ({case['faq']}): {ticket.subject[:50]}"
        metrics["FAQ citation hit@3"].add(f"faq/{case['faq']}.md" in top, f"{label} -> {top}")
        if case.get("sensitive"):
            metrics["sensitive tickets to a human"].add(reply.route == "human", label)
        else:
            metrics["routine tickets drafted"].add(reply.route == "draft", label)
        if case.get("tried"):
            again = repeated_steps(reply.body, list(case["tried"]))
            metrics["replies answer what was asked"].add(not again, f"{label} repeats {again}")
        unsupported += score_grounding(services, ticket, reply, metrics)
    return unsupported
