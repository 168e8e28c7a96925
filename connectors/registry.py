"""Name-keyed registry of connectors, each built from settings by its own class."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy.engine import Engine

from assistant.settings import ConnectorSettings, Settings
from connectors.base import Connector
from connectors.kinds import ConnectorSetup, kinds, setup_hints
from connectors.retry import RetryPolicy
from connectors.sandbox import ActionLog, SandboxConnector


def __getattr__(name: str) -> dict[str, str]:
    """Return ``SETUP_HINTS``: the setting that makes each connector real, by name."""
    if name == "SETUP_HINTS":
        return setup_hints()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
            [
                SandboxConnector(name, log=log, setup_hint=kind.setup_hint)
                for name, kind in kinds().items()
            ]
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
    log = log if log is not None else ActionLog()
    setup = ConnectorSetup(
        settings=settings,
        credentials=credentials,
        engine=engine,
        host_allowed=host_allowed,
        retry=RetryPolicy(attempts=settings.connector_attempts, timeout=settings.connector_timeout),
    )
    connectors: list[Connector] = []
    for name, kind in kinds().items():
        built = kind.from_setup(setup)
        connectors.append(
            built
            if built is not None
            else SandboxConnector(name, log=log, setup_hint=kind.setup_hint)
        )
    return ConnectorRegistry(connectors)
