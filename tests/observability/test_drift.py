"""Drift: a shifted week raises an alert (log and Slack post); a stable week does not."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from assistant.db.engine import make_engine, session_scope
from assistant.db.tables import AuditRecord, HelpdeskTicket, TicketReply
from assistant.observability.drift import alert, check_drift
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STEADY = [("shipping", 0.82), ("billing", 0.78)]


def seed_week(
    engine: Engine,
    weeks_ago: int,
    replies: list[tuple[str, float]],
    playbook: str,
    now: datetime = NOW,
) -> None:
    """Add a week of drafted replies (category, confidence) and of designs of ``playbook``."""
    with session_scope(engine) as session:
        for n, (category, confidence) in enumerate(replies):
            when = now - timedelta(weeks=weeks_ago, days=1, hours=n)
            ticket = HelpdeskTicket(key=f"w{weeks_ago}-{n}", subject="s", created_at=when)
            session.add(ticket)
            session.flush()
            session.add(
                TicketReply(
                    ticket_id=ticket.id or 0,
                    thread=f"t{weeks_ago}-{n}",
                    confidence=confidence,
                    category=category,
                    drafted_at=when,
                )
            )
            session.add(
                AuditRecord(
                    at=when,
                    actor="ana",
                    thread=f"d{weeks_ago}-{n}",
                    event="draft",
                    data=json.dumps({"playbook": playbook}),
                    prev_hash="p",
                    hash=f"h{weeks_ago}-{n}",
                )
            )


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """Return a database with four steady weeks before this one."""
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    for weeks_ago in range(1, 5):
        seed_week(engine, weeks_ago, STEADY * 5, "invoice-triage")
    return engine


async def test_a_steady_week_raises_no_alert(engine: Engine, caplog) -> None:
    seed_week(engine, 0, STEADY * 5, "invoice-triage")
    report = check_drift(engine, now=NOW)
    assert [s.change for s in report.signals] == [0.0, 0.0, 0.0]
    actions = ActionLog()
    assert not await alert(report, ConnectorRegistry.sandboxed(actions), "#flowdraft-ops")
    assert actions.actions == [] and "drift" not in caplog.text


async def test_a_shifted_week_alerts_in_the_log_and_on_slack(engine: Engine, caplog) -> None:
    seed_week(engine, 0, [("refunds", 0.41)] * 10, "claims-intake")
    report = check_drift(engine, now=NOW)
    assert [s.name for s in report.drifted] == ["reply_confidence", "reply_mix", "design_mix"]
    confidence = report.signals[0]
    assert confidence.current == 0.41 and confidence.baseline == 0.8
    assert report.signals[1].change == 1.0  # nothing in common with the weeks before
    actions = ActionLog()
    with caplog.at_level(logging.WARNING):
        assert await alert(report, ConnectorRegistry.sandboxed(actions), "#flowdraft-ops")
    [post] = actions.actions
    assert (post.connector, post.operation) == ("slack", "post_message")
    assert post.params["channel"] == "#flowdraft-ops"
    assert "reply_confidence moved by 0.39" in post.params["text"]
    assert "Flowdraft drift" in caplog.text
    # The same week's alert is posted once, however often the check runs.
    await alert(
        check_drift(engine, now=NOW), ConnectorRegistry.sandboxed(actions), "#flowdraft-ops"
    )
    assert len(actions.actions) == 1


async def test_too_few_cases_are_not_judged(engine: Engine) -> None:
    seed_week(engine, 0, [("refunds", 0.2)] * 2, "claims-intake")
    report = check_drift(engine, now=NOW)
    assert report.drifted == [] and report.signals[0].cases == (2, 40)


def test_flowdraft_drift_json_reports_the_week(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    now = datetime.now(UTC)
    for weeks_ago in range(1, 5):
        seed_week(engine, weeks_ago, STEADY * 5, "invoice-triage", now)
    seed_week(engine, 0, [("refunds", 0.41)] * 10, "invoice-triage", now)
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "drift", "--json", "--alert"],
        capture_output=True,
        env={**os.environ, "FLOWDRAFT_HOME": str(home), "FLOWDRAFT_DRIFT_CHANNEL": "#ops"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert report["drifted"] == ["reply_confidence", "reply_mix"]
    assert report["threshold"] == 0.15
    assert "Flowdraft drift" in done.stderr.decode()  # the alert, logged
