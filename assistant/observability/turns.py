"""One trace per chat turn, its nodes as spans, and the turn's metrics.

``ObservedGraph`` wraps the compiled chat graph: each ``astream`` call (a turn, a review
answer, a resumed run) becomes a ``chat turn`` span whose children are the nodes that ran,
read from LangGraph's ``tasks`` stream while tracing is on; metrics read its ``updates``
stream. Modes asked for here are kept from the caller, who sees exactly what it asked for.
The turn's span is the current context while the graph works, so what a node starts (a run
on Temporal, a webhook) joins the same trace.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from assistant.observability import metrics
from assistant.observability.tokens import TokenCounter, with_counter
from assistant.observability.tracing import tracer

Attributes = dict[str, Any]


def intent_of(result: Attributes) -> Attributes:
    """Return the attributes of a ``capture_intent`` result."""
    intent = result.get("intent") or {}
    return {
        "flowdraft.intent": intent.get("kind", ""),
        "flowdraft.confidence": intent.get("confidence", 0.0),
    }


def passages_of(result: Attributes) -> Attributes:
    """Return the attributes of a ``retrieve_context`` result: how many, top scores, docs."""
    passages = result.get("passages") or []
    return {
        "flowdraft.passages": len(passages),
        "flowdraft.top_scores": [round(float(p.get("score", 0.0)), 4) for p in passages[:5]],
        "flowdraft.docs": [str(p.get("doc", "")) for p in passages[:5]],
    }


def workflow_of(result: Attributes) -> Attributes:
    """Return the attributes of a result carrying a workflow version (and a policy verdict)."""
    workflow = result.get("workflow") or {}
    found: Attributes = {
        "flowdraft.workflow_id": workflow.get("id", ""),
        "flowdraft.version": workflow.get("version", 0),
        "flowdraft.content_hash": workflow.get("content_hash", ""),
    }
    if workflow.get("playbook"):
        found["flowdraft.playbook"] = workflow["playbook"]
    if result.get("risk"):
        found["flowdraft.risk"] = result["risk"]
        found["flowdraft.required_roles"] = list(result.get("required_roles") or [])
    return found


def decision_of(result: Attributes) -> Attributes:
    """Return the attributes of a review answer."""
    decision = result.get("decision") or {}
    return {
        "flowdraft.decision": decision.get("type", ""),
        "flowdraft.user": decision.get("user", ""),
    }


def approval_of(result: Attributes) -> Attributes:
    """Return the attributes of an approval: who approved, and whether that completes it."""
    approvers = [str(a.get("user", "")) for a in result.get("approvals") or []]
    return {
        "flowdraft.approver": ",".join(approvers),
        "flowdraft.approval_complete": bool(result.get("approval_complete")),
    }


def activation_of(result: Attributes) -> Attributes:
    """Return the attributes of an activation: the automation and its first run."""
    automation = result.get("automation") or {}
    run = result.get("first_run") or {}
    return {
        "flowdraft.automation_id": automation.get("id", ""),
        "flowdraft.run_id": run.get("id", ""),
    }


def reply_of(result: Attributes) -> Attributes:
    """Return the attributes of a drafted ticket reply."""
    reply = result.get("reply") or {}
    return {
        "flowdraft.route": reply.get("route", ""),
        "flowdraft.confidence": reply.get("confidence", 0.0),
    }


DESCRIBE: dict[str, Callable[[Attributes], Attributes]] = {
    "capture_intent": intent_of,
    "retrieve_context": passages_of,
    "draft_workflow": workflow_of,
    "revise_workflow": workflow_of,
    "edit_workflow": workflow_of,
    "check_policy": workflow_of,
    "review": decision_of,
    "review_reply": decision_of,
    "approve": approval_of,
    "activate": activation_of,
    "draft_reply": reply_of,
}
"""What each node's result says that a trace should show."""


def clean(attributes: Attributes) -> Attributes:
    """Drop empty values and anything OpenTelemetry cannot carry."""
    return {
        k: v
        for k, v in attributes.items()
        if v not in ("", None, []) and isinstance(v, str | int | float | bool | list)
    }


def model_name(brain: Any) -> str:
    """Return the name of the model behind a brain (``offline`` for the offline brain)."""
    model = getattr(brain, "model", None)
    if model is None:
        return "offline" if brain is not None else ""
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return str(name or type(model).__name__)


def first_kind(command: Any) -> str:
    """Return what a turn starts with: text (classified later), a decision, or a resume."""
    if command is None:
        return "resume"
    if isinstance(command, dict):
        return "unknown"
    return "decision"  # a Command(resume=...) answering a review


class Turn:
    """The spans and timings of one turn while it streams."""

    def __init__(self, command: Any, config: Attributes, context: Any) -> None:
        self.kind = first_kind(command)
        self.ticket = isinstance(command, dict) and bool(command.get("ticket"))
        """A ticket's intent is set, not classified: its confidence says nothing."""
        self.started = self.last = time.perf_counter()
        brain = getattr(context, "brain", None)
        self.span = tracer().start_span("chat turn")
        self.recording = self.span.is_recording()
        """Whether this turn is traced: tracing on, and the turn sampled."""
        if self.recording:
            configurable = config.get("configurable") or {}
            attributes: Attributes = {
                "flowdraft.thread": str(configurable.get("thread_id", "")),
                "flowdraft.brain": str(getattr(brain, "name", "")),
                "flowdraft.model": model_name(brain),
            }
            if isinstance(command, dict):
                attributes["flowdraft.user"] = str(command.get("user", ""))
            self.span.set_attributes(clean(attributes))
        self.context = trace.set_span_in_context(self.span)
        self.nodes: dict[str, Span] = {}
        self.tokens = TokenCounter() if getattr(brain, "model", None) is not None else None
        if self.tokens is not None:
            self.context = with_counter(self.context, self.tokens)

    def config(self, config: Any) -> Any:
        """Return the graph config, with the token counter when the brain calls a model."""
        if self.tokens is None:
            return config
        config = dict(config or {})
        callbacks = config.get("callbacks")
        if callbacks is not None and not isinstance(callbacks, list):
            return config  # a callback manager of the caller's: leave it as it is
        config["callbacks"] = [*(callbacks or []), self.tokens]
        return config

    def task(self, data: Attributes) -> None:
        """Open or close a node's span from a ``tasks`` stream item."""
        name, task_id = str(data.get("name", "")), str(data.get("id", ""))
        if "input" in data:
            self.nodes[task_id] = tracer().start_span(name, context=self.context)
            return
        span = self.nodes.pop(task_id, None)
        if span is None:
            return
        result = data.get("result")
        describe = DESCRIBE.get(name)
        if describe is not None and isinstance(result, dict):
            span.set_attributes(clean(describe(result)))
        if data.get("interrupts"):
            span.set_attribute("flowdraft.waits_for_review", True)
        if data.get("error"):
            span.set_status(Status(StatusCode.ERROR, str(data["error"])[:200]))
        span.end()

    def update(self, data: Attributes) -> None:
        """Move the metrics the nodes of an ``updates`` stream item stand for.

        The graph's nodes run one after another, so a node took the time since the update
        before it (or since the turn started).
        """
        now = time.perf_counter()
        seconds, self.last = now - self.last, now
        for node, result in data.items():
            if node == "capture_intent" and isinstance(result, dict):
                intent = result.get("intent") or {}
                self.kind = str(intent.get("kind", self.kind))
                if self.recording:
                    self.span.set_attribute("flowdraft.intent", self.kind)
                if not self.ticket:
                    metrics.confidence_given("intent", float(intent.get("confidence", 0.0)))
            elif node == "retrieve_context":
                metrics.retrieval_finished(seconds)

    def end(self, error: BaseException | None = None) -> None:
        """Close what is still open and record the turn's latency."""
        for span in self.nodes.values():
            span.end()
        if self.tokens is not None and self.recording:
            self.span.set_attribute("flowdraft.input_tokens", self.tokens.input)
            self.span.set_attribute("flowdraft.output_tokens", self.tokens.output)
        if error is not None:
            self.span.record_exception(error)
            self.span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        self.span.end()
        metrics.turn_finished(self.kind, time.perf_counter() - self.started)


class ObservedGraph:
    """The compiled chat graph with each streamed run traced and measured."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph

    def __getattr__(self, name: str) -> Any:
        return getattr(self.graph, name)

    async def astream(self, command: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Stream the graph as asked, inside a ``chat turn`` span with its nodes as children.

        Metrics read the ``updates`` stream; node spans need the ``tasks`` stream, asked
        for only while tracing is on. Modes asked for here are kept from the caller.
        """
        asked = kwargs.pop("stream_mode", "values")
        wanted = [asked] if isinstance(asked, str) else list(asked)
        turn = Turn(command, dict(config or {}), kwargs.get("context"))
        # The tasks stream costs LangGraph a copy of each interrupt: only for a traced turn.
        needed = ["updates", "tasks"] if turn.recording else ["updates"]
        modes = [*wanted, *(m for m in needed if m not in wanted)]
        stream = self.graph.astream(command, turn.config(config), stream_mode=modes, **kwargs)
        error: BaseException | None = None
        try:
            while True:
                # The turn is current only while the graph works, never in the caller's code.
                token = otel_context.attach(turn.context)
                try:
                    mode, data = await stream.__anext__()
                except StopAsyncIteration:
                    break
                finally:
                    otel_context.detach(token)
                if mode == "tasks" and turn.recording:
                    turn.task(data)
                elif mode == "updates":
                    turn.update(data)
                if mode in wanted:
                    yield data if isinstance(asked, str) else (mode, data)
        except BaseException as exc:
            error = exc
            raise
        finally:
            await stream.aclose()
            turn.end(error)
