"""Answer questions and draft ticket replies by quoting the passages that were retrieved.

The offline brain never writes a fact of its own: every sentence that states a number or a
rule is copied from a cited passage, so it cannot invent policy. Passages are data: a sentence
the policy's injection patterns flag is never quoted, and a question about approvals is
answered from the policy documents first (see ``knowledge.screening``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from assistant.brain.offline.tried import repeats_tried, tried_actions
from assistant.schemas import Priority, ReplyDraft, Source, Ticket, Triage
from knowledge.embeddings import Embedder
from knowledge.library import split_front_matter
from knowledge.retrieval import Passage
from knowledge.screening import AUTHORITY_KIND, DocumentScreen, asks_about_approval
from knowledge.text import terms

FIGURE_QUESTION = re.compile(
    r"\b(how (long|much|many|soon|often)|who|most|limit|threshold|above|over|within|days?)\b|\d",
    re.IGNORECASE,
)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(*])")
MIN_CONFIDENCE = 0.45
"""Below this a ticket goes to a human with the evidence, not a draft that pretends to know."""
MIN_TOP_SCORE = 0.25
"""Below this the best article is no fit at all, however far it leads the others."""

SENSITIVE = re.compile(
    r"\b(lawyer|attorney|solicitor|legal (action|advice|steps|team|department)|legally|sue|"
    r"suing|lawsuit|court|small claims|trading standards|consumer (rights|protection)|"
    r"chargeback|charge back|(dispute|contest|reverse|revers\w+|cancel) (it|this|that|the|"
    r"those|these) (charge|payment|transaction)s? (with|through|via) (my|the|our) (bank|card)|"
    r"(my|our) (bank|card issuer|credit card company) (to|will|is going to) (reverse|dispute|"
    r"refund|block)|unauthori[sz]ed (charge|payment|transaction|debit)s?|(didn'?t|did not|never) "
    r"authori[sz]e\w*|(file|raise|open) a dispute with (my|the|our) (bank|card\w*)|gdpr|ccpa|"
    r"erasure|right to be forgotten|subject access|data protection "
    r"(request|authority|officer)|(delete|erase|remove|wipe|purge) (my|our) (personal )?"
    r"(account|data|information|details|profile|records)|(delete|erase|remove|wipe) "
    r"(everything|all (of )?(my|our) (personal )?(data|information)|all data)|"
    r"forget me|close (my|our) account and delete|regulator|ombudsman|fraud\w*|scam\w*|"
    r"identity theft|stolen (card|identity))\b",
    re.IGNORECASE,
)
"""Disputes, chargebacks, legal threats and deletion: a person's to answer, however clear."""
URGENT = re.compile(
    r"\b(urgent|asap|immediately|right now|emergency|outage|down for everyone|production down|"
    r"can'?t (log ?in|access) .*(team|company|everyone))\b",
    re.IGNORECASE,
)
HIGH = re.compile(
    r"\b(angry|furious|unacceptable|again|third time|still (not|no)|lawyer|chargeback|"
    r"locked out|can'?t log ?in|charged twice|double charged|broken|damaged)\b",
    re.IGNORECASE,
)


LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
EMPHASIS = re.compile(r"\*\*|__|`")
ENDS_SENTENCE = re.compile(r"[.!?][\"')\]]*$")
JOINS_ON = re.compile(r"(?:[,;]|\b(?:or|and))$")


def plain(text: str) -> str:
    """Return ``text`` without markdown emphasis and code marks."""
    return EMPHASIS.sub("", text).strip()


def table_rows(block: str) -> list[str]:
    """Turn a markdown table into one sentence per row: "Amount: above 10,000; Approver: cfo."."""
    rows = [
        [plain(cell).strip(" *") for cell in line.strip().strip("|").split("|")]
        for line in block.splitlines()
        if line.strip().startswith("|")
    ]
    rows = [r for r in rows if not all(set(cell) <= set("-: ") for cell in r)]
    if len(rows) < 2:
        return []
    header, body = rows[0], rows[1:]
    return [
        "; ".join(
            f"{name}: {value}" if name else value
            for name, value in zip(header, row, strict=False)
            if value
        )
        + "."
        for row in body
    ]


def split_prose(text: str) -> list[str]:
    """Split a paragraph into sentences, never inside a double-quoted message."""
    out: list[str] = []
    for piece in SENTENCE.split(text):
        if out and out[-1].count('"') % 2:
            out[-1] += " " + piece
        else:
            out.append(piece)
    return [s.strip() for s in out if s.strip()]


def is_complete(item: str) -> bool:
    """Tell whether a list item is a sentence of its own (capitalised, end punctuation)."""
    return item[:1].isupper() and bool(ENDS_SENTENCE.search(item))


def list_sentence(lead: str, items: list[str]) -> str:
    """Join list fragments to their lead-in: "You can update: name; VAT ID; PO number."."""
    parts = []
    for i, item in enumerate(items):
        if JOINS_ON.search(item) or (i == len(items) - 1 and ENDS_SENTENCE.search(item)):
            parts.append(item)
        else:
            parts.append(item.rstrip(".;,") + ("." if i == len(items) - 1 else ";"))
    return f"{lead} {' '.join(parts)}"


def blocks(body: str) -> list[str]:
    """Split markdown at blank lines, mending a table row that chunking cut in two."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", body):
        block = block.strip()
        if not block:
            continue
        last = out[-1].splitlines()[-1].strip() if out else ""
        if last.startswith("|") and not last.endswith("|"):
            out[-1] += " " + block
        else:
            out.append(block)
    return out


def block_sentences(block: str, lead: str) -> tuple[list[str], str]:
    """Return the sentences of one prose or list block, and its lead-in if it ends in ":".

    A list of fragments ("- company name", "- VAT ID") only means something with the
    sentence that introduces it, so it is quoted together with that lead-in, or not at all.
    """
    prose: list[str] = []
    items: list[str] = []
    for line in block.splitlines():
        if LIST_ITEM.match(line):
            items.append(plain(LIST_ITEM.sub("", line)))
        elif items:
            items[-1] += " " + plain(line)
        else:
            prose.append(plain(line))
    found = split_prose(" ".join(prose)) if prose else []
    if prose:
        lead = found.pop() if found and found[-1].endswith(":") else ""
    if items and all(is_complete(item) for item in items):
        found += [s for item in items for s in split_prose(item)]
    elif items and lead:
        found.append(list_sentence(lead, items))
    return found, "" if items else lead


def sentences(text: str) -> list[str]:
    """Split markdown prose into plain sentences (headings and front matter dropped).

    Table rows become sentences of their own, so a rule kept in a table can be quoted.
    A sentence is only kept when it is one: it ends with ".", "!" or a quote of one, so a
    bare title, a lead-in ending in ":" or a list fragment is never quoted on its own.
    """
    _, body = split_front_matter(text)
    out: list[str] = []
    lead = ""
    for block in blocks(body):
        if block.startswith("#"):
            lead = ""
        elif block.startswith("|"):
            out.extend(table_rows(block))
            lead = ""
        else:
            found, lead = block_sentences(block, lead)
            out.extend(
                s for s in found if len(s) > 25 and ENDS_SENTENCE.search(s) and not s.endswith("?")
            )
    return out


class Quoter:
    """Pick the sentences of retrieved passages that best answer a text.

    Sentences that ``screen`` flags (orders, or statements relaxing an approval) are never
    candidates, whatever the store holds.
    """

    def __init__(self, embedding: Embedder, screen: DocumentScreen | None = None) -> None:
        self.embedding = embedding
        self.screen = screen or DocumentScreen()

    def best_sentences(
        self,
        text: str,
        passages: list[Passage],
        limit: int = 3,
        skip: Callable[[str], bool] | None = None,
    ) -> list[str]:
        """Return up to ``limit`` sentences, in document order within the top passage first.

        Sentences ``skip`` rejects (an instruction the customer already followed) are left out.
        """
        candidates: list[tuple[int, int, str]] = []
        for rank, passage in enumerate(passages[:2]):
            for position, sentence in enumerate(sentences(passage.document or passage.text)):
                if not self.screen.flags(sentence) and not (skip and skip(sentence)):
                    candidates.append((rank, position, sentence))
        if not candidates:
            return []
        query = self.embedding.embed([text])[0]
        vectors = self.embedding.embed([c[2] for c in candidates])
        query_terms = set(terms(text))
        wants_figure = bool(FIGURE_QUESTION.search(text))
        scores = []
        for (rank, _, sentence), vector in zip(candidates, vectors, strict=True):
            shared = len(query_terms & set(terms(sentence))) / (len(query_terms) or 1)
            figure = 0.15 if wants_figure and re.search(r"\d", sentence) else 0.0
            scores.append(float(vector @ query) + 0.8 * shared + figure - 0.2 * rank)
        order = np.argsort(scores)[::-1][:limit]
        chosen = sorted((candidates[i] for i in order), key=lambda c: (c[0], c[1]))
        return [c[2] for c in chosen]


def quotable(question: str, passages: list[Passage]) -> list[Passage]:
    """Return the passages an answer may quote: for approval questions, the policies alone.

    Who must approve is the policy's to say, so when a policy document was retrieved an
    approval question quotes only policy documents; otherwise the best two passages.
    """
    if asks_about_approval(question):
        policies = [p for p in passages if p.kind == AUTHORITY_KIND]
        if policies:
            return policies[:2]
    return passages[:2]


def answer_text(question: str, passages: list[Passage], quoter: Quoter) -> str:
    """Answer ``question`` from the passages, naming the documents it quotes."""
    if not passages:
        return (
            "I couldn't find anything in the company library about that. Try rephrasing, or "
            "ask about a playbook, a policy or a help article."
        )
    chosen = quotable(question, passages)
    quoted = quoter.best_sentences(question, chosen, limit=3)
    titles = " and ".join(dict.fromkeys(p.title for p in chosen))
    body = " ".join(quoted) if quoted else quoter.screen.clean(chosen[0].text).strip()[:400]
    return f"From {titles}: {body}"


def triage(ticket: Ticket, passages: list[Passage]) -> Triage:
    """Return the ticket's category (from its best FAQ article) and priority."""
    text = f"{ticket.subject}\n{ticket.body}"
    category = passages[0].category if passages and passages[0].category else "general"
    priority: Priority = "normal"
    if URGENT.search(text):
        priority = "urgent"
    elif HIGH.search(text) or SENSITIVE.search(text):
        priority = "high"
    return Triage(category=category, priority=priority)


def reply_confidence(passages: list[Passage]) -> float:
    """Return how sure the reply is: the best score, discounted when the runner-up is close.

    Customers seldom use an article's words, which lowers every score of a ticket alike; an
    article that still leads the runner-up by a clear share of its own score
    (``RELATIVE_LEAD``) is as sure a pick as one with a high score.
    """
    if not passages:
        return 0.0
    top = passages[0].score
    margin = top - passages[1].score if len(passages) > 1 else top
    absolute = 0.75 * top + 1.5 * margin
    relative = 0.2 + 1.6 * margin / top if top >= MIN_TOP_SCORE else 0.0
    return float(max(0.0, min(1.0, max(absolute, relative))))


def draft_reply(ticket: Ticket, passages: list[Passage], quoter: Quoter) -> ReplyDraft:
    """Draft a reply grounded in the best FAQ passage, or route the ticket to a human."""
    text = f"{ticket.subject}\n{ticket.body}"
    citations = [Source(doc=p.doc, title=p.title, score=round(p.score, 4)) for p in passages[:3]]
    confidence = round(reply_confidence(passages), 3)
    sensitive = bool(SENSITIVE.search(text))
    greeting = f"Hi {ticket.customer.name.split()[0]}," if ticket.customer.name else "Hello,"
    to_human = sensitive or confidence < MIN_CONFIDENCE or not passages
    if to_human:
        reason = (
            "this needs a specialist's review"
            if sensitive
            else "I want to be sure you get an exact answer"
        )
        body = (
            f"{greeting}\n\nThank you for contacting Northwind support about "
            f'"{ticket.subject.strip()}". A member of our team will review your message '
            f"personally, because {reason}. We will get back to you as soon as possible.\n\n"
            "Best regards,\nNorthwind Support"
        )
    else:
        actions = tried_actions(ticket.body)
        quoted = quoter.best_sentences(
            text, passages[:1], limit=3, skip=lambda s: repeats_tried(s, actions)
        )
        skipped = actions and quoted != quoter.best_sentences(text, passages[:1], limit=3)
        ack = "Sorry that what you've tried so far hasn't worked. " if skipped else ""
        body = (
            f'{greeting}\n\nThanks for getting in touch about "{ticket.subject.strip()}".\n\n'
            + ack
            + " ".join(quoted)
            + f'\n\nYou can read the full article, "{passages[0].title}", in our help centre. '
            "If this doesn't solve it, just reply to this email and we'll take it from there.\n\n"
            "Best regards,\nNorthwind Support"
        )
    return ReplyDraft(
        body=body,
        citations=citations,
        confidence=confidence,
        route="human" if to_human else "draft",
        triage=triage(ticket, passages),
    )
