"""The support desk end to end: tickets in through the API, drafted by the running server,
decided by agents, replies out through a real SMTP server on loopback; metrics after."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.db.tickets import find_ticket
from assistant.db.tokens import create_token, revoke_token
from assistant.db.users import add_user
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.support.metrics import desk_stats
from assistant.web.server import create_app
from tests.support.live import services_with, serving_app
from tests.support.servers import SmtpInbox, smtp_server

REFUND = {
    "id": "ZD-1001",
    "subject": "How long does a refund take?",
    "body": "I sent my order back last week. When will the refund reach my card?",
    "customer": {"email": "jo@customer.example", "name": "Jo Park"},
}
PASSWORD = {
    "id": "ZD-1002",
    "subject": "Can't log in",
    "body": "I forgot my password and the reset email never arrives. How do I reset it?",
    "customer": {"email": "lee@customer.example"},
}
DELETION = {
    "id": "ZD-1003",
    "subject": "Delete my account",
    "body": "Please delete my account and erase all my personal data.",
    "customer": {"email": "al@customer.example"},
}


@dataclass
class Desk:
    """A running server with a token, a support agent and the SMTP inbox replies reach."""

    base: str
    token: str
    inbox: SmtpInbox
    services: Services
    tokens: dict[str, str]

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        token = self.tokens[kwargs.pop("as_")] if "as_" in kwargs else self.token
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return httpx.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def drafted(self, ref: str, timeout: float = 30) -> dict[str, Any]:
        """Wait until the server has drafted the reply to ``ref``; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.call("GET", f"/api/tickets/{ref}/reply")
            if answer.status_code == 200:
                return dict(answer.json())
            time.sleep(0.05)
        raise AssertionError(f"{ref} was never drafted")

    def mail_to(self, address: str) -> list[Message]:
        return [m for m in self.inbox.messages if address in str(m["To"])]


@pytest.fixture(scope="module")
def desk(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    with smtp_server() as (inbox, port):
        credentials = ConnectorSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
        built = services_with(services, tmp_path_factory.mktemp("desk-home"), credentials)
        add_user(built.engine, name="sam", roles=["support"])
        add_user(built.engine, name="ana", roles=["manager"])
        _, token = create_token(built.engine, name="helpdesk-sam", owner="sam")
        tokens = {
            "intake": create_token(built.engine, name="intake")[1],
            "ana": create_token(built.engine, name="helpdesk-ana", owner="ana")[1],
        }
        with serving_app(create_app(built, ConnectorSettings())) as base:
            yield Desk(base, token, inbox, built, tokens)


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True) if not message.is_multipart() else None
    if isinstance(payload, bytes):
        return payload.decode()
    return "".join(
        part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )


def test_accept_sends_the_grounded_draft_by_email(desk: Desk) -> None:
    created = desk.call("POST", "/api/tickets", json=REFUND)
    assert created.status_code == 202 and created.json()["status"] == "queued"
    ref = created.json()["ticket"]
    draft = desk.drafted(ref)
    assert draft["status"] == "waiting" and draft["route"] == "draft"
    assert draft["draft"].startswith("Hi Jo,") and draft["citations"]
    assert any(c["doc"].startswith("faq/") for c in draft["citations"])
    assert ref in [item["ticket"] for item in desk.call("GET", "/api/queue").json()]

    # Not an agent: refused, nothing sent.
    refused = desk.call("POST", f"/api/tickets/{ref}/decision", json={"type": "accept"}, as_="ana")
    assert refused.status_code == 403, refused.text
    assert "not a support agent" in refused.json()["error"]
    assert not desk.mail_to("jo@customer.example")

    accepted = desk.call(
        "POST", f"/api/tickets/{ref}/decision", json={"type": "accept", "agent": "sam"}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "sent" and accepted.json()["decision"] == "accepted"
    mail = desk.mail_to("jo@customer.example")
    assert len(mail) == 1 and mail[0]["Subject"] == f"Re: {REFUND['subject']}"
    assert body_of(mail[0]).replace("\r\n", "\n").strip() == draft["draft"].strip()
    # Deciding twice is refused; the ticket shows the reply and is solved.
    again = desk.call(
        "POST", f"/api/tickets/{ref}/decision", json={"type": "accept", "agent": "sam"}
    )
    assert again.status_code == 409 and "already accepted by sam" in again.json()["error"]
    ticket = desk.call("GET", f"/api/tickets/{ref}").json()
    assert ticket["status"] == "solved"
    assert ref not in [item["ticket"] for item in desk.call("GET", "/api/queue").json()]


def test_edit_sends_the_agents_words(desk: Desk) -> None:
    ref = desk.call("POST", "/api/tickets", json=PASSWORD).json()["ticket"]
    draft = desk.drafted(ref)
    assert draft["draft"] and draft["citations"]
    body = draft["draft"].replace("Hello,", "Hi Lee,") + "\n\nP.S. Check your spam folder too."
    empty = desk.call(
        "POST", f"/api/tickets/{ref}/decision", json={"type": "edit", "agent": "sam", "body": " "}
    )
    assert empty.status_code == 422
    edited = desk.call(
        "POST", f"/api/tickets/{ref}/decision", json={"type": "edit", "agent": "sam", "body": body}
    )
    assert edited.status_code == 200 and edited.json()["decision"] == "edited"
    mail = desk.mail_to("lee@customer.example")
    assert len(mail) == 1 and "Check your spam folder too." in body_of(mail[0])


def test_sensitive_tickets_go_to_a_person_and_reject_keeps_a_reason(desk: Desk) -> None:
    ref = desk.call("POST", "/api/tickets", json=DELETION).json()["ticket"]
    draft = desk.drafted(ref)
    assert draft["route"] == "human" and draft["citations"]
    # No draft pretends to know: accepting as is is refused; the agent must write or reject.
    refused = desk.call(
        "POST", f"/api/tickets/{ref}/decision", json={"type": "accept", "agent": "sam"}
    )
    assert refused.status_code == 409 and "routed to a person" in refused.json()["error"]
    no_reason = desk.call(
        "POST", f"/api/tickets/{ref}/decision", json={"type": "reject", "agent": "sam"}
    )
    assert no_reason.status_code == 422
    escalated = desk.call(
        "POST",
        f"/api/tickets/{ref}/decision",
        json={"type": "reject", "agent": "sam", "reason": "privacy team handles erasure"},
    )
    # Nobody answered the customer yet: the ticket stays with a person, the support lead,
    # at the top of the queue, with the reason it was handed on.
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["status"] == "waiting" and escalated.json()["priority"] == "urgent"
    assert "privacy team handles erasure" in escalated.json()["reason"]
    queue = desk.call("GET", "/api/queue").json()
    assert ref in json.dumps(queue)
    row = find_ticket(desk.services.engine, ref=ref)
    assert row is not None and row.assignee == "support_lead"
    assert not desk.mail_to("al@customer.example")


def test_revoked_tokens_store_nothing_and_stats_add_up(desk: Desk) -> None:
    _, other = create_token(desk.services.engine, name="old-integration")
    revoke_token(desk.services.engine, name="old-integration")
    answer = httpx.post(
        desk.base + "/api/tickets",
        json={**REFUND, "id": "ZD-9999"},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert answer.status_code == 401
    assert desk.call("GET", "/api/tickets/ZD-9999").status_code == 404

    stats = desk_stats(desk.services.engine)
    overall = stats["overall"]
    # The escalated ticket is not decided: it waits for the support lead.
    assert overall["decided"] == 2 and overall["accepted"] == 1 and overall["edited"] == 1
    assert overall["rejected"] == 0 and overall["acceptance_rate"] == pytest.approx(
        1 / 2, abs=0.001
    )
    assert overall["edit_chars_mean"] and overall["edit_chars_mean"] > 30
    assert overall["rejection_reasons"] == {}
    assert (
        overall["first_response_median_s"] is not None and overall["first_response_median_s"] >= 0
    )
    assert stats["agents"]["sam"]["decided"] == 2 and stats["routed_to_human"] >= 1


def test_tickets_left_undrafted_are_drafted_when_the_server_starts(
    services: Services, tmp_path: Path
) -> None:
    from assistant.db.tickets import store_ticket
    from assistant.schemas import Ticket

    built = services_with(services, tmp_path / "home", ConnectorSettings())
    row, _ = store_ticket(built.engine, Ticket.model_validate(REFUND), source="cli")
    add_user(built.engine, name="sam", roles=["support"])
    _, token = create_token(built.engine, name="t", owner="sam")
    with serving_app(create_app(built, ConnectorSettings())) as base:
        desk = Desk(base, token, SmtpInbox(), built, {})
        assert desk.drafted(f"HD-{row.id}")["status"] == "waiting"


def test_a_token_acts_as_its_owner_and_only_agents_work_the_desk(desk: Desk) -> None:
    ticket = {**REFUND, "id": "ZD-1010", "customer": {"email": "max@customer.example"}}
    created = desk.call("POST", "/api/tickets", json=ticket, as_="intake")
    assert created.status_code == 202, created.text
    ref = created.json()["ticket"]
    draft = desk.drafted(ref)  # read with sam's token
    # A token that belongs to no user takes tickets in and reads them back, nothing more.
    assert desk.call("GET", f"/api/tickets/{ref}", as_="intake").status_code == 200
    for path in ("/api/queue", f"/api/tickets/{ref}/reply"):
        assert desk.call("GET", path, as_="intake").status_code == 403
        assert desk.call("GET", path, as_="ana").status_code == 403
    ownerless = desk.call(
        "POST",
        f"/api/tickets/{ref}/decision",
        json={"type": "accept", "agent": "sam"},
        as_="intake",
    )
    assert ownerless.status_code == 403 and "belongs to no user" in ownerless.json()["error"]
    # A manager's token cannot name an agent to decide in their place.
    impersonated = desk.call(
        "POST", f"/api/tickets/{ref}/decision", json={"type": "accept", "agent": "sam"}, as_="ana"
    )
    assert impersonated.status_code == 403 and "acts as ana" in impersonated.json()["error"]
    assert not desk.mail_to("max@customer.example")
    rejected = desk.call(
        "POST", f"/api/tickets/{ref}/decision", json={"type": "reject", "reason": "duplicate"}
    )
    assert rejected.status_code == 200 and rejected.json()["agent"] == "sam"
    assert draft["status"] == "waiting"
