"""Name-keyed registry of connectors, built from settings in one place."""

from __future__ import annotations

from collections.abc import Iterator

from connectors.base import Connector
from connectors.operations import CATALOG
from connectors.sandbox import ActionLog, SandboxConnector

SETUP_HINTS = {
    "slack": "set SLACK_BOT_TOKEN to post for real",
    "email": "set SMTP_HOST (and SMTP_USERNAME/SMTP_PASSWORD) to send for real",
    "webhook": "set FLOWDRAFT_WEBHOOK_SECRET and allow the host in policy to call it for real",
    "tickets": "the helpdesk database is enabled with the connectors release",
    "sandbox": "",
}


class UnknownConnector(KeyError):
    """Raised for a connector name the registry does not hold."""


class ConnectorRegistry:
    """Look connectors up by name.

    Example:
        >>> registry = ConnectorRegistry.sandboxed()
        >>> registry.get("slack").sandbox
        True
    """

    def __init__(self, connectors: list[Connector]) -> None:
        self._by_name = {c.name: c for c in connectors}

    @classmethod
    def sandboxed(cls, log: ActionLog | None = None) -> ConnectorRegistry:
        """Return a registry where every known connector records instead of acting."""
        log = log if log is not None else ActionLog()
        return cls(
            [SandboxConnector(name, log=log, setup_hint=SETUP_HINTS[name]) for name in CATALOG]
        )

    def get(self, name: str) -> Connector:
        """Return the connector called ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name))
            raise UnknownConnector(f"unknown connector {name!r} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Connector]:
        return iter(self._by_name.values())
