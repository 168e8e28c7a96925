"""The small base every connector builds on: named operations with typed params."""

from __future__ import annotations

import abc
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.schemas import Risk

if TYPE_CHECKING:
    from assistant.policy.rules import Destinations
    from assistant.schemas import Step
    from connectors.kinds import ConnectorSetup

log = logging.getLogger(__name__)

ResultStatus = Literal["ok", "failed", "skipped"]


def idempotency_key(run_id: str, content_hash: str, step_id: str) -> str:
    """Return the key that makes a step's action happen once: (run, content hash, step).

    A connector passes it on (header, message id, ticket key) so a receiver drops repeats.
    """
    return f"{run_id}:{content_hash[:16]}:{step_id}"


class OperationParams(BaseModel):
    """Base for an operation's params; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Operation:
    """One thing a connector can do: its params model, risk and a description."""

    name: str
    params: type[OperationParams]
    risk: Risk
    description: str


@dataclass
class ActionResult:
    """The outcome of one ``execute`` call."""

    status: ResultStatus
    detail: str
    external_id: str | None = None
    sandbox: bool = False
    data: dict[str, Any] = field(default_factory=dict)


class ParamsError(ValueError):
    """Raised when params do not fit an operation's schema."""


class Connector(abc.ABC):
    """A way to act on the world, declared in one class registered by name (``kinds``).

    A subclass declares its ``name``, its ``operations`` (typed params), its ``setup_hint``,
    how it is built from settings (``from_setup``) and where its actions may go
    (``destination_problem``). A connector built without credentials sets ``sandbox`` and
    only records what it would have done; ``setup_hint`` tells the user which setting
    makes it real.
    """

    name: ClassVar[str]
    operations: ClassVar[Mapping[str, Operation]]
    setup_hint: ClassVar[str] = ""
    listed: ClassVar[int] = 100
    """Where the connector comes when connectors are listed (lowest first)."""

    @classmethod
    def from_setup(cls, setup: ConnectorSetup) -> Connector | None:
        """Build the connector from settings; None when not configured (then sandboxed)."""
        return None

    @classmethod
    def destination_problem(cls, step: Step, where: Destinations) -> str | None:
        """Return why a drafted step's destination is not allowed, if it is not."""
        return None

    def __init__(self, *, sandbox: bool = False) -> None:
        self.sandbox = sandbox

    def operation(self, name: str) -> Operation:
        """Return the operation called ``name`` or raise ``KeyError`` naming the options."""
        try:
            return self.operations[name]
        except KeyError:
            known = ", ".join(sorted(self.operations))
            raise KeyError(f"{self.name} has no operation {name!r} (known: {known})") from None

    def validate(self, operation: str, params: Mapping[str, Any]) -> OperationParams:
        """Check ``params`` against the operation's model; raise ``ParamsError`` if they fail."""
        model = self.operation(operation).params
        try:
            return model.model_validate(dict(params))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'params'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ParamsError(f"{self.name}.{operation}: {problems}") from None

    async def execute(
        self, operation: str, params: Mapping[str, Any], idempotency_key: str
    ) -> ActionResult:
        """Validate ``params`` and perform ``operation`` once for ``idempotency_key``."""
        try:
            checked = self.validate(operation, params)
        except (KeyError, ParamsError) as exc:
            return ActionResult(status="failed", detail=str(exc).strip("'\""))
        try:
            if self.sandbox:
                return await self.record(operation, checked, idempotency_key)
            return await self.perform(operation, checked, idempotency_key)
        except Exception as exc:  # a failed action is a result, never a crash
            log.exception("%s.%s failed unexpectedly", self.name, operation)
            return ActionResult(
                status="failed", detail=f"{self.name}.{operation}: {type(exc).__name__}: {exc}"
            )

    async def record(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """Record instead of acting (sandbox mode)."""
        hint = f" ({self.setup_hint})" if self.setup_hint else ""
        return ActionResult(
            status="ok",
            detail=f"sandbox: would {self.name}.{operation} {describe(params)}{hint}",
            external_id=f"sandbox-{idempotency_key[:16]}",
            sandbox=True,
            data=params.model_dump(),
        )

    @abc.abstractmethod
    async def perform(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """Perform the operation for real."""


def describe(params: OperationParams) -> str:
    """Return a short human summary of params for result details."""
    parts = []
    for key, value in params.model_dump(exclude_none=True).items():
        text = value if isinstance(value, str) else repr(value)
        if len(text) > 60:
            text = text[:57] + "..."
        parts.append(f"{key}={text}")
    return ", ".join(parts)
