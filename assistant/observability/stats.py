"""The business signals, computed from the app database (audit log, runs index, replies).

- goal to first run: from a workflow's first draft to the first run of any of its versions;
- design to approval: from a workflow's first draft to its first full approval (the time a
  design takes to become live, people's review included; the brain's own drafting time is
  ``flowdraft_chat_turn_seconds{intent="automate"}`` in the metrics);
- run duration, failure rate (failed over finished runs);
- human override rate: workflow reviews answered with an edit, a change or a rejection;
  ticket replies edited or rejected; run approvals rejected;
- acceptance rate: reviews accepted as drafted; ticket replies sent unchanged;
- cost per design: model tokens per design (its draft and revisions, as the journal stored
  them); zero with the offline brain;
- time saved: completed runs times the manual baseline a playbook states in its front
  matter (``manual_minutes``: minutes a person spends on one case by hand).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from assistant.db.audit import as_utc
from assistant.db.engine import session_scope
from assistant.db.tables import AuditRecord, AutomationRecord, RunRecord, utcnow
from assistant.runtime.models import FINISHED
from assistant.support.metrics import desk_stats

EVENTS = ("draft", "edit", "decision", "approved", "run_decision")
OVERRIDES = ("edit", "response", "ignore")
BASELINE_FIELD = "manual_minutes"


def spread(values: list[float]) -> dict[str, Any]:
    """Return count, median and 90th percentile (seconds, rounded) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "median_s": None, "p90_s": None}
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "count": len(ordered),
        "median_s": round(statistics.median(ordered), 3),
        "p90_s": round(p90, 3),
    }


def rate(part: int, whole: int) -> float | None:
    """Return ``part / whole`` rounded, or None when there is nothing to divide."""
    return round(part / whole, 3) if whole else None


def audit_events(
    engine: Engine, since: datetime | None
) -> list[tuple[AuditRecord, dict[str, Any]]]:
    """Return the audit records the signals read, oldest first, with their data parsed."""
    with session_scope(engine) as session:
        query = select(AuditRecord).where(col(AuditRecord.event).in_(EVENTS))
        if since is not None:
            query = query.where(AuditRecord.at >= since)
        rows = list(session.exec(query.order_by(col(AuditRecord.seq))).all())
    return [(row, json.loads(row.data or "{}")) for row in rows]


def compute_stats(
    engine: Engine,
    *,
    brain: str = "offline",
    library: Path | None = None,
    days: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Return every business signal (``flowdraft stats --json``, ``GET /api/stats``)."""
    since = (now or utcnow()) - timedelta(days=days) if days else None
    events = audit_events(engine, since)
    with session_scope(engine) as session:
        runs = list(session.exec(select(RunRecord)).all())
        automations = list(session.exec(select(AutomationRecord)).all())
    if since is not None:
        runs = [r for r in runs if as_utc(r.started_at) >= as_utc(since)]
    drafted: dict[str, tuple[datetime, str]] = {}  # workflow id -> (first draft, thread)
    approved_at: dict[str, datetime] = {}  # thread -> first full approval
    decisions: Counter[str] = Counter()
    run_decisions: Counter[bool] = Counter()
    edits = 0
    tokens = Counter[str]()
    for row, data in events:
        spent = data.get("model_tokens")
        if row.event in ("draft", "edit") and isinstance(spent, dict):
            tokens.update({k: int(spent.get(k, 0)) for k in ("input", "output")})
        if row.event == "draft" and data.get("workflow"):
            drafted.setdefault(str(data["workflow"]), (as_utc(row.at), row.thread))
        elif row.event == "approved":
            approved_at.setdefault(row.thread, as_utc(row.at))
        elif row.event == "decision":
            decisions[str(data.get("type"))] += 1
        elif row.event == "run_decision":
            run_decisions[bool(data.get("accept"))] += 1
        elif row.event == "edit":
            edits += 1
    workflow_of = {a.id: a.workflow_id for a in automations}
    first_run: dict[str, datetime] = {}
    for run in runs:
        workflow = workflow_of.get(run.automation_id)
        if workflow is not None:
            started = as_utc(run.started_at)
            first_run[workflow] = min(first_run.get(workflow, started), started)
    finished = [r for r in runs if r.status in FINISHED and r.finished_at is not None]
    statuses = Counter(r.status for r in finished)
    desk = desk_stats(engine)["overall"]
    reviewed = sum(decisions.values())
    return {
        "window_days": days,
        "designs": len(drafted),
        "goal_to_first_run": spread(
            [
                (first_run[w] - at).total_seconds()
                for w, (at, _) in drafted.items()
                if w in first_run
            ]
        ),
        "design_to_approval": spread(
            [
                (approved_at[thread] - at).total_seconds()
                for at, thread in drafted.values()
                if thread in approved_at and approved_at[thread] >= at
            ]
        ),
        "edits_per_design": round(edits / len(drafted), 3) if drafted else None,
        "runs": {
            "started": len(runs),
            "finished": len(finished),
            "by_status": dict(statuses),
            "duration": spread(
                [(as_utc(r.finished_at) - as_utc(r.started_at)).total_seconds() for r in finished]  # type: ignore[arg-type]
            ),
            "failure_rate": rate(statuses["failed"], len(finished)),
        },
        "human_override_rate": {
            "workflow_reviews": rate(sum(decisions[k] for k in OVERRIDES), reviewed),
            "ticket_replies": rate(desk["edited"] + desk["rejected"], desk["decided"]),
            "run_approvals": rate(run_decisions[False], sum(run_decisions.values())),
        },
        "acceptance_rate": {
            "workflow_reviews": rate(decisions["accept"], reviewed),
            "ticket_replies": desk["acceptance_rate"],
        },
        "cost_per_design": cost_per_design(brain, tokens, len(drafted)),
        "time_saved": time_saved(finished, automations, library),
    }


def cost_per_design(brain: str, tokens: Counter[str], designs: int) -> dict[str, Any]:
    """Return the model tokens a design costs on average: none offline.

    ``tokens`` are the input and output tokens the journal stored on drafts and revisions.
    """
    if brain == "offline" and not tokens:
        return {"brain": brain, "tokens": 0}
    if not designs:
        return {"brain": brain, "tokens": None, "note": "no design drafted yet"}
    return {
        "brain": brain,
        "tokens": round((tokens["input"] + tokens["output"]) / designs, 1),
        "input_tokens": round(tokens["input"] / designs, 1),
        "output_tokens": round(tokens["output"] / designs, 1),
        "designs": designs,
    }


def time_saved(
    finished: list[RunRecord], automations: list[AutomationRecord], library: Path | None
) -> dict[str, Any]:
    """Return minutes saved by completed runs of playbooks that state a manual baseline."""
    baselines = manual_baselines(library) if library is not None else {}
    playbook_of = {
        a.id: str(json.loads(a.draft or "{}").get("playbook") or "") for a in automations
    }
    counted = [
        baselines[playbook_of.get(r.automation_id, "")]
        for r in finished
        if r.status == "completed" and playbook_of.get(r.automation_id, "") in baselines
    ]
    if not baselines:
        return {
            "minutes": None,
            "note": f"no playbook states a manual baseline (front matter `{BASELINE_FIELD}`)",
        }
    return {"minutes": round(sum(counted), 1), "runs_counted": len(counted)}


def manual_baselines(library: Path) -> dict[str, float]:
    """Return ``{playbook slug: minutes by hand}`` for playbooks that state one."""
    from knowledge.library import cached_library

    found: dict[str, float] = {}
    for doc in cached_library(str(library)):
        value = doc.front.get(BASELINE_FIELD)
        if doc.kind == "playbook" and isinstance(value, int | float) and value > 0:
            found[doc.slug] = float(value)
    return found


def describe(figures: dict[str, Any]) -> list[str]:
    """Return the signals as lines of text, for a terminal."""

    def timing(spread_: dict[str, Any]) -> str:
        if not spread_["count"]:
            return "none yet"
        return f"median {spread_['median_s']}s, p90 {spread_['p90_s']}s (n={spread_['count']})"

    runs = figures["runs"]
    saved = figures["time_saved"]
    return [
        f"designs: {figures['designs']}, edits per design: {figures['edits_per_design']}",
        f"goal to first run: {timing(figures['goal_to_first_run'])}",
        f"design to approval: {timing(figures['design_to_approval'])}",
        f"runs: {runs['started']} started, {runs['finished']} finished {runs['by_status']}, "
        f"failure rate {runs['failure_rate']}; duration {timing(runs['duration'])}",
        f"human override rate: {figures['human_override_rate']}",
        f"acceptance rate: {figures['acceptance_rate']}",
        f"cost per design: {figures['cost_per_design']}",
        "time saved: "
        + (f"{saved['minutes']} min" if saved.get("minutes") is not None else saved["note"]),
    ]
