"""Tracing is off unless the standard variables (or FLOWDRAFT_TRACING) ask for it."""

from __future__ import annotations

import pytest

from assistant.observability.tracing import otlp_target, setup_tracing, tracing_requested


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otlp"),
        ({"FLOWDRAFT_TRACING": "true"}, "otlp"),
        ({"FLOWDRAFT_TRACING": "console"}, "console"),
        ({"FLOWDRAFT_TRACING": "off", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
        ({"OTEL_SDK_DISABLED": "true", "FLOWDRAFT_TRACING": "1"}, None),
    ],
)
def test_the_environment_decides_whether_spans_are_exported(
    env: dict[str, str], wanted: str | None
) -> None:
    assert tracing_requested(env) == wanted


def test_nothing_is_installed_when_nothing_asks() -> None:
    assert setup_tracing(env={}) is None


def test_the_otlp_target_follows_the_standard_variables() -> None:
    assert otlp_target({}) == "http://localhost:4318/v1/traces"
    assert (
        otlp_target({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}) == "http://c:4318/v1/traces"
    )
    only = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:1/x"}
    assert otlp_target(only) == "http://t:1/x"
