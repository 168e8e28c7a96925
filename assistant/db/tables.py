"""Every table of the app database, one sqlmodel class each."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


class UserBase(SQLModel):
    """Fields a user shares across create, stored and public forms."""

    name: str = Field(index=True, unique=True, min_length=1, max_length=80)
    roles: str = Field(default="", description="Comma-separated roles.")
    email: str | None = Field(default=None, index=True)
    slack_user_id: str | None = Field(default=None, index=True)


class User(UserBase, table=True):
    """A person who may request and approve workflows."""

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def role_list(self) -> list[str]:
        """Return the user's roles."""
        return [r for r in self.roles.split(",") if r]


class WorkflowVersion(SQLModel, table=True):
    """One immutable version of a drafted workflow."""

    __table_args__ = (UniqueConstraint("workflow_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(index=True)
    version: int
    content_hash: str = Field(index=True)
    title: str
    thread: str = Field(index=True)
    author: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class DecisionClaim(SQLModel, table=True):
    """The first decision on a pending review; any later one for the same review is refused."""

    review_id: str = Field(sa_column=Column(String(200), primary_key=True))
    thread: str = Field(index=True)
    user: str
    decision: str
    at: datetime = Field(default_factory=utcnow)


class AuditRecord(SQLModel, table=True):
    """One append-only audit event, chained to the one before it by hash."""

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str
    thread: str = Field(default="", index=True)
    event: str = Field(index=True)
    content_hash: str = ""
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    prev_hash: str
    hash: str


class HelpdeskTicket(SQLModel, table=True):
    """A ticket of the built-in helpdesk."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, description="Idempotency key that created it.")
    subject: str
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    queue: str = "support"
    priority: str = "normal"
    status: str = "open"
    assignee: str | None = None
    customer_email: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Set only on tickets taken in from customers (API, CLI, Slack); None on connector-made ones.
    external_id: str | None = Field(
        default=None, index=True, unique=True, description="The caller's Ticket.id."
    )
    customer_name: str | None = None
    channel: str | None = None
    source: str | None = Field(default=None, description="api | cli | slack")


class HelpdeskComment(SQLModel, table=True):
    """A comment on a helpdesk ticket."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True)
    ticket_id: int = Field(index=True, foreign_key="helpdeskticket.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    author: str = "flowdraft"
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A named bearer token for the JSON API; only a hash of the secret is kept."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, min_length=1, max_length=64)
    token_hash: str = Field(index=True, unique=True, description="sha256 hex of the token.")
    owner: str | None = Field(default=None, description="The user the token acts as.")
    created_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class TicketReply(SQLModel, table=True):
    """The drafted reply to one intake ticket and what the support agent did with it."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(index=True, unique=True, foreign_key="helpdeskticket.id")
    thread: str = Field(index=True)
    status: str = Field(
        default="waiting",
        index=True,
        description="waiting | sending | sent | failed | rejecting | rejected",
    )
    route: str = "draft"
    confidence: float = 0.0
    category: str = ""
    priority: str = "normal"
    drafted_body: str = Field(default="", sa_column=Column(Text, nullable=False))
    citations: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    drafted_at: datetime = Field(default_factory=utcnow)
    decision: str | None = Field(default=None, description="accepted | edited | rejected")
    agent: str | None = Field(default=None, index=True)
    final_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    edit_chars: int = 0
    reason: str | None = None
    decided_at: datetime | None = None
    delivery: str = ""


class TicketFeed(SQLModel, table=True):
    """That an intake ticket was given to the automations a new ticket starts, and the outcome.

    A ticket without a row still has to be fed (see ``assistant.runtime.ticket_feed``).
    """

    ticket_id: int = Field(primary_key=True, foreign_key="helpdeskticket.id")
    fed_at: datetime = Field(default_factory=utcnow)
    outcome: str = Field(
        default="{}",
        sa_column=Column(Text, nullable=False),
        description='JSON: {"runs": {automation: run}, "refused": {automation: reason}}',
    )


class AuditAnchor(SQLModel, table=True):
    """The audit chain's head (newest seq and hash), sealed with the key kept outside the DB.

    Updated in the same transaction as every append, so deleting records from the end of the
    chain leaves an anchor that points past it. ``legacy_until`` is the last record written
    before the chain was keyed: those were sealed with plain sha256.
    """

    id: int = Field(default=1, primary_key=True)
    seq: int
    hash: str
    legacy_until: int = 0
    mac: str


class LoginFailure(SQLModel, table=True):
    """Failed logins of one user name or one client address, kept to throttle guessing."""

    subject: str = Field(sa_column=Column(String(300), primary_key=True))
    failures: int = 0
    first_at: datetime = Field(default_factory=utcnow)
    lockouts: int = 0
    locked_until: datetime | None = None


class AutomationRecord(SQLModel, table=True):
    """An approved workflow version made live: its trigger, status and the draft it runs."""

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    workflow_id: str = Field(index=True)
    version: int
    content_hash: str
    title: str
    status: str = Field(default="active", index=True, description="active|paused|shadow|retired")
    trigger: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    hook_token_hash: str | None = Field(default=None, description="sha256 hex of the hook token.")
    timezone: str = Field(default="UTC", description="IANA zone the cron is read in.")
    owner: str
    approved_by: str = Field(default="", description="Comma-separated approvers.")
    draft: str = Field(sa_column=Column(Text, nullable=False))
    thread: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class RunRecord(SQLModel, table=True):
    """The index of one run and the latest snapshot of its ``Run`` JSON."""

    __table_args__ = (UniqueConstraint("automation_id", "event_id"),)

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    automation_id: str = Field(index=True)
    version: int
    status: str = Field(default="running", index=True)
    event_id: str | None = Field(default=None, description="The event's own id, for dedupe.")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    body: str = Field(sa_column=Column(Text, nullable=False))


class InboxRecord(SQLModel, table=True):
    """Something a person may decide; open until ``decided_at`` is set."""

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    kind: str
    run_id: str | None = Field(default=None, index=True)
    thread: str | None = None
    step_id: str | None = None
    approver_role: str | None = None
    requesters: str = Field(default="", description="Comma-separated: they may not decide.")
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    due_at: datetime | None = None
    decided_by: str | None = None
    decision: str | None = None
    decided_at: datetime | None = Field(default=None, index=True)


class SlackNotice(SQLModel, table=True):
    """A Slack message putting an inbox item to one person or one channel, and its fate.

    The row is claimed before the message is posted, so each audience is asked once
    whichever server process sees the item first; ``ts`` is set once it is posted.
    """

    id: str = Field(sa_column=Column(String(300), primary_key=True))
    item_id: str = Field(index=True)
    audience: str = Field(description="user:NAME or channel:#NAME")
    role: str = Field(default="", description="The role the audience was asked to decide for.")
    channel: str = ""
    ts: str | None = None
    claimed_at: datetime = Field(default_factory=utcnow)
    reminded_at: datetime | None = None
    closed_at: datetime | None = Field(default=None, index=True)
