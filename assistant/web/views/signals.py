"""The numbers behind the dashboard: the business signals shaped for Chart.js and a table.

Pure functions over ``compute_stats`` output (the same dict as ``flowdraft stats --json``
and ``GET /api/stats``) and a ``DriftReport``; the page hands the charts to Chart.js.
"""

from __future__ import annotations

from typing import Any

from assistant.observability.drift import DriftReport
from assistant.web.views.charts import COLOURS, bar_options, wait_unit

WINDOWS = (7, 30, 90)
"""Days the dashboard looks back over; anything else asked for falls back to 30."""
RATES: tuple[tuple[str, str, str], ...] = (
    ("failure rate (runs)", "runs", "failure_rate"),
    ("override: workflow reviews", "human_override_rate", "workflow_reviews"),
    ("override: ticket replies", "human_override_rate", "ticket_replies"),
    ("override: run approvals", "human_override_rate", "run_approvals"),
    ("accepted: workflow reviews", "acceptance_rate", "workflow_reviews"),
    ("accepted: ticket replies", "acceptance_rate", "ticket_replies"),
)
RATE_COLOURS = {"runs": "#c62828", "human_override_rate": "#ef6c00", "acceptance_rate": "#2e7d32"}
LATENCIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("goal → first run", ("goal_to_first_run",)),
    ("design → approval", ("design_to_approval",)),
    ("run duration", ("runs", "duration")),
)


def window_of(days: int | None) -> int:
    """Return ``days`` if the dashboard offers it, else 30."""
    return days if days in WINDOWS else 30


def dig(figures: dict[str, Any], path: tuple[str, ...]) -> Any:
    """Return the value at ``path`` in the nested ``figures``."""
    value: Any = figures
    for key in path:
        value = value[key]
    return value


def percent(value: float | None) -> float | None:
    """Return a rate (0..1) as a percentage, keeping None (nothing to divide) as a gap."""
    return None if value is None else round(value * 100, 1)


def rates_chart(figures: dict[str, Any]) -> dict[str, Any]:
    """Return failure, override and acceptance rates as one bar each, in percent."""
    return {
        "labels": [label for label, _, _ in RATES],
        "datasets": [
            {
                "label": "% of cases",
                "data": [percent(figures[group][key]) for _, group, key in RATES],
                "backgroundColor": [RATE_COLOURS[group] for _, group, _ in RATES],
            }
        ],
        "options": bar_options(legend=False, horizontal_percent=True),
    }


def latency_chart(figures: dict[str, Any]) -> dict[str, Any]:
    """Return median and p90 of each latency, in the unit that reads best for the longest."""
    spreads = [dig(figures, path) for _, path in LATENCIES]
    unit, size = wait_unit(max((s["p90_s"] or 0.0 for s in spreads), default=0.0))

    def scaled(key: str) -> list[float | None]:
        return [None if s[key] is None else round(s[key] / size, 2) for s in spreads]

    return {
        "labels": [label for label, _ in LATENCIES],
        "datasets": [
            {"label": f"median ({unit})", "data": scaled("median_s"), "backgroundColor": "#1565c0"},
            {"label": f"p90 ({unit})", "data": scaled("p90_s"), "backgroundColor": "#90caf9"},
        ],
        "options": bar_options(),
        "unit": unit,
    }


def status_chart(figures: dict[str, Any]) -> dict[str, Any]:
    """Return finished runs counted by outcome, one bar per outcome seen."""
    counts: dict[str, int] = figures["runs"]["by_status"]
    shown = [status for status in COLOURS if counts.get(status)]
    return {
        "labels": shown,
        "datasets": [
            {
                "label": "finished runs",
                "data": [counts[status] for status in shown],
                "backgroundColor": [COLOURS[status] for status in shown],
            }
        ],
        "options": bar_options(legend=False, counts=True),
    }


def timing(spread: dict[str, Any]) -> str:
    """Return a latency spread as ``median 20 s · p90 30 s (n=2)``, or ``none yet``."""
    if not spread["count"]:
        return "none yet"
    unit, size = wait_unit(spread["p90_s"])
    median, p90 = spread["median_s"] / size, spread["p90_s"] / size
    return f"median {median:.3g} {unit} · p90 {p90:.3g} {unit} (n={spread['count']})"


def shown_rate(value: float | None) -> str:
    """Return a rate as ``50%``, or ``—`` when nothing was decided."""
    return "—" if value is None else f"{value * 100:.0f}%"


def signal_rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """Return every signal as a (name, value) row of the table beside the charts."""
    runs, saved, cost = figures["runs"], figures["time_saved"], figures["cost_per_design"]
    edits = figures["edits_per_design"]
    rows = [
        ("designs", str(figures["designs"])),
        ("edits per design", "—" if edits is None else f"{edits:g}"),
        ("goal → first run", timing(figures["goal_to_first_run"])),
        ("design → approval", timing(figures["design_to_approval"])),
        ("runs started / finished", f"{runs['started']} / {runs['finished']}"),
        ("run duration", timing(runs["duration"])),
    ]
    rows += [(label, shown_rate(figures[group][key])) for label, group, key in RATES]
    tokens = cost["tokens"]
    rows.append(
        (
            "cost per design",
            f"{tokens} tokens ({cost['brain']})"
            if tokens is not None
            else f"counted live on /metrics ({cost['brain']})",
        )
    )
    minutes = saved.get("minutes")
    rows.append(
        (
            "time saved",
            saved["note"]
            if minutes is None
            else f"{minutes:g} min over {saved['runs_counted']} runs",
        )
    )
    return rows


def drift_rows(report: DriftReport) -> list[dict[str, Any]]:
    """Return each drift signal with its change, the cases compared and whether it drifted."""
    return [
        {
            "name": signal.name,
            "change": "not enough cases" if signal.change is None else f"{signal.change:g}",
            "cases": f"{signal.cases[0]} this week, {signal.cases[1]} before",
            "drifted": signal.drifted,
        }
        for signal in report.signals
    ]
