"""Name-keyed registry of connectors, built from settings in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy.engine import Engine

from assistant.settings import ConnectorSettings, Settings
from connectors.base import Connector
from connectors.operations import CATALOG
from connectors.retry import RetryPolicy
from connectors.sandbox import ActionLog, SandboxConnector

SETUP_HINTS = {
    "slack": "set SLACK_BOT_TOKEN to post for real",
    "email": "set SMTP_HOST (and SMTP_USERNAME/SMTP_PASSWORD) to send for real",
    "webhook": "set FLOWDRAFT_WEBHOOK_SECRET and allow the host in policy to call it for real",
    "tickets": "the built-in helpdesk needs the app database",
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


def build_registry(
    settings: Settings,
    credentials: ConnectorSettings,
    *,
    engine: Engine,
    host_allowed: Callable[[str], bool],
    log: ActionLog | None = None,
) -> ConnectorRegistry:
    """Build every connector from settings; one without credentials runs in sandbox mode."""
    from connectors.email import EmailConnector
    from connectors.slack import SlackConnector
    from connectors.tickets import TicketsConnector
    from connectors.webhook import WebhookConnector

    log = log if log is not None else ActionLog()
    retry = RetryPolicy(attempts=settings.connector_attempts, timeout=settings.connector_timeout)

    def sandbox(name: str) -> SandboxConnector:
        return SandboxConnector(name, log=log, setup_hint=SETUP_HINTS[name])

    connectors: list[Connector] = [
        SlackConnector(
            token=credentials.slack_bot_token, base_url=settings.slack_api_url, retry=retry
        )
        if credentials.slack_bot_token
        else sandbox("slack"),
        EmailConnector(
            host=credentials.smtp_host,
            port=credentials.smtp_port,
            username=credentials.smtp_username,
            password=credentials.smtp_password,
            starttls=credentials.smtp_starttls,
            use_ssl=credentials.smtp_ssl,
            sender=credentials.smtp_from,
            retry=retry,
        )
        if credentials.smtp_host
        else sandbox("email"),
        WebhookConnector(secret=settings.webhook_secret, host_allowed=host_allowed, retry=retry)
        if settings.webhook_secret
        else sandbox("webhook"),
        TicketsConnector(engine),
        sandbox("sandbox"),
    ]
    return ConnectorRegistry(connectors)
