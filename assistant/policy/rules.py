"""Policy-as-code: the YAML rules, validated into typed objects with compiled patterns."""

from __future__ import annotations

import fnmatch
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from assistant.schemas import Risk

DEFAULT_POLICY = Path(__file__).with_name("default.yaml")


class PolicyError(ValueError):
    """Raised when a policy file cannot be read or does not validate."""


class Rule(BaseModel):
    """Base for policy models: unknown keys are mistakes, not extensions."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(Rule):
    """Roles needed for amounts above ``above``."""

    above: float
    roles: list[str]


class Deadline(Rule):
    """When a waiting sign-off or task is reminded, escalated and expired, in hours.

    Hours are elapsed hours from when the step started waiting (see ``default.yaml`` for
    how the Approval Matrix's business days map onto them).
    """

    remind_after: float | None = None
    escalate_after: float | None = None
    """Hours after which the next tier up may also decide (``grants`` say who that is)."""
    expire_after: float
    """Hours after which the request expires: the run ends and must be resubmitted."""
    topics: list[str] = Field(default_factory=list)
    """Words in a workflow's title or goal that select this deadline (``refund``)."""

    @model_validator(mode="after")
    def _ordered(self) -> Deadline:
        earlier = [h for h in (self.remind_after, self.escalate_after) if h is not None]
        if any(h <= 0 for h in [*earlier, self.expire_after]):
            raise ValueError("deadline hours must be positive")
        if earlier != sorted(earlier) or any(h >= self.expire_after for h in earlier):
            raise ValueError("deadlines must come in order: remind, escalate, expire")
        return self

    def mentioned_in(self, text: str) -> bool:
        """Tell whether ``text`` mentions one of this deadline's topics (as a word start)."""
        return any(
            re.search(rf"\b{re.escape(topic)}", text, re.IGNORECASE) for topic in self.topics
        )


class Approvals(Rule):
    """Who approves what."""

    by_risk: dict[Risk, str]
    amount_tiers: list[Tier]
    refund_tiers: list[Tier] = Field(default_factory=list)
    grants: dict[str, list[str]] = Field(default_factory=dict)
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    """How long a run's sign-off or task may wait; ``default`` and topic-specific ones."""
    slack_channels: dict[str, str] = Field(default_factory=dict)
    """Per approver role, the Slack channel its run approvals are posted in (``#finance``);
    a role not named here is asked in direct messages."""

    def deadline_for(self, text: str) -> Deadline | None:
        """Return the deadline for a workflow described by ``text`` (title and goal).

        The first deadline whose topics ``text`` mentions wins, else ``default``; None
        (no deadline: a step waits until someone decides) when the policy sets none.
        """
        for name, deadline in self.deadlines.items():
            if name != "default" and deadline.mentioned_in(text):
                return deadline
        return self.deadlines.get("default")


class SeparationOfDuties(Rule):
    """Rules about who may not approve."""

    requester_may_not_approve_high_risk: bool = True


class Destinations(Rule):
    """Where automated actions may go."""

    slack_channel_pattern: str
    email_domains: list[str]
    webhook_hosts: list[str]

    @cached_property
    def slack_channel(self) -> re.Pattern[str]:
        """Return the compiled channel pattern."""
        return re.compile(self.slack_channel_pattern)

    def email_allowed(self, address: str) -> bool:
        """Tell whether an email address is in an allowed domain."""
        domain = address.rsplit("@", 1)[-1].lower()
        return any(domain == d or domain.endswith("." + d) for d in self.email_domains)

    def host_allowed(self, host: str) -> bool:
        """Tell whether a webhook host matches an allowed host pattern."""
        host = host.lower()
        return any(fnmatch.fnmatch(host, pattern) for pattern in self.webhook_hosts)


POLICY_TITLES = {
    "policies/do-not-automate.md": "Do-Not-Automate List",
    "policies/approval-matrix.md": "Approval Matrix",
    "policies/data-handling.md": "Data Handling Policy",
}
"""The policy documents an item may come from, by the name people know them by."""


class DoNotAutomate(Rule):
    """One action policy blocks or holds for a role: an item of the Do-Not-Automate List, or
    a high-risk action another policy document holds for a named role."""

    name: str
    heading: str
    source: str = "policies/do-not-automate.md"
    """The policy document the item comes from (its path in the library)."""
    action: Literal["block", "require"]
    role: str
    amount_roles: bool = False
    step_title: str
    endpoint: str
    operations: list[str] = Field(default_factory=list)
    """Connector operations (``connector.operation``) that are this action whatever their params."""
    reason: str
    patterns: list[str]

    @field_validator("patterns")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad pattern {pattern!r}: {exc}") from None
        return value

    @cached_property
    def compiled(self) -> list[re.Pattern[str]]:
        """Return the compiled patterns."""
        return [re.compile(p, re.IGNORECASE) for p in self.patterns]

    def matches(self, text: str) -> bool:
        """Tell whether ``text`` describes this action."""
        return any(p.search(text) for p in self.compiled)

    @property
    def cited(self) -> str:
        """Return the policy this item comes from, named and with its document."""
        return f"{POLICY_TITLES.get(self.source, self.source)}: {self.source}"


class Policy(Rule):
    """The whole policy file."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    version: int = 1
    risk: dict[str, Risk]
    blocked_operations: list[str] = Field(default_factory=list)
    approvals: Approvals
    separation_of_duties: SeparationOfDuties = Field(default_factory=SeparationOfDuties)
    destinations: Destinations
    skip_approval_patterns: list[str] = Field(default_factory=list)
    injection_patterns: list[str] = Field(default_factory=list)
    support_agents: list[str] = Field(default_factory=lambda: ["support", "support_lead", "admin"])
    """Roles that work the support desk: review drafted replies and take tickets from the queue."""
    money_fields: list[str] = Field(default_factory=list)
    """Event fields and param names that hold money (``fnmatch`` patterns, e.g. ``*.amount``)."""
    do_not_automate: list[DoNotAutomate]
    guarded_actions: list[DoNotAutomate] = Field(default_factory=list)
    """High-risk actions other policy documents hold for a role (Approval Matrix section 4)."""

    def is_support_agent(self, roles: list[str] | None) -> bool:
        """Tell whether someone holding ``roles`` works the support desk."""
        return bool(roles) and bool(set(self.support_agents) & set(roles or []))

    def support_agents_text(self) -> str:
        """Return the desk's roles as a reader would list them ("support, support_lead or admin")."""
        names = list(self.support_agents)
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

    @property
    def guarded_items(self) -> list[DoNotAutomate]:
        """Return every action policy blocks or holds for a role, the list's items first."""
        return [*self.do_not_automate, *self.guarded_actions]

    @cached_property
    def skip_approval(self) -> list[re.Pattern[str]]:
        """Return compiled skip-approval patterns."""
        return [re.compile(p, re.IGNORECASE) for p in self.skip_approval_patterns]

    @cached_property
    def injection(self) -> list[re.Pattern[str]]:
        """Return compiled prompt-injection patterns."""
        return [re.compile(p, re.IGNORECASE) for p in self.injection_patterns]

    def risky(self, text: str) -> list[DoNotAutomate]:
        """Return the guarded actions (Do-Not-Automate items first) ``text`` asks for."""
        return [item for item in self.guarded_items if item.matches(text)]

    def is_money_field(self, name: str) -> bool:
        """Tell whether the field or param ``name`` (dotted path) holds a money amount."""
        name = name.lower()
        return any(fnmatch.fnmatchcase(name, pattern.lower()) for pattern in self.money_fields)

    def roles_for_amount(self, amount: float | None, *, refund: bool = False) -> list[str]:
        """Return the roles the tiers require for ``amount`` (the top tier it exceeds)."""
        if amount is None:
            return []
        tiers = self.approvals.refund_tiers if refund else self.approvals.amount_tiers
        chosen: list[str] = []
        for tier in sorted(tiers, key=lambda t: t.above):
            if amount > tier.above:
                chosen = tier.roles
        return list(chosen)

    def roles_satisfying(self, needed: list[str]) -> list[str]:
        """Return every role whose holders may approve for one of ``needed`` (grants included).

        Example: ``["cfo"]`` gives cfo, ceo and admin under the shipped policy, so "who can
        approve" names the CEO too, who may stand in for an absent CFO.
        """
        granting = [r for r, granted in self.approvals.grants.items() if "*" in granted]
        granting += [
            r for role in needed for r in self.approvals.grants if self.satisfies([r], role)
        ]
        return list(dict.fromkeys([*needed, *granting]))

    def satisfies(self, held: list[str], needed: str) -> bool:
        """Tell whether a user holding ``held`` roles may approve for role ``needed``."""
        if needed in held:
            return True
        for role in held:
            granted = self.approvals.grants.get(role, [])
            if "*" in granted or needed in granted:
                return True
        return False


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file (the shipped default when ``path`` is None)."""
    path = path or DEFAULT_POLICY
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"cannot read policy {path}: {exc}") from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PolicyError(f"policy {path}: {where}: {first['msg']}") from None
