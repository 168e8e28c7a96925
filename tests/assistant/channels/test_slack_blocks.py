"""Block Kit for Slack without Slack: commands, drafts, the edit modal and results, checked
against Slack's limits with slack_sdk's own Block Kit models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from assistant.channels.slack.app import parse_command
from assistant.channels.slack.blocks import (
    APPROVE,
    EDIT,
    EDIT_VIEW,
    INSTRUCTION_BLOCK,
    REJECT,
    REMOVE_BLOCK,
    REPLY_ACCEPT,
    REPLY_EDIT,
    REPLY_REJECT,
    REPLY_RETRY,
    SECTION_LIMIT,
    STEP_BLOCK_PREFIX,
    answer_blocks,
    draft_blocks,
    edit_modal,
    escape,
    read_edit_modal,
    reply_blocks,
    text,
)
from assistant.db.tables import TicketReply
from assistant.review import workflow_review
from assistant.schemas import Customer, ReviewConfig, Source, Step, Ticket, Trigger, WorkflowDraft
from tests.support.slack import blocks_text, buttons


def invoice_draft(version: int = 2) -> WorkflowDraft:
    """Return a sealed draft with one step of each kind, a blocked step and a source."""
    return WorkflowDraft(
        title="Vendor invoice sign-off",
        goal="Invoices over $10,000 need the CFO",
        version=version,
        trigger=Trigger(kind="event", detail="invoice received > $10,000"),
        steps=[
            Step(id="x", title="Check the amount", kind="condition", condition="amount > 10000"),
            Step(id="x", title="CFO signs off", kind="approval", approver_role="cfo"),
            Step(
                id="x",
                title="Post a summary",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#finance"},
                approver_role="cfo",
                risk="high",
            ),
            Step(
                id="x",
                title="Pay the vendor",
                kind="action",
                connector="webhook",
                operation="post",
                params={"url": "https://pay.example/run"},
                risk="medium",
                blocked_reason="payments are never automated",
            ),
            Step(id="x", title="File the invoice", kind="human_task"),
        ],
        sources=[Source(doc="playbooks/invoice-triage.md", title="Invoice triage", score=0.9)],
    ).sealed()


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def step_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """Return the numbered step lines, in order."""
    return [
        line
        for s in sections(blocks)
        for line in s.splitlines()
        if line[:1].isdigit() and ". *" in line
    ]


def assert_valid_for_slack(blocks: list[dict[str, Any]]) -> None:
    """Check Slack's limits: slack_sdk's models, non-empty sections, 50 blocks a message."""
    assert len(blocks) <= 50
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= SECTION_LIMIT


# -- /flowdraft text ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("", ("help", "")),
        ("   ", ("help", "")),
        ("help", ("help", "")),
        ("HELP me", ("help", "")),
        ("ask Who approves refunds over $500?", ("ask", "Who approves refunds over $500?")),
        ("Ask   who signs contracts?  ", ("ask", "who signs contracts?")),
        ("ask", ("ask", "")),
        ("ask   ", ("ask", "")),
        ("frobnicate", ("unknown", "frobnicate")),
        ("  Drafts  ", ("unknown", "Drafts")),
        (
            "  Every vendor invoice over $10,000 needs CFO sign-off ",
            ("draft", "Every vendor invoice over $10,000 needs CFO sign-off"),
        ),
        ("asking around is a goal too", ("draft", "asking around is a goal too")),
    ],
)
def test_parse_command(typed: str, parsed: tuple[str, str]) -> None:
    assert parse_command(typed) == parsed


# -- the draft message ------------------------------------------------------------------


def test_draft_blocks_show_version_steps_risks_approvers_and_sources() -> None:
    draft = invoice_draft(version=2)
    blocks = draft_blocks(draft, workflow_review(draft, roles=["cfo"]))
    assert_valid_for_slack(blocks)

    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Vendor invoice sign-off — v2"
    assert "Trigger: event — invoice received &gt; $10,000" in blocks_text(blocks)

    lines = step_lines(blocks)
    assert len(lines) == 5
    assert [line.split(".", 1)[0] for line in lines] == ["1", "2", "3", "4", "5"]
    assert lines[0].startswith("1. *Check the amount* — if `amount &gt; 10000`")
    assert "(risk low)" in lines[0]
    assert "approval by *cfo*" in lines[1]
    assert "`slack.post_message` → #finance" in lines[2]
    assert "risk :warning: *high*, approver *cfo*" in lines[2]
    assert "`webhook.post` → https://pay.example/run" in lines[3] and "risk medium" in lines[3]
    assert "task for a person" in lines[4]

    shown = blocks_text(blocks)
    assert ":no_entry: blocked: payments are never automated" in shown
    assert "Sources: Invoice triage (`playbooks/invoice-triage.md`)" in shown
    assert "Approval needed to make v2 live: cfo." in shown
    assert "Blocked by policy (will not run): step 4." in shown


def test_buttons_only_while_a_review_is_pending_and_a_status_line_otherwise() -> None:
    draft = invoice_draft()
    pending = draft_blocks(draft, workflow_review(draft, roles=["cfo"]))
    assert buttons(pending) == [APPROVE, EDIT, REJECT]
    assert pending[-1]["type"] == "actions"
    styles = {e["action_id"]: e.get("style") for e in pending[-1]["elements"]}
    assert styles == {APPROVE: "primary", EDIT: None, REJECT: "danger"}
    # Each button sends back the content hash of the version it is shown with.
    assert {e["value"] for e in pending[-1]["elements"]} == {draft.content_hash}

    approved = draft_blocks(draft, None, status=":white_check_mark: Approved by carla.")
    assert not buttons(approved)
    assert approved[-1] == text(":white_check_mark: Approved by carla.")
    assert not buttons(draft_blocks(draft, None)) and "Approved" not in blocks_text(
        draft_blocks(draft, None)
    )

    # A review that allows neither edits nor typed answers shows no Edit button.
    request = workflow_review(draft, roles=["cfo"]).model_copy(
        update={"config": ReviewConfig(allow_edit=False, allow_respond=False)}
    )
    assert buttons(draft_blocks(draft, request)) == [APPROVE, REJECT]


def test_the_notice_of_the_last_change_is_shown() -> None:
    blocks = draft_blocks(invoice_draft(), None, notice="Changed the channel to <#ops>")
    assert ":pencil2: Changed the channel to &lt;#ops&gt;" in blocks_text(blocks)


def test_many_long_steps_are_split_into_sections_within_slacks_limits() -> None:
    steps = [
        Step(id="x", title=f"Step {n:02d} " + "check the ledger entry " * 18, kind="human_task")
        for n in range(1, 41)
    ]
    draft = WorkflowDraft(title="Month-end close", goal="close the month", steps=steps).sealed()
    blocks = draft_blocks(draft, workflow_review(draft, roles=["controller"]))
    assert_valid_for_slack(blocks)
    assert len(sections(blocks)) > 2
    # Nothing is lost: every step is shown, once, in order.
    lines = step_lines(blocks)
    assert [line.split(".", 1)[0] for line in lines] == [str(n) for n in range(1, 41)]


def test_a_very_long_first_step_makes_no_empty_section() -> None:
    steps = [
        Step(id="x", title="Review " + "every clause " * 300, kind="human_task"),
        Step(id="x", title="File it", kind="human_task"),
    ]
    draft = WorkflowDraft(title="Contract review", goal="review contracts", steps=steps).sealed()
    assert all(sections(draft_blocks(draft, None)))


def test_a_long_title_keeps_the_version_in_the_header() -> None:
    draft = WorkflowDraft(
        title="Quarterly vendor review " * 8,
        goal="review vendors",
        version=3,
        steps=[Step(id="x", title="Review", kind="human_task")],
    ).sealed()
    header = draft_blocks(draft, None)[0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("v3")


# -- the edit modal ---------------------------------------------------------------------


def submitted(
    modal: dict[str, Any], titles: dict[str, str], removed: list[str], instruction: str | None
) -> dict[str, Any]:
    """Return ``view.state.values`` as Slack submits ``modal`` filled in this way."""
    values: dict[str, Any] = {}
    for block in modal["blocks"]:
        block_id = block["block_id"]
        if block_id.startswith(STEP_BLOCK_PREFIX):
            step = block_id[len(STEP_BLOCK_PREFIX) :]
            value = titles.get(step, block["element"]["initial_value"])
            values[block_id] = {"title": {"type": "plain_text_input", "value": value}}
    options = {o["value"]: o for o in modal["blocks"][-2]["element"]["options"]}
    values[REMOVE_BLOCK] = {
        "steps": {"type": "checkboxes", "selected_options": [options[s] for s in removed]}
    }
    values[INSTRUCTION_BLOCK] = {"text": {"type": "plain_text_input", "value": instruction}}
    return values


def test_edit_modal_round_trip() -> None:
    draft = invoice_draft()
    metadata = {"team": "T0FLOW", "channel": "C0FINANCE", "ts": "1.2", "hash": draft.content_hash}
    modal = edit_modal(draft, metadata)
    View(**modal).validate_json()
    assert modal["type"] == "modal" and modal["callback_id"] == EDIT_VIEW
    assert json.loads(modal["private_metadata"]) == metadata

    fields = [b for b in modal["blocks"] if b["block_id"].startswith(STEP_BLOCK_PREFIX)]
    assert [f["block_id"] for f in fields] == [f"step:s{n}" for n in range(1, 6)]
    assert [f["element"]["initial_value"] for f in fields] == [s.title for s in draft.steps]
    assert fields[1]["label"]["text"] == "Step 2 (approval)"
    remove = modal["blocks"][-2]
    assert remove["block_id"] == REMOVE_BLOCK
    assert [o["value"] for o in remove["element"]["options"]] == ["s1", "s2", "s3", "s4", "s5"]
    assert remove["element"]["options"][0]["text"]["text"] == "1. Check the amount"
    assert modal["blocks"][-1]["block_id"] == INSTRUCTION_BLOCK

    values = submitted(
        modal,
        titles={"s1": "Check the amount against the PO"},
        removed=["s4"],
        instruction="  send it to #ap-team instead \n",
    )
    titles, removed, instruction = read_edit_modal(values)
    assert titles[0] == {"id": "s1", "title": "Check the amount against the PO"}
    assert [t["id"] for t in titles] == ["s1", "s2", "s3", "s4", "s5"]
    assert titles[1] == {"id": "s2", "title": "CFO signs off"}
    assert removed == {"s4"}
    assert instruction == "send it to #ap-team instead"


def test_an_untouched_modal_reads_as_no_change() -> None:
    modal = edit_modal(invoice_draft(), {})
    titles, removed, instruction = read_edit_modal(submitted(modal, {}, [], None))
    assert [t["title"] for t in titles] == [s.title for s in invoice_draft().steps]
    assert removed == set() and instruction == ""
    # A cleared field comes as null; missing removal and instruction blocks mean none.
    assert read_edit_modal({"step:s1": {"title": {"value": None}}}) == (
        [{"id": "s1", "title": ""}],
        set(),
        "",
    )


def test_edit_modal_keeps_titles_and_options_within_slacks_lengths() -> None:
    long = "Reconcile the vendor statement with the ledger " * 5
    draft = WorkflowDraft(
        title="t", goal="g", steps=[Step(id="x", title=long, kind="human_task")]
    ).sealed()
    modal = edit_modal(draft, {})
    View(**modal).validate_json()
    field = modal["blocks"][0]["element"]
    assert len(field["initial_value"]) == 150 and field["max_length"] == 150
    assert len(modal["blocks"][-2]["element"]["options"][0]["text"]["text"]) == 75


OPTION_LIMITS = {"checkboxes": 10, "radio_buttons": 10, "static_select": 100}
"""Slack's per-element option limits (slack_sdk's models do not check them)."""
OPTION_LIMITS["multi_static_select"] = OPTION_LIMITS["static_select"]


def test_edit_modal_for_a_long_draft_offers_every_step_for_removal() -> None:
    steps = [Step(id=f"s{n}", title=f"Step {n}", kind="human_task") for n in range(1, 13)]
    modal = edit_modal(WorkflowDraft(title="t", goal="g", steps=steps).sealed(), {})
    elements = [b["element"] for b in modal["blocks"] if "options" in b.get("element", {})]
    for element in elements:
        assert len(element["options"]) <= OPTION_LIMITS[element["type"]], element["type"]
    removal = next(b for b in modal["blocks"] if b["block_id"] == "remove")["element"]
    assert [option["value"] for option in removal["options"]] == [s.id for s in steps]


# -- results, answers and escaping -----------------------------------------------------------


def test_answer_blocks_cite_their_sources() -> None:
    source = {"doc": "faq/refund-policy.md", "title": "Refunds & returns", "score": 0.8}
    blocks = answer_blocks("Who approves <$500> refunds?", "The support lead.", [source])
    assert_valid_for_slack(blocks)
    assert blocks_text(blocks).splitlines() == [
        "Q: Who approves &lt;$500&gt; refunds?",
        "The support lead.",
        "Sources: Refunds &amp; returns (`faq/refund-policy.md`)",
    ]


def test_escape_neutralises_slacks_control_characters() -> None:
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert escape("&lt;") == "&amp;lt;"  # '&' first, so text is escaped exactly once
    assert escape("<!channel> <@U0ANA> <https://x.example|x>") == (
        "&lt;!channel&gt; &lt;@U0ANA&gt; &lt;https://x.example|x&gt;"
    )


def test_user_text_cannot_mention_or_link_from_a_draft() -> None:
    draft = WorkflowDraft(
        title="Ping <!channel> & co",
        goal="g",
        trigger=Trigger(kind="manual", detail="<@U0BOSS> says so"),
        steps=[
            Step(
                id="x",
                title="Tell <!here> about <https://evil.example|this>",
                kind="human_task",
                blocked_reason="needs <b>review</b> & sign-off",
            )
        ],
        sources=[Source(doc="faq/a.md", title="A <b> & c", score=0.1)],
    ).sealed()
    blocks = draft_blocks(draft, workflow_review(draft, roles=[]), notice="<!everyone> changed")
    shown = blocks_text(blocks[1:])  # the header is plain_text: Slack does not parse it
    assert "<" not in shown and ">" not in shown
    assert "Tell &lt;!here&gt; about &lt;https://evil.example|this&gt;" in shown
    assert "needs &lt;b&gt;review&lt;/b&gt; &amp; sign-off" in shown
    assert "&lt;@U0BOSS&gt; says so" in shown and "A &lt;b&gt; &amp; c" in shown
    assert blocks[0]["text"]["text"] == "Ping <!channel> & co — v1"


def test_text_is_cut_to_a_section() -> None:
    cut = text("x" * (SECTION_LIMIT + 10))["text"]["text"]
    assert len(cut) == SECTION_LIMIT and cut.endswith("…")
    assert text("short") == {"type": "section", "text": {"type": "mrkdwn", "text": "short"}}


def test_a_queued_failed_delivery_shows_its_reason_and_only_the_retry_button() -> None:
    ticket = Ticket(
        id="ZD-1",
        subject="Where is my parcel?",
        body="It shipped four days ago.",
        customer=Customer(email="kim@customer.example", name="Kim Ode"),
    )
    failed = TicketReply(
        ticket_id=1,
        thread="ticket-HD-1",
        drafted_body="Hi Kim",
        status="failed",
        decision="accepted",
        delivery="failed: cannot reach SMTP server <@U0ALL>",
    )
    blocks = reply_blocks("HD-1", ticket, failed, [])
    assert_valid_for_slack(blocks)
    assert buttons(blocks) == [REPLY_RETRY]
    retry = blocks[-1]["elements"][0]
    assert retry["value"] == "HD-1" and retry["text"]["text"] == "Retry sending"
    assert "Sending failed (failed: cannot reach SMTP server &lt;@U0ALL&gt;)" in blocks_text(blocks)

    waiting = TicketReply(ticket_id=1, thread="ticket-HD-1", drafted_body="Hi Kim")
    assert buttons(reply_blocks("HD-1", ticket, waiting, [])) == [
        REPLY_ACCEPT,
        REPLY_EDIT,
        REPLY_REJECT,
    ]
