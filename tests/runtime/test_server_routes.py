"""The server app mounts the hooks and the automations API, and says when no engine runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from assistant.db.tokens import create_token
from assistant.runtime.activation import activate
from assistant.services import Services
from assistant.settings import ConnectorSettings, Settings
from assistant.web.server import create_app
from tests.runtime.conftest import invoice, invoice_draft
from tests.support.live import services_with


def test_the_server_answers_hooks_and_the_api(services: Services, tmp_path: Path) -> None:
    mine = services_with(services, tmp_path / "home", ConnectorSettings())
    made = activate(mine.engine, draft=invoice_draft(), approvals=["carol"], owner="ana")
    _, api_token = create_token(mine.engine, name="ops")
    with TestClient(create_app(mine)) as client:
        hook = made.automation.trigger.hook or ""
        bad = client.post(hook, json=invoice(5000), headers={"Authorization": "Bearer fh_x"})
        assert bad.status_code == 401
        unreachable = client.post(
            hook, json=invoice(5000), headers={"Authorization": f"Bearer {made.hook_token}"}
        )
        assert unreachable.status_code == 503
        assert "FLOWDRAFT_TEMPORAL_ADDRESS" in unreachable.json()["error"]
        listed = client.get("/api/automations", headers={"Authorization": f"Bearer {api_token}"})
        assert [a["id"] for a in listed.json()["automations"]] == [made.automation.id]


def test_the_time_zone_setting_is_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDRAFT_TIMEZONE", "Europe/Paris")
    assert Settings().timezone == "Europe/Paris"
    monkeypatch.setenv("FLOWDRAFT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="FLOWDRAFT_TIMEZONE"):
        Settings()
