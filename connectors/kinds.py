"""Every kind of connector by name: each connector module registers its class here.

A connector is one class (see ``connectors.base.Connector``) that declares its name, its
operations with typed params, its setup hint, how it is built from settings and where its
actions may go. Decorated with ``@register``, it is found by name; every module of the
``connectors`` package is imported once when the kinds are first asked for, so a new
connector is a new module and nothing else. The catalog of operations, the setup hints,
the registry ``build_registry`` makes and the policy's destination checks all read this.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from assistant.settings import ConnectorSettings, Settings
    from connectors.base import Connector, Operation
    from connectors.retry import RetryPolicy

C = TypeVar("C", bound="type[Connector]")

_KINDS: dict[str, type[Connector]] = {}
_loaded = False


@dataclass(frozen=True)
class ConnectorSetup:
    """What a connector may be built from: settings, credentials and shared services."""

    settings: Settings
    credentials: ConnectorSettings
    engine: Engine
    host_allowed: Callable[[str], bool]
    """Whether the policy lets actions reach a host."""
    retry: RetryPolicy


def register(cls: C) -> C:
    """Register a connector class under its ``name`` (a class decorator)."""
    known = _KINDS.get(cls.name)
    if known is not None and known is not cls:
        raise ValueError(f"two connectors are called {cls.name!r}: {known} and {cls}")
    _KINDS[cls.name] = cls
    return cls


def kinds() -> Mapping[str, type[Connector]]:
    """Return every connector class by name, in the order they are listed to people."""
    global _loaded
    if not _loaded:
        _loaded = True
        package = importlib.import_module("connectors")
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"connectors.{module.name}")
    return dict(sorted(_KINDS.items(), key=lambda item: (item[1].listed, item[0])))


def catalog() -> dict[str, dict[str, Operation]]:
    """Return every operation by connector name: the source of truth for params and risk."""
    return {name: dict(cls.operations) for name, cls in kinds().items()}


def setup_hints() -> dict[str, str]:
    """Return the setting that makes each connector act for real, by connector name."""
    return {name: cls.setup_hint for name, cls in kinds().items()}
