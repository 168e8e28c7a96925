"""The JSON contracts every channel, tool and test relies on (see DESIGN.md, "Contracts")."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IntentKind = Literal["automate", "revise", "question", "reply", "clarify", "chitchat"]
StepKind = Literal["action", "approval", "condition", "human_task"]
ConnectorName = Literal["slack", "email", "webhook", "tickets", "sandbox", "teams"]
"""Every registered connector (``connectors.kinds``); a test keeps the two the same."""
Risk = Literal["low", "medium", "high"]
TriggerKind = Literal["manual", "schedule", "event", "webhook"]
DecisionType = Literal["accept", "edit", "response", "ignore"]
StepStatus = Literal["ok", "skipped", "failed", "blocked"]
Priority = Literal["low", "normal", "high", "urgent"]

ROLES = (
    "cfo",
    "ceo",
    "controller",
    "finance",
    "manager",
    "hr",
    "legal",
    "security",
    "compliance",
    "support_lead",
    "support",
    "it",
    "sales_lead",
)
"""Approver roles known to the shipped policies; users may hold any of them."""


class Contract(BaseModel):
    """Base for boundary models: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Slots(Contract):
    """Values pulled out of a request; only what the user actually said."""

    amount_threshold: float | None = None
    currency: str | None = None
    channel: str | None = None
    email: str | None = None
    approver_role: str | None = None
    schedule: str | None = None
    systems: list[str] = Field(default_factory=list)

    @field_validator("amount_threshold")
    @classmethod
    def _whole_amounts_as_int(cls, value: float | None) -> float | None:
        if value is not None and float(value).is_integer():
            return int(value)
        return value

    def stated(self) -> dict[str, Any]:
        """Return only the slots that carry a value."""
        return self.model_dump(exclude_none=True, exclude_defaults=True)


class Intent(Contract):
    """What the user wants from this turn."""

    kind: IntentKind
    confidence: float = Field(ge=0, le=1)
    slots: dict[str, Any] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    question: str | None = None

    @field_validator("slots", mode="before")
    @classmethod
    def _known_slots(cls, value: Any) -> dict[str, Any]:
        if isinstance(value, Slots):
            return value.stated()
        return Slots.model_validate(value or {}).stated()

    @property
    def typed_slots(self) -> Slots:
        """Return the slots as a typed model."""
        return Slots.model_validate(self.slots)


class Source(Contract):
    """A library document the assistant relied on."""

    doc: str = Field(description="Path relative to the library, e.g. 'faq/refund-policy.md'.")
    title: str
    score: float


class Step(Contract):
    """One editable step of a workflow."""

    id: str
    title: str
    kind: StepKind
    connector: ConnectorName | None = None
    operation: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    condition: str | None = None
    approver_role: str | None = None
    risk: Risk = "low"
    blocked_reason: str | None = None

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a step needs a title")
        return value.strip()


class Trigger(Contract):
    """What starts a workflow run."""

    kind: TriggerKind = "manual"
    detail: str = ""


def canonical_json(value: Any) -> str:
    """Serialise ``value`` deterministically (sorted keys, no spaces) for hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class WorkflowDraft(Contract):
    """One immutable version of a drafted workflow."""

    id: str = Field(default_factory=lambda: f"wf_{uuid.uuid4().hex[:12]}")
    version: int = Field(default=1, ge=1)
    title: str
    goal: str
    playbook: str | None = None
    trigger: Trigger = Field(default_factory=Trigger)
    steps: list[Step]
    sources: list[Source] = Field(default_factory=list)
    content_hash: str = ""

    def compute_hash(self) -> str:
        """Return the sha256 of the canonical JSON of title, trigger and steps."""
        body = {
            "title": self.title,
            "trigger": self.trigger.model_dump(mode="json"),
            "steps": [step.model_dump(mode="json") for step in self.steps],
        }
        return hashlib.sha256(canonical_json(body).encode()).hexdigest()

    def sealed(self) -> WorkflowDraft:
        """Return a copy with step ids renumbered s1..sN and ``content_hash`` set."""
        steps = [s.model_copy(update={"id": f"s{i}"}) for i, s in enumerate(self.steps, 1)]
        draft = self.model_copy(update={"steps": steps})
        return draft.model_copy(update={"content_hash": draft.compute_hash()})

    def next_version(self, **changes: Any) -> WorkflowDraft:
        """Return version ``version + 1`` with ``changes`` applied, sealed."""
        update = {"version": self.version + 1, **changes}
        return self.model_copy(update=update).sealed()


class ActionRequest(Contract):
    """What the assistant wants permission to do (Agent Inbox shape)."""

    action: str
    args: dict[str, Any]


class ReviewConfig(Contract):
    """Which answers a reviewer may give."""

    allow_accept: bool = True
    allow_edit: bool = True
    allow_respond: bool = True
    allow_ignore: bool = True


class ReviewRequest(Contract):
    """The payload of a review interrupt, in LangGraph's Agent Inbox shape."""

    action_request: ActionRequest
    config: ReviewConfig = Field(default_factory=ReviewConfig)
    description: str


class ReviewResponse(Contract):
    """A reviewer's answer to a ``ReviewRequest``.

    ``content_hash`` and ``version`` name what the reviewer saw; a decision carrying either
    is refused unless it matches the review it answers. Without them (Agent Inbox clients)
    it answers the pending review.
    """

    type: DecisionType
    args: Any = None
    user: str = "anonymous"
    content_hash: str | None = Field(default=None, max_length=128)
    version: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _args_shape(self) -> ReviewResponse:
        # After the fields, so that a missing ``args`` is checked too, not only a given one.
        if self.type == "response" and not (isinstance(self.args, str) and self.args.strip()):
            raise ValueError("a 'response' decision needs args: the instruction as text")
        if self.type == "edit" and not isinstance(self.args, dict):
            raise ValueError("an 'edit' decision needs args: the edited action args object")
        return self


class StepResult(Contract):
    """What happened to one step when it was performed (a ticket's reply is step ``reply``)."""

    step_id: str
    status: StepStatus
    detail: str = ""


class Customer(Contract):
    """The person who wrote a ticket."""

    email: str
    name: str | None = None


class Ticket(Contract):
    """A customer support ticket."""

    id: str
    subject: str
    body: str
    customer: Customer
    channel: str | None = None


class Triage(Contract):
    """Category and priority of a ticket."""

    category: str
    priority: Priority = "normal"


class ReplyDraft(Contract):
    """A drafted reply to a ticket, with its evidence."""

    body: str
    citations: list[Source] = Field(default_factory=list)
    confidence: float = Field(ge=0, le=1)
    route: Literal["draft", "human"] = "draft"
    triage: Triage
