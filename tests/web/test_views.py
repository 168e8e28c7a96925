"""The pages' parts that need no server: plots' numbers, sign-in checks, safe rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from assistant.runtime.models import Run, RunStep
from assistant.settings import TemporalSettings
from assistant.web.views.access import Viewer, check_same_origin
from assistant.web.views.charts import approval_waits, runs_per_day
from assistant.web.views.context import ViewContext
from assistant.web.views.pages import due, markdown_lines

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def run(status: str, started: datetime, *, waited: float | None = None, open_: bool = False) -> Run:
    """Return a run started at ``started`` whose approval waited ``waited`` seconds."""
    steps = []
    if waited is not None or open_:
        steps.append(
            RunStep(
                step_id="s2",
                title="CFO sign-off",
                kind="approval",
                status="waiting" if open_ else "ok",
                started_at=started,
                finished_at=None if open_ else started + timedelta(seconds=waited or 0),
            )
        )
    return Run.model_validate(
        {
            "id": f"r-{status}-{started.isoformat()}",
            "automation_id": "au_1",
            "version": 1,
            "content_hash": "h",
            "status": status,
            "started_at": started,
            "steps": steps,
        }
    )


def test_runs_are_counted_per_day_by_outcome() -> None:
    runs = [
        run("completed", NOW - timedelta(hours=1)),
        run("completed", NOW - timedelta(hours=2)),
        run("failed", NOW - timedelta(days=1)),
        run("completed", NOW - timedelta(days=40)),  # outside the plot
    ]
    plotted = runs_per_day(runs, days=7, now=NOW)
    assert plotted["labels"][-1] == "1 Dec" and len(plotted["labels"]) == 7
    series = {d["label"]: d["data"] for d in plotted["datasets"]}
    assert series == {"completed": [0, 0, 0, 0, 0, 0, 2], "failed": [0, 0, 0, 0, 0, 1, 0]}


def test_approval_waits_read_in_the_unit_that_fits_and_count_open_ones() -> None:
    runs = [
        run("completed", NOW - timedelta(hours=3), waited=600),
        run("completed", NOW - timedelta(hours=2), waited=1800),
        run("waiting", NOW - timedelta(minutes=50), open_=True),
        run("completed", NOW - timedelta(hours=1)),  # no approval asked
    ]
    waits = approval_waits(runs, days=3, now=NOW)
    assert waits["unit"] == "min" and waits["waiting_now"] == 1 and waits["asked"] == 3
    median, longest = (d["data"][-1] for d in waits["datasets"])
    assert (median, longest) == (30.0, 50.0)


def request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "method": "POST", "scheme": "http", "path": "/app/x", "headers": raw}
    scope["server"] = ("127.0.0.1", 8000)
    return Request(scope)


def test_changes_are_taken_only_as_json_from_the_servers_own_pages() -> None:
    own = {"host": "127.0.0.1:8000", "content-type": "application/json"}
    check_same_origin(request({**own, "origin": "http://127.0.0.1:8000"}))
    check_same_origin(request({**own, "referer": "http://127.0.0.1:8000/app/inbox"}))
    check_same_origin(
        request({**own, "origin": "https://flow.example"}), public_url="https://flow.example"
    )
    for headers, status in [
        ({**own, "origin": "https://evil.example"}, 403),
        (own, 403),  # no origin at all
        ({**own, "content-type": "text/plain", "origin": "http://127.0.0.1:8000"}, 415),
    ]:
        with pytest.raises(HTTPException) as refused:
            check_same_origin(request(headers))
        assert refused.value.status_code == status


def test_descriptions_are_escaped_before_their_markdown_is_drawn() -> None:
    html = str(markdown_lines("**Invoice** <script>x</script>\n- `invoice.amount`: 52000"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert (
        "<strong>Invoice</strong>" in html and "<li><code>invoice.amount</code>: 52000</li>" in html
    )


def test_due_times_read_relative_to_now() -> None:
    assert due(None) == "no deadline"
    assert due(datetime.now(UTC) + timedelta(hours=3)).startswith("in 2 h 59 min")
    assert due(datetime.now(UTC) - timedelta(minutes=5)).startswith("overdue by 5 min")


def test_only_operators_get_the_engine_link_and_only_when_its_ui_is_on() -> None:
    on = TemporalSettings(ui=True, enabled=True, ui_port=8233, namespace="default")
    ctx = ViewContext(services=None, desk=None, runner=None, temporal=on)  # type: ignore[arg-type]
    admin, cfo = Viewer("root", ["admin"]), Viewer("carla", ["cfo"])
    link = "http://127.0.0.1:8233/namespaces/default/workflows/au_1.INV-1"
    assert ctx.engine_ui(admin, "au_1.INV-1") == link
    assert ctx.engine_ui(cfo, "au_1.INV-1") is None
    ctx.temporal = TemporalSettings(ui=False, enabled=True)
    assert ctx.engine_ui(admin, "au_1.INV-1") is None
