"""The tickets API mounted on a bare FastAPI app: auth, limits, contract errors, idempotency."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from assistant.api.tickets import tickets_router
from assistant.channels.tickets import MAX_TICKET_BYTES
from assistant.db.audit import AuditLog
from assistant.db.engine import make_engine
from assistant.db.tickets import list_tickets
from assistant.db.tokens import create_token, revoke_token
from assistant.policy import load_policy
from assistant.web.process import free_port

TICKET = {
    "id": "ZD-4711",
    "subject": "Refund for order 1042",
    "body": "The blender arrived broken. Can I get my money back?",
    "customer": {"email": "maria@example.com", "name": "Maria Lopez"},
    "channel": "email",
}


class Desk:
    """A bare app with the tickets router, its database, a token and the on_ticket calls."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.announced: list[int] = []
        self.hold: threading.Event | None = None
        self.app = FastAPI()
        destinations = load_policy().destinations
        self.app.include_router(
            tickets_router(engine, on_ticket=self.on_ticket, destinations=destinations)
        )
        _, self.token = create_token(engine, name="zendesk")

    async def on_ticket(self, row_id: int) -> None:
        if self.hold is not None:  # stands in for a slow drafting call
            await asyncio.to_thread(self.hold.wait, 20)
        self.announced.append(row_id)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stored(self) -> list[str | None]:
        return [row.external_id for row in list_tickets(self.engine)]


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return Desk(make_engine(f"sqlite:///{tmp_path / 'app.db'}"))


@pytest.fixture
async def client(desk: Desk) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=desk.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://desk.test") as http:
        yield http


def assert_error(response: httpx.Response, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    for word in words:
        assert word in body["error"], body
    return str(body["error"])


async def test_valid_ticket_is_stored_queued_and_announced(
    desk: Desk, client: httpx.AsyncClient
) -> None:
    response = await client.post("/api/tickets", json=TICKET, headers=desk.auth)
    assert response.status_code == 202
    assert response.json() == {"ticket": "HD-1", "id": "ZD-4711", "status": "queued"}
    assert desk.stored() == ["ZD-4711"] and desk.announced == [1]
    received = AuditLog(desk.engine).records(thread="HD-1")
    assert [(r.event, r.actor) for r in received] == [("ticket_received", "token:zendesk")]

    shown = await client.get("/api/tickets/HD-1", headers=desk.auth)
    assert shown.status_code == 200
    assert shown.json() == {
        "ticket": "HD-1",
        **TICKET,
        "status": "open",
        "source": "api",
        "received_at": shown.json()["received_at"],
    }
    by_own_id = await client.get("/api/tickets/ZD-4711", headers=desk.auth)
    assert by_own_id.json() == shown.json()


async def test_duplicate_id_is_stored_once(desk: Desk, client: httpx.AsyncClient) -> None:
    first = await client.post("/api/tickets", json=TICKET, headers=desk.auth)
    again = await client.post(
        "/api/tickets", json={**TICKET, "body": "Sent again"}, headers=desk.auth
    )
    assert first.status_code == 202 and again.status_code == 200
    assert again.json() == {"ticket": "HD-1", "id": "ZD-4711", "status": "duplicate"}
    assert desk.stored() == ["ZD-4711"] and desk.announced == [1]


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, ("missing API token", "Authorization: Bearer")),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, ("missing API token",)),
        ({"Authorization": "Bearer"}, ("missing API token",)),
        ({"Authorization": "Bearer fd_not-a-real-token"}, ("invalid or revoked",)),
        ({"Authorization": "Bearer some-other-secret"}, ("invalid or revoked",)),
    ],
)
async def test_missing_or_unknown_token_stores_nothing(
    desk: Desk, client: httpx.AsyncClient, headers: dict[str, str], words: tuple[str, ...]
) -> None:
    response = await client.post("/api/tickets", json=TICKET, headers=headers)
    assert_error(response, 401, *words)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert desk.stored() == [] and desk.announced == []
    assert_error(await client.get("/api/tickets/HD-1", headers=headers), 401)


async def test_revoked_token_stores_nothing(desk: Desk, client: httpx.AsyncClient) -> None:
    revoke_token(desk.engine, name="zendesk")
    response = await client.post("/api/tickets", json=TICKET, headers=desk.auth)
    assert_error(response, 401, "invalid or revoked")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert desk.stored() == [] and desk.announced == []


async def test_body_over_the_limit_is_refused_and_nothing_stored(
    desk: Desk, client: httpx.AsyncClient
) -> None:
    compact = json.dumps(TICKET).encode()
    at_limit = compact[:-1] + b" " * (MAX_TICKET_BYTES - len(compact)) + b"}"
    over = compact[:-1] + b" " * (MAX_TICKET_BYTES - len(compact) + 1) + b"}"
    assert len(at_limit) == MAX_TICKET_BYTES == len(over) - 1

    declared = await client.post("/api/tickets", content=over, headers=desk.auth)
    assert_error(declared, 413, "larger than the limit of 1,000,000 bytes")

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(over), 64_000):
            yield over[start : start + 64_000]

    streamed = await client.post("/api/tickets", content=chunks(), headers=desk.auth)
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413, "1,000,000 bytes")
    assert desk.stored() == [] and desk.announced == []

    accepted = await client.post("/api/tickets", content=at_limit, headers=desk.auth)
    assert accepted.status_code == 202 and desk.stored() == ["ZD-4711"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ("not valid JSON",)),
        (b'{"id": "ZD-1", "subject": ', ("not valid JSON", "line 1")),
        (b"subject=Refund", ("not valid JSON",)),
        (b"\xff\xfe{}", ("not valid UTF-8",)),
    ],
)
async def test_invalid_json_is_a_bad_request(
    desk: Desk, client: httpx.AsyncClient, content: bytes, words: tuple[str, ...]
) -> None:
    response = await client.post("/api/tickets", content=content, headers=desk.auth)
    assert_error(response, 400, *words)
    assert desk.stored() == []


@pytest.mark.parametrize(
    ("ticket", "words"),
    [
        ({k: v for k, v in TICKET.items() if k != "subject"}, ("subject: Field required",)),
        ({**TICKET, "customer": {"name": "Maria"}}, ("customer.email: Field required",)),
        ({"id": "x"}, ("subject", "body", "customer")),
        ({**TICKET, "priority": "high"}, ("priority: Extra inputs are not permitted",)),
        ({**TICKET, "id": 42}, ("id: Input should be a valid string",)),
        ({**TICKET, "id": "  "}, ("id: must not be blank",)),
        ({**TICKET, "customer": {"email": "not an address"}}, ("customer.email",)),
        ({**TICKET, "customer": {"email": "a@b.example\nBcc: x@y.example"}}, ("customer.email",)),
        ({**TICKET, "channel": "slack:G0PRIVATE:1700000000.1"}, ("channel", "'G0PRIVATE'")),
        ([TICKET], ("expected a JSON object",)),
    ],
)
async def test_contract_violations_name_the_field(
    desk: Desk, client: httpx.AsyncClient, ticket: object, words: tuple[str, ...]
) -> None:
    response = await client.post("/api/tickets", json=ticket, headers=desk.auth)
    assert_error(response, 422, "ticket does not match the contract", *words)
    assert desk.stored() == [] and desk.announced == []


async def test_unknown_ticket_is_not_found(desk: Desk, client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/tickets/HD-7", headers=desk.auth), 404, "no ticket 'HD-7'")
    assert_error(await client.get("/api/tickets/a/b", headers=desk.auth), 404, "'a/b'")


async def test_failing_on_ticket_keeps_the_ticket(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    _, token = create_token(engine, name="ci")

    async def broken(row_id: int) -> None:
        raise RuntimeError("drafting is down")

    app = FastAPI()
    app.include_router(tickets_router(engine, on_ticket=broken))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://desk.test") as http:
        response = await http.post(
            "/api/tickets", json=TICKET, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 202
    assert [r.external_id for r in list_tickets(engine)] == ["ZD-4711"]


@pytest.fixture
def served(desk: Desk) -> Iterator[str]:
    """Serve the desk app with uvicorn on loopback; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(desk.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.mark.integration
def test_caller_does_not_wait_for_on_ticket(desk: Desk, served: str) -> None:
    desk.hold = threading.Event()
    with httpx.Client(base_url=served, headers=desk.auth, timeout=10) as http:
        # Two tickets over one keep-alive connection while the first drafting still runs.
        for number in (1, 2):
            response = http.post("/api/tickets", json={**TICKET, "id": f"ZD-{number}"})
            assert response.status_code == 202
            assert response.json()["ticket"] == f"HD-{number}"
        assert desk.announced == [] and desk.stored() == ["ZD-1", "ZD-2"]
    desk.hold.set()
    deadline = time.monotonic() + 10
    while len(desk.announced) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(desk.announced) == [1, 2]


async def test_a_slack_channel_on_the_allow_list_is_taken_in(
    desk: Desk, client: httpx.AsyncClient
) -> None:
    ticket = {**TICKET, "channel": "slack:#support:1700000000.1"}
    response = await client.post("/api/tickets", json=ticket, headers=desk.auth)
    assert response.status_code == 202, response.text
