"""``flowdraft stats --json`` and ``GET /api/stats``: the business signals of a seeded database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.db.engine import make_engine
from assistant.db.tokens import create_token
from assistant.observability.stats import compute_stats
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.web.server import create_app
from tests.support.live import services_with
from tests.support.signals import T0, seed_signals

EXPECTED: dict[str, Any] = {
    "designs": 2,
    "edits_per_design": 0.5,
    "goal_to_first_run": {"count": 1, "median_s": 400.0, "p90_s": 400.0},
    "design_to_approval": {"count": 1, "median_s": 310.0, "p90_s": 310.0},
    "runs": {
        "started": 3,
        "finished": 2,
        "by_status": {"completed": 1, "failed": 1},
        "duration": {"count": 2, "median_s": 20.0, "p90_s": 30.0},
        "failure_rate": 0.5,
    },
    "human_override_rate": {
        "workflow_reviews": 0.667,
        "ticket_replies": 0.5,
        "run_approvals": 0.5,
    },
    "acceptance_rate": {"workflow_reviews": 0.333, "ticket_replies": 0.5},
    "cost_per_design": {"brain": "offline", "tokens": 0},
}


def test_stats_json_reads_the_signals_from_the_database(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    seed_signals(make_engine(f"sqlite:///{home / 'flowdraft.db'}"))
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "stats", "--json"],
        capture_output=True,
        env={**os.environ, "FLOWDRAFT_HOME": str(home)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    figures = json.loads(done.stdout)
    assert {k: figures[k] for k in EXPECTED} == EXPECTED
    # No shipped playbook states how long the work takes by hand: nothing is made up.
    assert figures["time_saved"]["minutes"] is None
    assert "manual_minutes" in figures["time_saved"]["note"]


def test_time_saved_counts_completed_runs_of_playbooks_with_a_baseline(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    seed_signals(engine)
    library = tmp_path / "library"
    (library / "playbooks").mkdir(parents=True)
    (library / "playbooks" / "invoice-triage.md").write_text(
        "---\ntitle: Invoices\nkind: playbook\nmanual_minutes: 12\n---\nBy hand it takes 12 minutes.\n"
    )
    saved = compute_stats(engine, library=library)["time_saved"]
    assert saved == {"minutes": 12.0, "runs_counted": 1}


def test_a_window_keeps_only_recent_activity(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    seed_signals(engine)
    later = compute_stats(engine, days=7, now=T0 + timedelta(days=30))
    assert later["designs"] == 0 and later["runs"]["started"] == 0


def test_api_stats_needs_a_token_and_gives_the_same_numbers(
    services: Services, tmp_path: Path
) -> None:
    built = services_with(services, tmp_path / "home", ConnectorSettings())
    seed_signals(built.engine)
    client = TestClient(create_app(built))
    assert client.get("/api/stats").status_code == 401
    _, token = create_token(built.engine, name="dashboard")
    answer = client.get("/api/stats", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    figures = answer.json()
    assert {k: figures[k] for k in EXPECTED} == EXPECTED
    # The seeded activity is a month old: the last week holds none of it.
    recent = client.get("/api/stats?days=7", headers={"Authorization": f"Bearer {token}"})
    assert recent.status_code == 200 and recent.json()["designs"] == 0
    assert (
        client.get("/api/stats?days=0", headers={"Authorization": f"Bearer {token}"}).status_code
        == 422
    )


@pytest.mark.parametrize("days", [0, -1])
def test_stats_refuses_a_window_that_is_not_positive(tmp_path: Path, days: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "stats", "--json", "--days", str(days)],
        capture_output=True,
        env={**os.environ, "FLOWDRAFT_HOME": str(tmp_path)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
