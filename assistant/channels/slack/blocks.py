"""Block Kit for Slack: drafts with their buttons, results, answers, help and the edit modal.

Pure functions from contracts to Slack's JSON, so they are tested without Slack.
Slack's limits shape them: 50 blocks a message, 3,000 characters a section, 150 characters
a header; step titles are kept to 150 characters in the modal.
"""

from __future__ import annotations

import json
from typing import Any

from assistant.rendering import slack_text
from assistant.review import action_target, review_hash
from assistant.schemas import ReviewRequest, Source, Step, Ticket, WorkflowDraft

Block = dict[str, Any]

APPROVE = "flowdraft_approve"
EDIT = "flowdraft_edit"
REJECT = "flowdraft_reject"
EDIT_VIEW = "flowdraft_edit_view"
INSTRUCTION_BLOCK = "instruction"
REMOVE_BLOCK = "remove"
STEP_BLOCK_PREFIX = "step:"
SECTION_LIMIT = 3000
MAX_STEP_BLOCKS = 40
RISK_MARK = {"low": "low", "medium": "medium", "high": ":warning: *high*"}

HELP = (
    "*Flowdraft* turns a goal into a workflow you can review, edit and approve.\n"
    "• `/flowdraft <goal>` drafts a workflow, e.g. `/flowdraft every vendor invoice over "
    "$10,000 needs CFO sign-off; post a summary in #finance`. Approve, edit or reject it "
    "with the buttons; nothing runs before an approval by the right role.\n"
    "• `/flowdraft ask <question>` answers from the company's playbooks, policies and FAQ, "
    "with sources.\n"
    "• `/flowdraft queue` sends support agents the tickets whose drafted reply waits for "
    "them; the message shortcut *Draft a reply* drafts one for any message.\n"
    "• `/flowdraft inbox` lists the run approvals and tasks waiting for your decision, with "
    "Approve and Reject buttons; waiting runs are also sent to you in a direct message.\n"
    "• `/flowdraft runs [status|automation]` lists recent runs: status, automation and "
    "whom they wait on, e.g. `/flowdraft runs waiting`.\n"
    "• `/flowdraft help` shows this."
)


def text(markdown: str) -> Block:
    """Return a section of mrkdwn, cut to Slack's limit."""
    if len(markdown) > SECTION_LIMIT:
        markdown = markdown[: SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": markdown}}


def context(markdown: str) -> Block:
    """Return a small grey line."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": markdown[:SECTION_LIMIT]}]}


def escape(value: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return slack_text(value)


def step_line(number: int, step: Step) -> str:
    """Return one step as a mrkdwn line: what it does, its risk and who approves it."""
    does = {
        "action": f"`{step.connector}.{step.operation}`{escape(action_target(step))}",
        "approval": f"approval by *{step.approver_role}*",
        "condition": f"if `{escape(step.condition or '')}`",
        "human_task": f"task for {step.approver_role or 'a person'}",
    }[step.kind]
    flags = [f"risk {RISK_MARK[step.risk]}"]
    if step.approver_role and step.kind == "action":
        flags.append(f"approver *{step.approver_role}*")
    line = f"{number}. *{escape(step.title)}* — {does} ({', '.join(flags)})"
    if step.blocked_reason:
        line += f"\n      :no_entry: blocked: {escape(step.blocked_reason)}"
    return line


def sources_line(sources: list[Source]) -> str:
    """Return the cited documents as one line."""
    return "Sources: " + "; ".join(f"{escape(s.title)} (`{s.doc}`)" for s in sources)


def draft_blocks(
    draft: WorkflowDraft,
    request: ReviewRequest | None,
    *,
    status: str | None = None,
    notice: str | None = None,
) -> list[Block]:
    """Return a draft as blocks: title, trigger, numbered steps, sources, status and buttons.

    With a pending ``request`` the message carries Approve / Edit / Reject; without one
    (approved, rejected) it carries ``status`` instead.
    """
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": versioned(draft.title, draft.version)},
        },
        context(f"Trigger: {draft.trigger.kind} — {escape(draft.trigger.detail)}"),
    ]
    lines = [step_line(n, s) for n, s in enumerate(draft.steps, 1)]
    chunk: list[str] = []
    for line in lines:
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > SECTION_LIMIT - 10:
            blocks.append(text("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(text("\n".join(chunk)))
    if draft.sources:
        blocks.append(context(sources_line(draft.sources)))
    if notice:
        blocks.append(context(f":pencil2: {escape(notice)}"))
    if request is not None:
        notes = [
            escape(line)
            for line in request.description.splitlines()
            if line.startswith(("Approval needed", "Blocked by policy"))
        ]
        if notes:
            blocks.append(text("\n".join(notes)))
        blocks.append(review_actions(request))
    elif status:
        blocks.append(text(status))
    return blocks


def versioned(title: str, version: int, limit: int = 150) -> str:
    """Return ``title — vN`` within Slack's header limit, cutting the title, never the version."""
    suffix = f" — v{version}"
    if len(title) + len(suffix) > limit:
        title = title[: limit - len(suffix) - 1] + "…"
    return title + suffix


def review_actions(request: ReviewRequest) -> Block:
    """Return the buttons a review allows, each carrying the content hash it was shown with."""
    shown = review_hash(request)
    buttons: list[Block] = []
    if request.config.allow_accept:
        buttons.append(button(APPROVE, "Approve", style="primary", value=shown))
    if request.config.allow_edit or request.config.allow_respond:
        buttons.append(button(EDIT, "Edit", value=shown))
    if request.config.allow_ignore:
        buttons.append(button(REJECT, "Reject", style="danger", value=shown))
    return {"type": "actions", "block_id": "review", "elements": buttons}


def button(
    action_id: str, label: str, style: str | None = None, *, value: str | None = None
) -> Block:
    """Return a button; the thread comes from the message it sits on, not from its value.

    ``value`` is what a click sends back (the action id when none is given).
    """
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value or action_id,
    }
    if style:
        element["style"] = style
    return element


def answer_blocks(question: str, answer: str, sources: list[dict[str, Any]]) -> list[Block]:
    """Return an answer with its citations."""
    blocks = [context(f"Q: {escape(question)}"), text(escape(answer))]
    if sources:
        blocks.append(context(sources_line([Source.model_validate(s) for s in sources])))
    return blocks


def edit_modal(draft: WorkflowDraft, metadata: dict[str, str]) -> Block:
    """Return the modal over the steps: a title field per step, removals and an instruction."""
    blocks: list[Block] = []
    for number, step in enumerate(draft.steps[:MAX_STEP_BLOCKS], 1):
        blocks.append(
            {
                "type": "input",
                "block_id": f"{STEP_BLOCK_PREFIX}{step.id}",
                "optional": True,
                "label": {"type": "plain_text", "text": f"Step {number} ({step.kind})"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "title",
                    "initial_value": step.title[:150],
                    "max_length": 150,
                },
            }
        )
    options = [
        {"text": {"type": "plain_text", "text": f"{n}. {s.title}"[:75]}, "value": s.id}
        for n, s in enumerate(draft.steps[:MAX_STEP_BLOCKS], 1)
    ]
    blocks.append(
        {
            "type": "input",
            "block_id": REMOVE_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Remove steps"},
            # A multi-select: checkboxes take at most 10 options, drafts can have more steps.
            "element": {
                "type": "multi_static_select",
                "action_id": "steps",
                "placeholder": {"type": "plain_text", "text": "Steps to remove"},
                "options": options,
            },
        }
    )
    blocks.append(
        {
            "type": "input",
            "block_id": INSTRUCTION_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Or describe a change"},
            "hint": {
                "type": "plain_text",
                "text": "e.g. “send it to #ap-team instead”, “change the threshold to $25,000”, “remove step 3”",
            },
            "element": {
                "type": "plain_text_input",
                "action_id": "text",
                "multiline": True,
                "max_length": 2000,
            },
        }
    )
    return modal(EDIT_VIEW, "Edit the draft", "Save as new version", metadata, blocks)


def modal(
    callback_id: str, title: str, submit: str, metadata: dict[str, str], blocks: list[Block]
) -> Block:
    """Return a modal view; ``metadata`` comes back in its submission (private_metadata)."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title[:24]},  # Slack's limit for titles
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def read_edit_modal(values: dict[str, Any]) -> tuple[list[dict[str, str]], set[str], str]:
    """Return the submitted (step id, title) pairs, the removed step ids and the instruction.

    ``values`` is ``view.state.values`` of a ``view_submission`` payload.
    """
    titles = [
        {"id": block_id[len(STEP_BLOCK_PREFIX) :], "title": str(fields["title"].get("value") or "")}
        for block_id, fields in values.items()
        if block_id.startswith(STEP_BLOCK_PREFIX)
    ]
    chosen = values.get(REMOVE_BLOCK, {}).get("steps", {}).get("selected_options") or []
    removed = {str(option["value"]) for option in chosen}
    instruction = str(values.get(INSTRUCTION_BLOCK, {}).get("text", {}).get("value") or "")
    return titles, removed, instruction.strip()


REPLY_ACCEPT = "flowdraft_reply_accept"
REPLY_EDIT = "flowdraft_reply_edit"
REPLY_REJECT = "flowdraft_reply_reject"
REPLY_RETRY = "flowdraft_reply_retry"
REPLY_EDIT_VIEW = "flowdraft_reply_edit_view"
REPLY_REJECT_VIEW = "flowdraft_reply_reject_view"
DRAFT_REPLY_SHORTCUT = "flowdraft_draft_reply"
QUOTE_LIMIT = 1500


def reply_blocks(
    ref: str,
    ticket: Ticket,
    record: Any,
    citations: list[Source],
    *,
    status: str | None = None,
) -> list[Block]:
    """Return a ticket with its drafted reply and evidence, and the agent's buttons.

    ``record`` is the ticket's ``TicketReply``. A ticket routed to a person shows no draft
    that pretends to answer it: the agent writes the reply (Edit) or rejects it.
    """
    customer = ticket.customer.name or ticket.customer.email
    message = "\n".join("> " + line for line in ticket.body[:QUOTE_LIMIT].splitlines() or [""])
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{ref}: {ticket.subject}"[:150]},
        },
        context(
            f"From {escape(customer)} · {record.category}/{record.priority} · "
            f"confidence {record.confidence:.2f}"
        ),
        text(escape(message)),
    ]
    if record.route == "human":
        blocks.append(
            text(
                ":raising_hand: *Routed to a person*: this needs an agent's own answer. "
                "The sources below are the evidence found; write the reply with *Edit*."
            )
        )
    else:
        blocks.append(text("*Drafted reply*\n" + escape(record.drafted_body)))
    if citations:
        blocks.append(context(sources_line(citations)))
    if status is None and record.status == "failed":  # a queued failed delivery: say why
        status = failed_status(record.delivery)
    if status:
        blocks.append(text(status))
        if record.status == "failed":  # the agent may send it again, with the same key
            retry = {**button(REPLY_RETRY, "Retry sending", style="primary"), "value": ref}
            blocks.append({"type": "actions", "block_id": f"retry:{ref}", "elements": [retry]})
        return blocks
    buttons = [] if record.route == "human" else [button(REPLY_ACCEPT, "Accept", style="primary")]
    buttons += [button(REPLY_EDIT, "Edit"), button(REPLY_REJECT, "Reject", style="danger")]
    for element in buttons:
        element["value"] = ref
    blocks.append({"type": "actions", "block_id": f"reply:{ref}", "elements": buttons})
    return blocks


def failed_status(delivery: str) -> str:
    """Return the status line of a reply whose delivery failed, with the reason."""
    return f":x: Sending failed ({escape(delivery)})."


def reply_edit_modal(ref: str, body: str, metadata: dict[str, str]) -> Block:
    """Return the modal where an agent writes or edits the reply before it is sent."""
    field = {
        "type": "input",
        "block_id": "reply",
        "label": {"type": "plain_text", "text": "Reply to the customer"},
        "element": {
            "type": "plain_text_input",
            "action_id": "body",
            "multiline": True,
            "initial_value": body[:3000],
            "max_length": 3000,
        },
    }
    return modal(
        REPLY_EDIT_VIEW, f"Reply to {ref}", "Send reply", {**metadata, "ref": ref}, [field]
    )


def reply_reject_modal(ref: str, metadata: dict[str, str]) -> Block:
    """Return the modal asking why a drafted reply is rejected."""
    field = {
        "type": "input",
        "block_id": "reason",
        "label": {"type": "plain_text", "text": "Why is the draft wrong?"},
        "hint": {
            "type": "plain_text",
            "text": "e.g. wrong article, wrong tone, needs the billing team",
        },
        "element": {"type": "plain_text_input", "action_id": "text", "max_length": 500},
    }
    return modal(
        REPLY_REJECT_VIEW, f"Reject {ref}", "Reject draft", {**metadata, "ref": ref}, [field]
    )
