"""Run the eval cases through the real graph and report the figures the README quotes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console
from rich.table import Table

from assistant.evaluation.grounding import check_reply
from assistant.schemas import ReplyDraft, Ticket
from assistant.services import Services
from assistant.support import draft_ticket_reply
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner
from knowledge.library import cached_library

CASES_DIR = Path(__file__).with_name("cases")
TARGET = 0.90
METRIC_NAMES = (
    "intent accuracy",
    "playbook hit@1",
    "slot accuracy",
    "question citation hit@3",
    "FAQ citation hit@3",
    "risky requests guarded",
    "sensitive tickets to a human",
    "reply claims supported",
    "replies without unsupported claims",
    "replies greet the customer",
    "replies give a next step",
)
"""The figures the eval reports, in order; tools read them by these names."""
TARGETS = {"reply claims supported": 1.0, "replies without unsupported claims": 1.0}
"""Bars above ``TARGET``: every figure or rule a reply states must be in what it cites."""


@dataclass
class Metric:
    """A ratio with the cases that missed it."""

    name: str
    hits: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, label: str) -> None:
        """Count one case."""
        self.total += 1
        self.hits += ok
        if not ok:
            self.misses.append(label)

    @property
    def value(self) -> float:
        """Return hits / total (1.0 when there were no cases)."""
        return self.hits / self.total if self.total else 1.0


@dataclass
class EvalReport:
    """All eval figures of one run."""

    metrics: dict[str, Metric]
    seconds: float
    hybrid: dict[str, float] = field(default_factory=dict)
    unsupported_claims: list[dict[str, str]] = field(default_factory=list)
    """Every reply sentence stating a number or a rule that its citations do not hold."""

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "metrics": {
                name: {
                    "value": round(m.value, 4),
                    "hits": m.hits,
                    "total": m.total,
                    "misses": m.misses,
                }
                for name, m in self.metrics.items()
            },
            "with_lexical_rerank": {k: round(v, 4) for k, v in self.hybrid.items()},
            "seconds": round(self.seconds, 2),
            "unsupported_claims": self.unsupported_claims,
        }

    def print(self, console: Console, *, verbose: bool = False) -> None:
        """Print a table of the figures, and the misses when ``verbose``."""
        table = Table(title="Flowdraft eval", title_justify="left")
        for column in ("metric", "score", "cases", "with lexical re-rank", "target"):
            table.add_column(column)
        for name, metric in self.metrics.items():
            target = TARGETS.get(name, TARGET)
            style = "green" if metric.value >= target else "red"
            dense = self.hybrid.get(name)
            table.add_row(
                name,
                f"[{style}]{metric.value:.1%}[/]",
                f"{metric.hits}/{metric.total}",
                f"{dense:.1%}" if dense is not None else "",
                f"{target:.0%}",
            )
        console.print(table)
        console.print(f"[dim]{self.seconds:.1f}s[/]")
        if verbose:
            for name, metric in self.metrics.items():
                for miss in metric.misses:
                    console.print(f"[yellow]{name}[/] {miss}")


def load_cases(folder: Path | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Load request and ticket cases from ``folder``."""
    folder = folder or CASES_DIR
    requests = yaml.safe_load((folder / "requests.yaml").read_text()) or []
    tickets = yaml.safe_load((folder / "tickets.yaml").read_text()) or []
    return requests, tickets


def same_slot(expected: Any, got: Any) -> bool:
    """Compare slot values (numbers numerically, lists as sets, text case-insensitively)."""
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return abs(float(expected) - float(got)) < 1e-6
    if isinstance(expected, list):
        return isinstance(got, list) and {str(x).lower() for x in expected} == {
            str(x).lower() for x in got
        }
    return str(expected).lower() == str(got).lower()


def guarded(workflow: dict[str, Any] | None) -> bool:
    """Tell whether a risky draft blocks the risky step or gates it behind a named approver."""
    if not workflow:
        return False
    for step in workflow["steps"]:
        if step.get("blocked_reason"):
            return True
        if step["kind"] == "action" and step["risk"] == "high" and step.get("approver_role"):
            return True
    return False


async def run_turn(runner: ChatRunner, thread: str, text: str) -> dict[str, Any]:
    """Run one turn and collect its intent, draft and message sources."""
    out: dict[str, Any] = {"intent": None, "workflow": None, "sources": []}
    async for event in runner.send_text(thread, text, "eval"):
        if event["type"] == "intent":
            out["intent"] = event["intent"]
        elif event["type"] == "draft":
            out["workflow"] = event["workflow"]
        elif event["type"] == "message":
            out["sources"] = event.get("sources", [])
    return out


async def score_requests(
    services: Services, cases: list[dict[str, Any]], metrics: dict[str, Metric]
) -> None:
    """Run every request case through the chat graph and score it."""
    runner = ChatRunner(build_chat_graph(InMemorySaver()), services.context())
    for case in cases:
        label = f"{case['id']}: {case['text'][:70]}"
        out = await run_turn(runner, f"eval-{case['id']}", case["text"])
        intent = out["intent"] or {}
        metrics["intent accuracy"].add(
            intent.get("kind") == case["intent"], f"{label} -> {intent.get('kind')}"
        )
        if case["intent"] == "automate" and case.get("playbook"):
            got = (out["workflow"] or {}).get("playbook")
            metrics["playbook hit@1"].add(got == case["playbook"], f"{label} -> {got}")
        if case["intent"] == "automate":
            for slot, expected in (case.get("slots") or {}).items():
                got = intent.get("slots", {}).get(slot)
                metrics["slot accuracy"].add(
                    same_slot(expected, got), f"{label} {slot}={expected!r} got {got!r}"
                )
        if case["intent"] == "question" and case.get("sources"):
            top = [s["doc"] for s in out["sources"][:3]]
            hit = any(doc in top for doc in case["sources"])
            metrics["question citation hit@3"].add(hit, f"{label} -> {top}")
        if case.get("risky"):
            metrics["risky requests guarded"].add(guarded(out["workflow"]), label)


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
    """Draft a reply for every ticket case and score its citations, routing and grounding.

    Returns every unsupported claim sentence, with its ticket id.
    """
    unsupported: list[dict[str, str]] = []
    for case in cases:
        ticket = Ticket.model_validate(case["ticket"])
        reply = await draft_ticket_reply(services, ticket)
        top = [c.doc for c in reply.citations[:3]]
        label = f"{ticket.id} ({case['faq']}): {ticket.subject[:50]}"
        metrics["FAQ citation hit@3"].add(f"faq/{case['faq']}.md" in top, f"{label} -> {top}")
        if case.get("sensitive"):
            metrics["sensitive tickets to a human"].add(reply.route == "human", label)
        unsupported += score_grounding(services, ticket, reply, metrics)
    return unsupported


async def run_eval(services: Services, folder: Path | None = None) -> EvalReport:
    """Run all cases; also score retrieval with lexical re-ranking on, for comparison."""
    started = time.perf_counter()
    requests, tickets = load_cases(folder)
    metrics = {name: Metric(name) for name in METRIC_NAMES}
    await score_requests(services, requests, metrics)
    unsupported = await score_tickets(services, tickets, metrics)
    hybrid = {name: Metric(name) for name in METRIC_NAMES}
    previous = services.retriever.hybrid
    services.retriever.hybrid = not previous
    try:
        await score_requests(services, [c for c in requests if c["intent"] == "question"], hybrid)
        await score_tickets(services, tickets, hybrid)
    finally:
        services.retriever.hybrid = previous
    other = {name: hybrid[name].value for name in ("question citation hit@3", "FAQ citation hit@3")}
    return EvalReport(metrics, time.perf_counter() - started, other, unsupported)
