"""``GET /metrics``: Prometheus text, behind an API token, moving by what people did."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fastapi.testclient import TestClient

from assistant.db.tickets import store_ticket
from assistant.db.tokens import create_token
from assistant.db.users import add_user
from assistant.observability.journal import ObservedJournal
from assistant.schemas import Ticket
from assistant.services import Services, open_runner
from assistant.settings import ConnectorSettings
from assistant.support.desk import SupportDesk
from assistant.web.server import create_app
from tests.observability.conftest import samples, value
from tests.support.live import services_with

GOAL = "Route vendor invoices above $10k to the CFO for sign-off and post a note in #finance"
TICKET = {
    "id": "T-5",
    "subject": "Where is my parcel?",
    "body": "My order shipped four days ago. How do I track it?",
    "customer": {"email": "kim@customer.example", "name": "Kim Ode"},
}


def observed(services: Services, home: Path) -> Services:
    """Return services on a fresh database whose journal is counted, as in production."""
    built = services_with(services, home, ConnectorSettings())
    return dataclasses.replace(built, journal=ObservedJournal(built.engine))


async def test_metrics_move_by_exactly_a_draft_turn_and_a_ticket_decision(
    services: Services, tmp_path: Path
) -> None:
    built = observed(services, tmp_path / "home")
    add_user(built.engine, name="sam", roles=["support"])
    _, token = create_token(built.engine, name="prometheus")
    client = TestClient(create_app(built))
    auth = {"Authorization": f"Bearer {token}"}

    def scrape() -> dict:
        answer = client.get("/metrics", headers=auth)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain")
        return samples(answer.text)

    before = scrape()
    async with open_runner(built) as runner:
        events = [e async for e in runner.send_text("t-metrics", GOAL, "ana")]
        assert [e for e in events if e["type"] == "draft"]
        desk = SupportDesk(built, runner)
        row, _ = store_ticket(built.engine, Ticket.model_validate(TICKET), source="api")
        drafted = await desk.draft(row.id or 0)
        assert drafted.route == "draft"
        assert (await desk.accept(f"HD-{row.id}", "sam")).status == "sent"
    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("flowdraft_chat_turn_seconds_count", intent="automate") == 1
    assert moved("flowdraft_chat_turn_seconds_count", intent="reply") == 1
    assert moved("flowdraft_chat_turn_seconds_count", intent="decision") == 1
    assert moved("flowdraft_retrieval_seconds_count") == 2
    assert moved("flowdraft_brain_confidence_count", kind="intent") == 1
    assert moved("flowdraft_drafts_total") == 1
    assert moved("flowdraft_draft_decisions_total", decision="accept") == 0
    assert moved("flowdraft_ticket_replies_drafted_total", route="draft") == 1
    assert moved("flowdraft_brain_confidence_count", kind="reply") == 1
    assert moved("flowdraft_ticket_decisions_total", decision="accepted") == 1
    assert moved("flowdraft_ticket_decisions_total", decision="rejected") == 0


def test_metrics_need_a_token_and_no_other_site_may_read_them(
    services: Services, tmp_path: Path
) -> None:
    built = observed(services, tmp_path / "home")
    client = TestClient(create_app(built))
    refused = client.get("/metrics", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 401 and "flowdraft_" not in refused.text
    _, token = create_token(built.engine, name="scraper")
    answer = client.get(
        "/metrics",
        headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
    )
    assert answer.status_code == 200 and "flowdraft_chat_turn_seconds" in answer.text
    assert "access-control-allow-origin" not in answer.headers
    assert answer.headers["cross-origin-resource-policy"] == "same-origin"


def test_an_open_metrics_setting_lets_a_private_scraper_in(
    services: Services, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("FLOWDRAFT_METRICS_OPEN", "true")
    client = TestClient(create_app(observed(services, tmp_path / "home")))
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/stats").status_code == 401


def test_a_worker_whose_metrics_port_is_taken_still_runs(caplog) -> None:
    import socket

    from assistant.observability.http import serve_worker_metrics
    from assistant.observability.settings import ObservabilitySettings

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve_worker_metrics(ObservabilitySettings(worker_metrics_port=port)) is None
    assert f"port {port}" in caplog.text
    assert serve_worker_metrics(ObservabilitySettings(worker_metrics_port=0)) is None


def test_slack_acks_are_timed(services: Services, tmp_path: Path) -> None:
    from prometheus_client import REGISTRY

    from tests.support.slack import live_slack

    def acks() -> float:
        return REGISTRY.get_sample_value("flowdraft_slack_ack_seconds_count") or 0.0

    with live_slack(services, tmp_path / "slack-home") as live:
        before = acks()
        assert live.wire.command("how long is the return window?").status_code == 200
        assert acks() == before + 1
        forged = live.wire.send(b"command=/flowdraft&text=hi", {"X-Slack-Signature": "v0=00"})
        assert forged.status_code == 401 and acks() == before + 1
