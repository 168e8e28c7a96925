"""Where runs execute is read from FLOWDRAFT_TEMPORAL_* settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistant.settings import TemporalSettings


def test_no_address_means_the_embedded_engine_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_PORT", "7400")
    settings = TemporalSettings()
    assert settings.embedded and settings.target == "127.0.0.1:7400"


def test_a_cluster_address_and_namespace_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_ADDRESS", "acme.a1b2c.tmprl.cloud:7233")
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_NAMESPACE", "acme.a1b2c")
    settings = TemporalSettings()
    assert not settings.embedded
    assert (settings.target, settings.namespace) == ("acme.a1b2c.tmprl.cloud:7233", "acme.a1b2c")


def test_a_client_certificate_needs_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_TLS_CERT", "/etc/flowdraft/client.pem")
    with pytest.raises(ValidationError, match="TLS_KEY"):
        TemporalSettings()
