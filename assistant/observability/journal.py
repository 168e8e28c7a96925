"""The audit journal, also counted and noted on the current trace.

Every governance event already goes through the journal (drafts, edits, review answers,
approvals, refusals, drafted replies), so counting there measures exactly what the audit
log records, with no code in the graph's nodes. The event is also added to the current
span, so a trace shows who approved or refused what, and which version. A draft or a
revision made by a model brain also stores the model tokens it took (``model_tokens``).
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace

from assistant.db.journal import SqlJournal
from assistant.observability import metrics
from assistant.observability.tokens import current_counter

DESIGN_EVENTS = ("draft", "edit")
"""The events that cost a design model tokens: its first draft and each revision."""

SPAN_FIELDS = ("version", "type", "workflow", "automation_id", "run_id", "step_id", "ticket")
"""Event fields worth carrying onto the span (small, and what ties traces together)."""


def count_event(name: str, data: dict[str, Any]) -> None:
    """Move the metric an audit event stands for, if any."""
    if name == "draft":
        metrics.DRAFTS.inc()
    elif name == "edit":
        metrics.REVISIONS.inc()
    elif name == "decision":
        metrics.DRAFT_DECISIONS.labels(str(data.get("type", "unknown"))).inc()
    elif name == "approved":
        metrics.APPROVED.inc()
    elif name == "reply_drafted":
        metrics.reply_drafted(str(data.get("route", "draft")), float(data.get("confidence", 0.0)))
    elif name.endswith("_refused"):
        metrics.REFUSED.labels(name.removesuffix("_refused")).inc()


def note_on_span(name: str, actor: str, content_hash: str, data: dict[str, Any]) -> None:
    """Add the event to the current span, when one is being recorded."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, Any] = {"flowdraft.actor": actor}
    if content_hash:
        attributes["flowdraft.content_hash"] = content_hash
    for field in SPAN_FIELDS:
        value = data.get(field)
        if isinstance(value, str | int | float | bool):
            attributes[f"flowdraft.{field}"] = value
    if name == "approved":
        span.set_attribute("flowdraft.approver", ",".join(map(str, data.get("approvers") or [])))
    span.add_event(name, attributes)


class ObservedJournal(SqlJournal):
    """The app database's journal, whose events also move metrics and mark the trace."""

    def event(
        self, name: str, *, actor: str, thread: str, content_hash: str = "", **data: Any
    ) -> None:
        """Append an audit event, then count it and note it on the current span."""
        counter = current_counter() if name in DESIGN_EVENTS else None
        if counter is not None:
            spent_in, spent_out = counter.unreported()
            data = {**data, "model_tokens": {"input": spent_in, "output": spent_out}}
        super().event(name, actor=actor, thread=thread, content_hash=content_hash, **data)
        count_event(name, data)
        note_on_span(name, actor, content_hash, data)
