"""Block Kit for runs that wait for people: the ask with its values, outcomes, lists.

Pure functions from contracts to Slack's JSON. A run's values are shown as a reader says
them ("Amount: 52,000 USD", "Due: 12 Dec 2026"), never as JSON.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from assistant.channels.slack.asks import Ask
from assistant.channels.slack.blocks import Block, button, context, escape, modal, text
from assistant.policy.rules import Policy
from assistant.runtime.models import Run

RUN_APPROVE = "flowdraft_run_approve"
RUN_REJECT = "flowdraft_run_reject"
RUN_REJECT_VIEW = "flowdraft_run_reject_view"
IDENTIFIERS = ("number", "id", "ref", "reference", "code")
"""Keys whose value names the object they sit in ("Invoice INV-204")."""
CURRENCY_KEYS = ("currency", "ccy")
MAX_VALUE = 120
STATUS_MARK = {
    "running": ":arrows_counterclockwise:",
    "waiting": ":hourglass_flowing_sand:",
    "completed": ":white_check_mark:",
    "failed": ":x:",
    "rejected": ":no_entry_sign:",
    "cancelled": ":heavy_minus_sign:",
}


def label(key: str) -> str:
    """Return a field name as a reader says it: ``submitted_by`` -> ``Submitted by``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace(".", " ")
    words = " ".join(words.split()).lower()
    return words[:1].upper() + words[1:]


def when(moment: datetime) -> str:
    """Return a time as "12 Dec 2026 14:00 UTC"."""
    return f"{moment.day} {moment:%b %Y %H:%M} {moment.tzname() or 'UTC'}"


def readable(value: Any, *, money: bool = False, currency: str = "") -> str:
    """Return one value as a reader says it: amounts grouped, ISO dates spelled out."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if money and isinstance(value, int | float):
        amount = f"{value:,.2f}".removesuffix(".00")
        return f"{amount} {currency}".strip()
    if isinstance(value, str):
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                day = date.fromisoformat(value)
                return f"{day.day} {day:%b %Y}"
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})?", value):
                return when(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            pass
        shown = value
    elif isinstance(value, list):
        shown = ", ".join(readable(v) for v in value)
    else:
        shown = str(value)
    return shown if len(shown) <= MAX_VALUE else shown[: MAX_VALUE - 1] + "…"


def field_lines(values: dict[str, Any], policy: Policy, path: str = "") -> list[str]:
    """Return ``Label: value`` lines of one object's fields (nested objects flattened)."""
    currency = next((str(values[k]) for k in CURRENCY_KEYS if isinstance(values.get(k), str)), "")
    lines: list[str] = []
    for key, value in values.items():
        dotted = f"{path}{key}"
        if isinstance(value, dict):
            lines += [
                f"{label(key)} {line[:1].lower()}{line[1:]}"
                for line in field_lines(value, policy, f"{dotted}.")
            ]
        elif key in CURRENCY_KEYS and currency:
            continue  # shown beside the amounts it is the currency of
        else:
            money = policy.is_money_field(dotted) or policy.is_money_field(key)
            lines.append(f"{label(key)}: {readable(value, money=money, currency=currency)}")
    return lines


def event_summary(event: dict[str, Any], policy: Policy) -> list[tuple[str, list[str]]]:
    """Return the event as (heading, lines) per object: ``("Invoice INV-204", [...])``.

    Top-level values that are not objects come under an empty heading; the event's own
    ``id`` (a delivery key) is left out.
    """
    loose = {k: v for k, v in event.items() if not isinstance(v, dict) and k != "id"}
    parts: list[tuple[str, list[str]]] = []
    for key, value in event.items():
        if not isinstance(value, dict):
            continue
        name = next((str(value[k]) for k in IDENTIFIERS if value.get(k) not in (None, "")), "")
        fields = {k: v for k, v in value.items() if str(v) != name or k not in IDENTIFIERS}
        parts.append((f"{label(key)} {name}".strip(), field_lines(fields, policy, f"{key}.")))
    if loose:
        parts.append(("", field_lines(loose, policy)))
    return parts


def values_markdown(event: dict[str, Any], policy: Policy) -> str:
    """Return the event's values as mrkdwn: a bold heading per object, a line per field."""
    out: list[str] = []
    for heading, lines in event_summary(event, policy):
        if heading:
            out.append(f"*{escape(heading)}*")
        out += [f"• {escape(line)}" for line in lines]
    return "\n".join(out) or "_The event carries no values._"


def one_line(event: dict[str, Any], policy: Policy) -> str:
    """Return the event's values on one line (notifications, lists)."""
    parts = [
        ", ".join(filter(None, [heading, *(line.split(": ", 1)[-1] for line in lines[:3])]))
        for heading, lines in event_summary(event, policy)
    ]
    return "; ".join(p for p in parts if p)


def verb(ask: Ask) -> str:
    """Return what the ask asks for: "Approve" or "Mark done"."""
    return "Mark done" if ask.is_task else "Approve"


def about_line(ask: Ask) -> str:
    """Return the automation, version, run, roles and due time of an ask."""
    parts = []
    if ask.automation is not None:
        parts.append(f"*{escape(ask.automation.title)}* v{ask.automation.version}")
    parts.append(f"run `{ask.item.run_id}`")
    parts.append(f"needs {' and '.join(ask.needs) or 'any user'}")
    if ask.due_at is not None:
        parts.append(f"decide by {when(ask.due_at)}")
    return " · ".join(parts)


def fallback(ask: Ask, policy: Policy) -> str:
    """Return the notification text of an ask (what a phone shows)."""
    title = ask.automation.title if ask.automation else "A run"
    values = one_line(ask.run.event, policy) if ask.run else ""
    return escape(f"{title} waits for you: {ask.title}" + (f" ({values})" if values else ""))


def ask_blocks(
    ask: Ask, policy: Policy, *, status: str | None = None, escalated_to: list[str] | None = None
) -> list[Block]:
    """Return the message asking for ``ask``: the values, what and when, and its buttons.

    ``escalated_to`` names the roles it was escalated to, for the people asked as them;
    with ``status`` (an outcome) the buttons give way to it.
    """
    mark = ":clipboard:" if ask.is_task else ":raised_hand:"
    blocks = [text(f"{mark} *{verb(ask)}: {escape(ask.title)}*")]
    if ask.run is not None:
        blocks.append(text(values_markdown(ask.run.event, policy)))
    blocks.append(context(about_line(ask)))
    if escalated_to and status is None:
        ups = " or ".join(escalated_to)
        blocks.append(context(f":arrow_double_up: Escalated to {ups}: nobody decided in time."))
    if status is not None:
        blocks.append(text(status))
    else:
        blocks.append(decision_buttons(ask))
    return blocks


def decision_buttons(ask: Ask) -> Block:
    """Return Approve (or Mark done) and Reject, each carrying the inbox item's id."""
    return {
        "type": "actions",
        "block_id": f"run:{ask.item.id}"[:255],
        "elements": [
            button(RUN_APPROVE, verb(ask), style="primary", value=ask.item.id),
            button(RUN_REJECT, "Reject", style="danger", value=ask.item.id),
        ],
    }


def outcome_status(*, user: str, accept: bool, reason: str | None, task: bool, still: str) -> str:
    """Return the line that replaces an ask's buttons once it is decided."""
    if not accept:
        return f":no_entry_sign: Rejected by {escape(user)}: {escape(reason or 'no reason given')}"
    if still:
        return f":white_check_mark: Signed by {escape(user)}; it still needs {escape(still)}"
    done = "Marked done" if task else "Approved"
    return f":white_check_mark: {done} by {escape(user)}; the run goes on"


def reminder_text(ask: Ask) -> str:
    """Return the reminder posted under an ask that is still undecided."""
    due = f" It is due {when(ask.due_at)}." if ask.due_at else ""
    return f":alarm_clock: Reminder: *{escape(ask.title)}* still waits for a decision.{due}"


def reject_modal(item_id: str, metadata: dict[str, str]) -> Block:
    """Return the modal asking why a run's approval or task is rejected."""
    field = {
        "type": "input",
        "block_id": "reason",
        "label": {"type": "plain_text", "text": "Why is it rejected?"},
        "hint": {"type": "plain_text", "text": "The run stops; the requester reads this."},
        "element": {"type": "plain_text_input", "action_id": "text", "max_length": 500},
    }
    return modal(RUN_REJECT_VIEW, "Reject", "Reject", {**metadata, "item": item_id}, [field])


def inbox_blocks(asks: list[Ask], policy: Policy, *, shown: int, status: str = "") -> list[Block]:
    """Return the list of what a person may decide, each with its buttons."""
    blocks: list[Block] = [text(status)] if status else []
    if not asks:
        blocks.append(text(":inbox_tray: Nothing waits for your decision."))
        return blocks
    blocks.append(text(f":inbox_tray: *{len(asks)} waiting for your decision*"))
    for ask in asks[:shown]:
        blocks += [{"type": "divider"}, *ask_blocks(ask, policy)]
    if len(asks) > shown:
        blocks.append(context(f"…and {len(asks) - shown} more: see `flowdraft inbox`."))
    return blocks


def run_line(run: Run, title: str, waiting_on: str, policy: Policy) -> str:
    """Return one run as a line: status, automation and version, when, values, who it waits on."""
    mark = STATUS_MARK.get(run.status, "")
    line = f"{mark} *{run.status}* · {escape(title)} v{run.version} · `{run.id}` · {when(run.started_at)}"
    values = one_line(run.event, policy)
    if values:
        line += f"\n      {escape(values)}"
    if waiting_on:
        line += f"\n      waiting on {escape(waiting_on)}"
    return line
