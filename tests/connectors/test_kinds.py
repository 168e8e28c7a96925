"""Every connector is one registered class: the catalog, hints, registry and checks follow it."""

from __future__ import annotations

from typing import get_args

import pytest

from assistant.policy.destinations import destination_problem
from assistant.policy.rules import load_policy
from assistant.schemas import ConnectorName, Step
from connectors.kinds import kinds, register
from connectors.operations import CATALOG
from connectors.registry import SETUP_HINTS, ConnectorRegistry
from connectors.sandbox import SandboxConnector
from connectors.teams import TeamsConnector


def test_the_step_schema_names_exactly_the_registered_connectors() -> None:
    assert set(get_args(ConnectorName)) == set(kinds())


def test_catalog_hints_and_sandbox_registry_come_from_the_classes() -> None:
    assert list(CATALOG) == list(kinds()) == list(SETUP_HINTS)
    assert list(kinds()) == ["slack", "email", "webhook", "tickets", "teams", "sandbox"]
    assert (
        CATALOG["teams"]["post_message"].params is TeamsConnector.operations["post_message"].params
    )
    assert SETUP_HINTS["teams"] == TeamsConnector.setup_hint
    registry = ConnectorRegistry.sandboxed()
    assert {c.name for c in registry} == set(kinds())
    assert all(c.sandbox for c in registry)


async def test_an_unconfigured_teams_connector_records_instead_of_posting() -> None:
    teams = ConnectorRegistry.sandboxed().get("teams")
    result = await teams.execute("post_message", {"text": "Invoice 7 approved"}, "k1")
    assert result.status == "ok" and result.sandbox
    assert "TEAMS_WEBHOOK_URL" in result.detail
    refused = await teams.execute("post_message", {"text": ""}, "k2")
    assert refused.status == "failed" and "text" in refused.detail


def test_destination_checks_are_the_connectors_own() -> None:
    where = load_policy().destinations
    private = Step(
        id="s1",
        title="Tell",
        kind="action",
        connector="slack",
        operation="post_message",
        params={"channel": "D0123ABCD", "text": "hi"},
    )
    problem = destination_problem(private, where)
    assert problem is not None and "only public #channels" in problem
    teams = private.model_copy(
        update={"connector": "teams", "params": {"text": "hi", "title": "Hello"}}
    )
    assert destination_problem(teams, where) is None  # its URL is a setting, checked on posting


def test_two_connectors_cannot_share_a_name() -> None:
    class Impostor(SandboxConnector):
        name = "slack"

    with pytest.raises(ValueError, match="two connectors are called 'slack'"):
        register(Impostor)
