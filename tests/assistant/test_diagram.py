"""The workflow diagram branches where a condition decides, and never cuts text mid-word."""

from __future__ import annotations

import re
from html import unescape

from assistant.diagram import workflow_svg
from assistant.schemas import Step, Trigger, WorkflowDraft

TRIGGER = (
    "A vendor invoice arrives in the accounts-payable inbox (ap@northwind.example) "
    "or is uploaded to the supplier portal by the vendor's own finance team"
)


def invoice() -> WorkflowDraft:
    """The invoice playbook's shape: two thresholds, each guarding its sign-off."""
    return WorkflowDraft(
        title="Vendor invoice triage",
        goal="Invoices over $10,000 need the CFO",
        trigger=Trigger(kind="event", detail=TRIGGER),
        steps=[
            Step(id="x", title="Check the amount", kind="condition", condition="amount > 10000"),
            Step(id="x", title="CFO signs off", kind="approval", approver_role="cfo"),
            Step(id="x", title="Check for very large", kind="condition", condition="amount > 1e5"),
            Step(id="x", title="CEO co-signs", kind="approval", approver_role="ceo"),
            Step(
                id="x",
                title="Post a summary in the finance channel",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#finance", "text": "x"},
            ),
        ],
    ).sealed()


def texts(svg: str) -> list[str]:
    return [unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_each_condition_has_a_yes_and_a_no_branch() -> None:
    svg = workflow_svg(invoice())
    shown = texts(svg)
    assert shown.count("yes") == 2
    assert shown.count("no") == 2
    # Both "no" paths skip a sign-off and land on a later step, drawn beside the flow.
    assert svg.count("<polyline") == 2


def test_a_filter_that_guards_every_later_step_skips_to_the_end() -> None:
    draft = WorkflowDraft(
        title="Negative mentions",
        goal="g",
        steps=[
            Step(id="x", title="Keep negative ones", kind="condition", condition="score < 0"),
            Step(id="x", title="Tell the team", kind="human_task", approver_role="support"),
        ],
    ).sealed()
    shown = texts(workflow_svg(draft))
    assert "no" in shown and "End" in shown


def test_long_trigger_and_titles_wrap_at_word_boundaries() -> None:
    draft = invoice().model_copy(
        update={"title": "Vendor invoice triage for every supplier of the Northwind group"}
    )
    shown = texts(workflow_svg(draft))
    words = set(" ".join(shown).split())
    for word in (TRIGGER + " " + draft.title).split():
        assert word in words, word  # each word whole, on one line or the next
