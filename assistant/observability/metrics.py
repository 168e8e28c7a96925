"""Prometheus metrics of turns, runs, approvals and replies, each defined once.

Labels only ever take values from a closed set (intent kinds, step kinds, run statuses,
connector names, exception class names, audit event names) or from automation ids,
which grow with what people approve, not with traffic: no user, thread, run id or free
text ever becomes a label, so the number of series stays bounded.

Callers record through the functions below and never touch prometheus_client.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Buckets (seconds) for work a person waits on: a turn, a retrieval, a connector call."""
LONG = (1, 10, 60, 300, 900, 3600, 4 * 3600, 8 * 3600, 86400, 3 * 86400, 7 * 86400)
"""Buckets (seconds) for runs and for people deciding: seconds to a week."""
SHARE = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)

TURN_SECONDS = Histogram(
    "flowdraft_chat_turn_seconds",
    "Time of one chat turn (text in to the last event out), by intent kind.",
    ["intent"],
    buckets=FAST,
)
RETRIEVAL_SECONDS = Histogram(
    "flowdraft_retrieval_seconds", "Time to retrieve passages for a turn.", buckets=FAST
)
CONFIDENCE = Histogram(
    "flowdraft_brain_confidence",
    "Confidence the brain gave: of an intent, or of a ticket reply.",
    ["kind"],
    buckets=SHARE,
)
DRAFTS = Counter("flowdraft_drafts_total", "Workflow drafts made (version 1).")
REVISIONS = Counter(
    "flowdraft_draft_revisions_total", "New workflow versions made by a person's edit or change."
)
DRAFT_DECISIONS = Counter(
    "flowdraft_draft_decisions_total",
    "Answers to workflow reviews: accept, edit, response (plain-language change), ignore.",
    ["decision"],
)
APPROVED = Counter("flowdraft_workflows_approved_total", "Workflow versions fully approved.")
REFUSED = Counter(
    "flowdraft_approvals_refused_total",
    "Decisions refused (wrong role, stale version, separation of duties...), by what was refused.",
    ["reason"],
)
RUNS_STARTED = Counter(
    "flowdraft_runs_started_total", "Runs started, by automation.", ["automation"]
)
RUNS_FINISHED = Counter(
    "flowdraft_runs_finished_total",
    "Runs finished, by automation and status (completed, failed, rejected, cancelled).",
    ["automation", "status"],
)
RUN_SECONDS = Histogram(
    "flowdraft_run_seconds", "Run duration, start to finish, by status.", ["status"], buckets=LONG
)
STEP_SECONDS = Histogram(
    "flowdraft_step_seconds",
    "Step duration in finished runs, by step kind and status.",
    ["kind", "status"],
    buckets=LONG,
)
CONNECTOR_SECONDS = Histogram(
    "flowdraft_connector_call_seconds",
    "Time of one connector call (one attempt), by connector and outcome.",
    ["connector", "outcome"],
    buckets=FAST,
)
CONNECTOR_ERRORS = Counter(
    "flowdraft_connector_errors_total",
    "Connector calls that failed, by connector and error class.",
    ["connector", "error"],
)
WAIT_SECONDS = Histogram(
    "flowdraft_approval_wait_seconds",
    "Time a run waited for people, by step kind (approval, human_task) and outcome.",
    ["kind", "status"],
    buckets=LONG,
)
REPLIES_DRAFTED = Counter(
    "flowdraft_ticket_replies_drafted_total",
    "Ticket replies drafted, by route (draft: for an agent to decide; human: to write).",
    ["route"],
)
TICKET_DECISIONS = Counter(
    "flowdraft_ticket_decisions_total",
    "Agents' decisions on drafted replies: accepted, edited, rejected.",
    ["decision"],
)
MODEL_TOKENS = Counter(
    "flowdraft_model_tokens_total",
    "Tokens a chat-model brain spent, by direction (input, output); none offline.",
    ["direction"],
)
SLACK_ACK_SECONDS = Histogram(
    "flowdraft_slack_ack_seconds",
    "Time to answer a request from Slack (Slack gives up after 3 s).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
INGESTED_CHUNKS = Counter("flowdraft_ingest_chunks_total", "Chunks written to the vector store.")
INGEST_SECONDS = Counter(
    "flowdraft_ingest_seconds_total",
    "Time spent ingesting; chunks per second = rate(chunks) / rate(seconds).",
)


def turn_finished(intent: str, seconds: float) -> None:
    """Record a chat turn of ``intent`` kind (or ``decision``/``resume``)."""
    TURN_SECONDS.labels(intent).observe(seconds)


def retrieval_finished(seconds: float) -> None:
    """Record one retrieval."""
    RETRIEVAL_SECONDS.observe(seconds)


def confidence_given(kind: str, value: float) -> None:
    """Record a confidence the brain gave (``intent`` or ``reply``)."""
    CONFIDENCE.labels(kind).observe(value)


def run_started(automation: str) -> None:
    """Count a run that started."""
    RUNS_STARTED.labels(automation).inc()


def run_finished(automation: str, status: str, seconds: float | None) -> None:
    """Count a finished run and observe its duration."""
    RUNS_FINISHED.labels(automation, status).inc()
    if seconds is not None:
        RUN_SECONDS.labels(status).observe(seconds)


def step_finished(kind: str, status: str, seconds: float) -> None:
    """Record a step of a finished run; steps people decide also count as waiting time."""
    STEP_SECONDS.labels(kind, status).observe(seconds)
    if kind in ("approval", "human_task") and status in ("ok", "rejected"):
        WAIT_SECONDS.labels(kind, status).observe(seconds)


def connector_called(connector: str, outcome: str, seconds: float, error: str = "") -> None:
    """Record one connector call; a failed one counts under its error class."""
    CONNECTOR_SECONDS.labels(connector or "none", outcome).observe(seconds)
    if outcome != "ok":
        CONNECTOR_ERRORS.labels(connector or "none", error or "failed").inc()


def reply_drafted(route: str, confidence: float) -> None:
    """Count a drafted ticket reply and its confidence."""
    REPLIES_DRAFTED.labels(route).inc()
    CONFIDENCE.labels("reply").observe(confidence)


def ticket_decided(decision: str) -> None:
    """Count an agent's decision on a drafted reply."""
    TICKET_DECISIONS.labels(decision).inc()


def tokens_spent(input_tokens: int, output_tokens: int) -> None:
    """Count the tokens of one model call."""
    MODEL_TOKENS.labels("input").inc(input_tokens)
    MODEL_TOKENS.labels("output").inc(output_tokens)


def slack_answered(seconds: float) -> None:
    """Record how long a request from Slack took to answer."""
    SLACK_ACK_SECONDS.observe(seconds)


def library_ingested(chunks: int, seconds: float) -> None:
    """Record an ingestion: chunks written and the time it took."""
    INGESTED_CHUNKS.inc(chunks)
    INGEST_SECONDS.inc(seconds)
