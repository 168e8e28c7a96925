"""What the chat model returns, and how its replies are parsed into those shapes."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field, ValidationError

from assistant.schemas import IntentKind, Priority, Slots, Step, Trigger
from connectors.operations import CATALOG

Model = TypeVar("Model", bound=BaseModel)
FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class IntentOut(BaseModel):
    """What the model returns when classifying."""

    kind: IntentKind
    confidence: float = Field(ge=0, le=1)
    slots: Slots = Field(default_factory=Slots)
    missing: list[str] = Field(default_factory=list)
    question: str | None = None


class StepOut(BaseModel):
    """A step as the model drafts it (ids, risk and blocks are set by Flowdraft)."""

    title: str
    kind: str
    connector: str | None = None
    operation: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    condition: str | None = None
    approver_role: str | None = None


class DraftOut(BaseModel):
    """A drafted workflow as the model returns it."""

    title: str
    playbook: str | None = None
    trigger: Trigger = Field(default_factory=Trigger)
    steps: list[StepOut] = Field(min_length=1)


class RevisionOut(BaseModel):
    """A revision as the model returns it."""

    understood: bool
    explanation: str = ""
    title: str | None = None
    trigger: Trigger | None = None
    steps: list[StepOut] | None = None


class AnswerOut(BaseModel):
    """An answer as the model returns it."""

    answer: str = Field(min_length=1)
    cited_docs: list[str] = Field(default_factory=list)


class ReplyOut(BaseModel):
    """A ticket reply as the model returns it."""

    body: str = Field(min_length=1)
    confidence: float = Field(ge=0, le=1)
    route: str = "draft"
    category: str = "general"
    priority: Priority = "normal"
    cited_docs: list[str] = Field(default_factory=list)


class InvalidOutput(ValueError):
    """Raised when the model's reply cannot be parsed into the schema."""


def parse_json(message: BaseMessage, schema: type[Model]) -> Model:
    """Parse a model reply (plain JSON or a fenced block) into ``schema``."""
    content = message.content if isinstance(message.content, str) else json.dumps(message.content)
    fenced = FENCE.search(content)
    text = fenced.group(1) if fenced else content
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        raise InvalidOutput("no JSON object in the reply")
    try:
        return schema.model_validate_json(text[start : end + 1])
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "root"
        raise InvalidOutput(f"{where}: {first['msg']}") from None


def build_steps(raw: list[StepOut]) -> list[Step]:
    """Turn model steps into contract steps; unknown kinds become human tasks."""
    steps = []
    for i, out in enumerate(raw, 1):
        data = out.model_dump()
        if data["kind"] not in ("action", "approval", "condition", "human_task"):
            data["kind"] = "human_task"
        if data["connector"] not in (None, *CATALOG):
            # Policy blocks an unknown connector; keep the step visible rather than drop it.
            data["operation"] = f"{data['connector']}.{data['operation']}"
            data["connector"] = None
        steps.append(Step.model_validate({"id": f"s{i}", **data}))
    return steps
