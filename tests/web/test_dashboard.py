"""The dashboard's numbers, from a seeded database: charts and table agree with the stats."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from assistant.db.engine import make_engine
from assistant.observability.drift import DriftReport, Signal, check_drift
from assistant.observability.stats import compute_stats
from assistant.web.views.access import Viewer
from assistant.web.views.pages import render_page
from assistant.web.views.runs import chart_json
from assistant.web.views.signals import (
    drift_rows,
    latency_chart,
    rates_chart,
    signal_rows,
    status_chart,
    window_of,
)
from tests.support.signals import T0, seed_signals

NOW = T0 + timedelta(days=3)


def seeded(tmp_path: Path) -> dict[str, object]:
    engine = make_engine(f"sqlite:///{tmp_path / 'flowdraft.db'}")
    seed_signals(engine)
    return compute_stats(engine, days=30, now=NOW)


def test_rates_are_bars_in_percent_with_gaps_where_nothing_was_decided(tmp_path: Path) -> None:
    chart = rates_chart(seeded(tmp_path))
    assert dict(zip(chart["labels"], chart["datasets"][0]["data"], strict=True)) == {
        "failure rate (runs)": 50.0,
        "override: workflow reviews": 66.7,
        "override: ticket replies": 50.0,
        "override: run approvals": 50.0,
        "accepted: workflow reviews": 33.3,
        "accepted: ticket replies": 50.0,
    }
    empty = rates_chart(compute_stats(make_engine("sqlite://"), days=7))
    assert empty["datasets"][0]["data"] == [None] * 6


def test_latencies_show_median_and_p90_in_the_unit_of_the_longest(tmp_path: Path) -> None:
    chart = latency_chart(seeded(tmp_path))
    assert chart["labels"] == ["goal → first run", "design → approval", "run duration"]
    median, p90 = chart["datasets"]
    assert chart["unit"] == "min" and median["label"] == "median (min)"
    assert median["data"] == [6.67, 5.17, 0.33]  # 400 s, 310 s, 20 s
    assert p90["data"] == [6.67, 5.17, 0.5]  # 400 s, 310 s, 30 s


def test_finished_runs_are_counted_by_outcome(tmp_path: Path) -> None:
    chart = status_chart(seeded(tmp_path))
    assert chart["labels"] == ["completed", "failed"]
    assert chart["datasets"][0]["data"] == [1, 1]


def test_the_table_reads_every_signal(tmp_path: Path) -> None:
    rows = dict(signal_rows(seeded(tmp_path)))
    assert rows["designs"] == "2"
    assert rows["edits per design"] == "0.5"
    assert rows["goal → first run"] == "median 6.67 min · p90 6.67 min (n=1)"
    assert rows["design → approval"] == "median 5.17 min · p90 5.17 min (n=1)"
    assert rows["run duration"] == "median 20 s · p90 30 s (n=2)"
    assert rows["runs started / finished"] == "3 / 2"
    assert rows["failure rate (runs)"] == "50%"
    assert rows["override: workflow reviews"] == "67%"
    assert rows["cost per design"] == "0 tokens (offline)"
    assert "manual baseline" in rows["time saved"]


def test_a_window_outside_the_seeded_days_counts_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'flowdraft.db'}")
    seed_signals(engine)
    later = compute_stats(engine, days=7, now=T0 + timedelta(days=20))
    assert dict(signal_rows(later))["designs"] == "0"
    assert [window_of(d) for d in (7, 30, 90, 1, 365)] == [7, 30, 90, 30, 30]


def test_the_page_shows_the_table_the_charts_and_the_drift_check(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'flowdraft.db'}")
    seed_signals(engine)
    figures = compute_stats(engine, days=30, now=NOW)
    drift = check_drift(engine, now=NOW, threshold=0.15)
    page = render_page(
        "dashboard.html",
        Viewer("root", ["admin"]),
        page="dashboard",
        window=30,
        windows=(7, 30, 90),
        rows=signal_rows(figures),
        rates=chart_json(rates_chart(figures)),
        latencies=chart_json(latency_chart(figures)),
        statuses=chart_json(status_chart(figures)),
        drift=drift,
        drift_rows=drift_rows(drift),
    ).body.decode()
    assert "<th>run duration</th><td>median 20 s · p90 30 s (n=2)</td>" in page
    assert '"data": [50.0, 66.7, 50.0, 50.0, 33.3, 50.0]' in page
    assert "reply_confidence</td><td>not enough cases" in page
    assert "· not enough cases yet" in page and "steady" not in page
    assert 'href="/app/dashboard" aria-current="page">Dashboard' in page
    nav = render_page("forbidden.html", Viewer("ana", ["finance"]), page="dashboard").body
    assert b"/app/dashboard" not in nav  # only admins get the link


def test_a_drifted_signal_is_flagged_with_its_change() -> None:
    report = DriftReport(
        week_ending=NOW,
        threshold=0.15,
        signals=[
            Signal("reply_confidence", 0.52, 0.81, 0.29, (12, 40), drifted=True),
            Signal("reply_mix", None, None, None, (2, 40)),
        ],
    )
    assert drift_rows(report) == [
        {
            "name": "reply_confidence",
            "change": "0.29",
            "cases": "12 this week, 40 before",
            "drifted": True,
        },
        {
            "name": "reply_mix",
            "change": "not enough cases",
            "cases": "2 this week, 40 before",
            "drifted": False,
        },
    ]
