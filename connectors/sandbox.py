"""A connector that performs nothing and records everything: tests and the no-setup default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connectors.base import ActionResult, Connector, Operation, OperationParams
from connectors.kinds import kinds, register
from connectors.operations import RecordNote


@dataclass
class RecordedAction:
    """One action a sandboxed connector would have performed."""

    connector: str
    operation: str
    params: dict[str, Any]
    idempotency_key: str


@dataclass
class ActionLog:
    """In-memory list of recorded actions, shared by every sandboxed connector."""

    actions: list[RecordedAction] = field(default_factory=list)


@register
class SandboxConnector(Connector):
    """Record each action under the name and operations of the connector it stands in for.

    Example:
        >>> log = ActionLog()
        >>> slack = SandboxConnector("slack", log=log, setup_hint="set SLACK_BOT_TOKEN")
        >>> import asyncio
        >>> r = asyncio.run(slack.execute("post_message", {"channel": "#ops", "text": "hi"}, "k1"))
        >>> r.status, len(log.actions)
        ('ok', 1)
    """

    name: ClassVar[str] = "sandbox"
    operations: ClassVar[Mapping[str, Operation]] = {
        "record": Operation("record", RecordNote, "low", "Record a note"),
    }
    listed = 90

    def __init__(
        self,
        name: str = "sandbox",
        *,
        log: ActionLog | None = None,
        setup_hint: str = "",
        operations: Mapping[str, Operation] | None = None,
    ) -> None:
        super().__init__(sandbox=True)
        self.name = name  # type: ignore[misc]
        self.operations = operations if operations is not None else kinds()[name].operations  # type: ignore[misc]
        self.setup_hint = setup_hint  # type: ignore[misc]
        self.log = log if log is not None else ActionLog()

    async def record(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """Append the action to the log, once per idempotency key, and describe it."""
        if not any(a.idempotency_key == idempotency_key for a in self.log.actions):
            self.log.actions.append(
                RecordedAction(self.name, operation, params.model_dump(), idempotency_key)
            )
        return await super().record(operation, params, idempotency_key)

    async def perform(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """Never reached: a sandbox connector always records."""
        return await self.record(operation, params, idempotency_key)
