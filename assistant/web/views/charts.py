"""The numbers behind the Runs page's plots: runs per day by outcome, time waiting for approval.

Pure functions over ``Run`` snapshots. Each chart carries its own Chart.js ``options``, so
one plotter in ``static/app.js`` draws every chart of every page (Chart.js is served from
``static/vendor``, MIT licensed, no CDN).
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from typing import Any

from assistant.runtime.models import Run, RunStatus
from assistant.web.views.pages import aware, seconds_between

OUTCOMES: tuple[RunStatus, ...] = (
    "completed",
    "failed",
    "rejected",
    "cancelled",
    "waiting",
    "running",
)
COLOURS = {
    "completed": "#2e7d32",
    "failed": "#c62828",
    "rejected": "#ef6c00",
    "cancelled": "#757575",
    "waiting": "#1565c0",
    "running": "#90caf9",
}


def bar_options(
    *,
    stacked: bool = False,
    counts: bool = False,
    legend: bool = True,
    horizontal_percent: bool = False,
) -> dict[str, Any]:
    """Return Chart.js options for a bar chart.

    Args:
        stacked: stack the datasets of a label in one bar.
        counts: the values are whole numbers (no fractional ticks).
        legend: show the datasets' legend below the chart.
        horizontal_percent: bars run sideways on a 0–100 scale.
    """
    value_axis: dict[str, Any] = {"stacked": stacked, "beginAtZero": True}
    if counts:
        value_axis["ticks"] = {"precision": 0}
    if horizontal_percent:
        value_axis.update(min=0, max=100)
    scales = {"x": {"stacked": stacked}, "y": value_axis}
    if horizontal_percent:
        scales = {"x": value_axis, "y": {"stacked": stacked}}
    return {
        "indexAxis": "y" if horizontal_percent else "x",
        "scales": scales,
        "plugins": {"legend": {"display": legend, "position": "bottom"}},
    }


def days_until(today: date, days: int) -> list[date]:
    """Return the ``days`` dates ending with ``today``, oldest first."""
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]


def day_of(moment: datetime | None) -> date | None:
    """Return the UTC date of ``moment``."""
    at = aware(moment)
    return at.date() if at else None


def runs_per_day(runs: list[Run], *, days: int = 14, now: datetime | None = None) -> dict[str, Any]:
    """Count runs started each day by their status (outcome, or where they stand now)."""
    today = (now or datetime.now(UTC)).date()
    dates = days_until(today, days)
    counts = {status: [0] * days for status in OUTCOMES}
    index = {day: i for i, day in enumerate(dates)}
    for run in runs:
        position = index.get(day_of(run.started_at))  # type: ignore[arg-type]
        if position is not None:
            counts[run.status][position] += 1
    return {
        "labels": [d.strftime("%-d %b") for d in dates],
        "datasets": [
            {"label": status, "data": counts[status], "backgroundColor": COLOURS[status]}
            for status in OUTCOMES
            if any(counts[status])
        ],
        "options": bar_options(stacked=True, counts=True),
    }


def wait_unit(longest_seconds: float) -> tuple[str, float]:
    """Return the unit that reads best for waits up to ``longest_seconds``, and its size."""
    if longest_seconds < 120:
        return "s", 1.0
    if longest_seconds < 7200:
        return "min", 60.0
    return "h", 3600.0


def approval_waits(
    runs: list[Run], *, days: int = 14, now: datetime | None = None
) -> dict[str, Any]:
    """Return, per day an approval was asked for, the median and longest wait.

    A wait runs from the approval step's start to its decision; one still open counts up
    to ``now``, so an approval nobody answers shows as a growing bar. The unit (seconds,
    minutes or hours) is the one that reads best for the longest wait.
    """
    moment = now or datetime.now(UTC)
    dates = days_until(moment.date(), days)
    waits: dict[date, list[float]] = {day: [] for day in dates}
    open_now = 0
    for run in runs:
        for step in run.steps:
            if step.kind != "approval" or step.started_at is None:
                continue
            if step.status not in ("ok", "rejected", "waiting"):
                continue  # skipped or never reached: nobody was asked
            end = step.finished_at if step.status != "waiting" else moment
            open_now += step.status == "waiting"
            day = day_of(step.started_at)
            seconds = seconds_between(step.started_at, end)
            if day in waits and seconds is not None:
                waits[day].append(seconds)
    unit, size = wait_unit(max((max(w) for w in waits.values() if w), default=0.0))
    return {
        "labels": [d.strftime("%-d %b") for d in dates],
        "datasets": [
            {
                "label": f"median wait ({unit})",
                "data": [round(statistics.median(w) / size, 2) if w else 0 for w in waits.values()],
                "backgroundColor": "#1565c0",
            },
            {
                "label": f"longest wait ({unit})",
                "data": [round(max(w) / size, 2) if w else 0 for w in waits.values()],
                "backgroundColor": "#90caf9",
            },
        ],
        "options": bar_options(),
        "unit": unit,
        "waiting_now": open_now,
        "asked": sum(len(w) for w in waits.values()),
    }
