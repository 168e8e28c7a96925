"""Run the eval cases through the real graph and report the figures the README quotes.

The tuning cases (``cases/``) are what the offline brain is tuned on; the held-out set
(``holdout/``) is written apart from them and only measured, and is reported on its own.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from assistant.evaluation.chat_cases import guarded, same_slot, score_requests
from assistant.evaluation.metrics import (
    METRIC_NAMES,
    TARGET,
    TARGETS,
    Calibration,
    EvalReport,
    Metric,
)
from assistant.evaluation.ticket_cases import score_grounding, score_tickets
from assistant.services import Services

__all__ = [
    "CASES_DIR",
    "HOLDOUT_DIR",
    "METRIC_NAMES",
    "TARGET",
    "TARGETS",
    "EvalReport",
    "Metric",
    "guarded",
    "load_cases",
    "run_eval",
    "same_slot",
    "score_grounding",
    "score_requests",
    "score_tickets",
]

CASES_DIR = Path(__file__).with_name("cases")
HOLDOUT_DIR = Path(__file__).with_name("holdout")


def load_cases(folder: Path | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Load request and ticket cases from ``folder`` (the tuning cases when None)."""
    folder = folder or CASES_DIR
    requests = yaml.safe_load((folder / "requests.yaml").read_text()) or []
    tickets = yaml.safe_load((folder / "tickets.yaml").read_text()) or []
    return requests, tickets


async def evaluate_folder(services: Services, folder: Path, name: str) -> EvalReport:
    """Score one folder of cases; also score retrieval with lexical re-ranking flipped."""
    started = time.perf_counter()
    requests, tickets = load_cases(folder)
    metrics = {metric: Metric(metric) for metric in METRIC_NAMES}
    calibration = Calibration()
    await score_requests(services, requests, metrics, calibration)
    unsupported = await score_tickets(services, tickets, metrics)
    hybrid = {metric: Metric(metric) for metric in METRIC_NAMES}
    previous = services.retriever.hybrid
    services.retriever.hybrid = not previous
    try:
        await score_requests(services, [c for c in requests if c["intent"] == "question"], hybrid)
        await score_tickets(services, tickets, hybrid)
    finally:
        services.retriever.hybrid = previous
    other = {m: hybrid[m].value for m in ("question citation hit@3", "FAQ citation hit@3")}
    seconds = time.perf_counter() - started
    return EvalReport(metrics, seconds, other, unsupported, calibration, name)


async def run_eval(services: Services, folder: Path | None = None) -> EvalReport:
    """Score ``folder``; with none, the tuning cases, with the held-out set reported apart."""
    if folder is not None:
        return await evaluate_folder(services, folder, str(folder))
    report = await evaluate_folder(services, CASES_DIR, "tuning cases")
    report.held_out = await evaluate_folder(services, HOLDOUT_DIR, "held-out set")
    return report
