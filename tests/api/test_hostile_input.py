"""Hostile input at every entry point of the running server: each gets a 4xx naming the
problem, never a 500, and nothing is stored or sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from assistant.db.tickets import list_tickets
from assistant.db.tokens import create_token
from assistant.db.users import add_user, link_slack
from assistant.services import Services
from tests.assistant.test_rendering import mrkdwn_texts
from tests.support.slack import LiveSlack, SlackWire, live_slack

TICKET = {
    "id": "ZD-9001",
    "subject": "Where is my parcel?",
    "body": "I ordered a kettle two weeks ago and it has not arrived. Where is it?",
    "customer": {"email": "kim@customer.example", "name": "Kim Berg"},
}
DEEP = b"[" * 2000 + b"]" * 2000
HUGE_REF = "HD-99999999999999999999"


@dataclass
class Server:
    """The running server with Slack configured, a token and a drafted ticket to decide on."""

    live: LiveSlack
    token: str
    ref: str

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.request(method, self.live.base_url + path, headers=headers, **kwargs)

    def reply(self) -> dict[str, Any]:
        return dict(self.call("GET", f"/api/tickets/{self.ref}/reply").json())

    def stored(self) -> list[str | None]:
        return [row.external_id for row in list_tickets(self.live.services.engine)]


@pytest.fixture(scope="module")
def server(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_slack(services, tmp_path_factory.mktemp("hostile-home")) as live:
        add_user(live.services.engine, name="sam", roles=["support"])
        link_slack(live.services.engine, name="sam", slack_user_id="U0SAM")
        _, token = create_token(live.services.engine, name="helpdesk", owner="sam")
        created = httpx.post(
            f"{live.base_url}/api/tickets",
            json=TICKET,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 202, created.text
        running = Server(live, token, created.json()["ticket"])
        deadline = time.monotonic() + 30
        while running.call("GET", f"/api/tickets/{running.ref}/reply").status_code != 200:
            assert time.monotonic() < deadline, "the ticket was never drafted"
            time.sleep(0.05)
        yield running


def assert_refused(response: httpx.Response, statuses: set[int], *words: str) -> None:
    assert response.status_code in statuses, (response.status_code, response.text)
    error = response.json()["error"]
    for word in words:
        assert word in error, error


def ticket_with(**fields: Any) -> dict[str, Any]:
    return {**TICKET, "id": "ZD-HOSTILE", **fields}


def raw_ticket(subject: bytes) -> bytes:
    """Return a ticket whose subject is ``subject``, raw bytes in place of a JSON value."""
    return json.dumps(ticket_with(subject="S")).encode().replace(b'"S"', subject)


TICKET_BODIES: list[tuple[str, bytes, set[int], tuple[str, ...]]] = [
    ("deep array", DEEP, {400}, ("nested deeper than",)),
    ("deep in a field", raw_ticket(b"[" * 2000 + b"]" * 2000), {400}, ("nested deeper than",)),
    ("deep object", b'{"a":' * 2000 + b"1" + b"}" * 2000, {400}, ("nested deeper than",)),
    ("lone surrogate", raw_ticket(b'"\\ud800"'), {400}, ("lone surrogate", "subject")),
    ("lone low surrogate", raw_ticket(b'"x\\udfffy"'), {400}, ("lone surrogate",)),
    ("surrogate key", b'{"\\ud800": 1}', {400}, ("lone surrogate",)),
    ("invalid UTF-8", raw_ticket(b'"caf\xe9"'), {400}, ("not valid UTF-8",)),
    ("overlong UTF-8", b'{"id": "\xc0\xaf"}', {400}, ("not valid UTF-8",)),
    ("NaN", raw_ticket(b"NaN"), {400}, ("NaN",)),
    ("Infinity", raw_ticket(b"-Infinity"), {400}, ("Infinity",)),
    ("NUL byte", raw_ticket(b'"a\\u0000b"'), {202, 422}, ()),
    ("number as id", json.dumps(ticket_with(id=10**400)).encode(), {422}, ("id",)),
    ("huge number", raw_ticket(b"1" * 5000), {400, 422}, ()),
    (
        "many unknown fields",
        json.dumps(ticket_with(**{f"x{i}": i for i in range(20_000)})).encode(),
        {422},
        ("and 19990 more",),
    ),
    ("string", b'"ticket"', {422}, ("expected a JSON object",)),
    ("null", b"null", {422}, ("expected a JSON object",)),
    ("truncated", b'{"id": "ZD-1", "subject": "\\u12', {400}, ("not valid JSON",)),
    ("BOM", b"\xef\xbb\xbf" + json.dumps(ticket_with()).encode(), {400}, ()),
]


@pytest.mark.parametrize(
    ("content", "statuses", "words"),
    [case[1:] for case in TICKET_BODIES],
    ids=[case[0] for case in TICKET_BODIES],
)
def test_hostile_ticket_bodies_are_refused_with_a_reason(
    server: Server, content: bytes, statuses: set[int], words: tuple[str, ...]
) -> None:
    before = server.stored()
    response = server.call(
        "POST", "/api/tickets", content=content, headers={"Content-Type": "application/json"}
    )
    if response.status_code == 202:
        # A NUL inside a JSON string is a character like any other; it must store cleanly.
        assert 202 in statuses
        return
    assert_refused(response, statuses, *words)
    assert server.stored() == before


DECISION_BODIES: list[tuple[str, bytes, set[int], tuple[str, ...]]] = [
    ("deep array", DEEP, {400}, ("nested deeper than",)),
    ("deep reason", b'{"type": "reject", "agent": "sam", "reason": ' + DEEP + b"}", {400}, ()),
    ("invalid UTF-8", b'{"type": "reject", "agent": "s\xffam", "reason": "x"}', {400}, ("UTF-8",)),
    ("lone surrogate", b'{"type":"reject","agent":"sam","reason":"\\ud800"}', {400}, ("lone",)),
    ("surrogate body", b'{"type":"edit","agent":"sam","body":"Hi \\udc00"}', {400}, ("surrogate",)),
    ("empty", b"", {400, 422}, ()),
    ("not an object", b"[1, 2]", {422}, ("expected a JSON object",)),
    ("unknown type", b'{"type": "send", "agent": "sam"}', {422}, ("type",)),
    ("agent a number", b'{"type": "reject", "agent": 7, "reason": "x"}', {422}, ("agent",)),
    ("NaN", b'{"type": "reject", "agent": "sam", "reason": NaN}', {400}, ("NaN",)),
]


@pytest.mark.parametrize(
    ("content", "statuses", "words"),
    [case[1:] for case in DECISION_BODIES],
    ids=[case[0] for case in DECISION_BODIES],
)
def test_hostile_decision_bodies_are_refused_and_the_draft_still_waits(
    server: Server, content: bytes, statuses: set[int], words: tuple[str, ...]
) -> None:
    response = server.call(
        "POST",
        f"/api/tickets/{server.ref}/decision",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert_refused(response, statuses, *words)
    reply = server.reply()
    assert reply["status"] == "waiting" and reply["decision"] is None


HOSTILE_REFS = [
    HUGE_REF,
    "HD-" + "9" * 5000,
    "9" * 5000,
    "HD-0",
    "HD--1",
    "HD-1e9",
    "HD-%E2%91%A0",  # a circled digit one: a digit to str.isdigit, not to a database
    "%00",
    "x" * 5000,
]


@pytest.mark.parametrize("ref", HOSTILE_REFS, ids=range(len(HOSTILE_REFS)))
def test_unknown_or_out_of_range_refs_are_not_found(server: Server, ref: str) -> None:
    assert_refused(server.call("GET", f"/api/tickets/{ref}"), {404}, "no ticket")
    assert_refused(server.call("GET", f"/api/tickets/{ref}/reply"), {404})
    decided = server.call(
        "POST",
        f"/api/tickets/{ref}/decision",
        json={"type": "reject", "agent": "sam", "reason": "spam"},
    )
    assert_refused(decided, {404})


def test_huge_ticket_number_is_not_found(server: Server) -> None:
    assert_refused(server.call("GET", f"/api/tickets/{HUGE_REF}"), {404}, HUGE_REF)


def signed(wire: SlackWire, body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
    """Return Slack's headers for ``body`` (any bytes), signed with the secret at ``timestamp``."""
    stamp = str(int(time.time())) if timestamp is None else timestamp
    digest = hmac.new(wire.secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


MALFORMED_SLACK = [
    ("payload not JSON", b"payload=%7Bnot+json"),
    ("payload a list", b"payload=%5B1%5D"),
    ("payload deep", b"payload=" + b"%5B" * 2000 + b"%5D" * 2000),
    ("payload surrogate", b"payload=%7B%22type%22%3A%22%5Cud800%22%7D"),
    ("invalid UTF-8", b"command=%2Fflowdraft&text=\xff\xfe"),
    ("binary", b"\xff\xfe{{"),
]


@pytest.mark.parametrize(
    "body", [case[1] for case in MALFORMED_SLACK], ids=[case[0] for case in MALFORMED_SLACK]
)
def test_unsigned_malformed_slack_bodies_get_401_before_parsing(
    server: Server, body: bytes
) -> None:
    wire = server.live.wire
    calls = len(server.live.fake.calls)
    unsigned = wire.send(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert_refused(unsigned, {401}, "signature")
    forged = signed(wire, body) | {"X-Slack-Signature": "v0=" + "0" * 64}
    assert_refused(wire.send(body, forged), {401}, "signature")
    assert len(server.live.fake.calls) == calls


@pytest.mark.parametrize(
    "body", [case[1] for case in MALFORMED_SLACK], ids=[case[0] for case in MALFORMED_SLACK]
)
def test_signed_malformed_slack_bodies_get_400(server: Server, body: bytes) -> None:
    wire = server.live.wire
    calls = len(server.live.fake.calls)
    assert_refused(wire.send(body, signed(wire, body)), {400})
    assert len(server.live.fake.calls) == calls


@pytest.mark.parametrize("stamp", ["abc", "", "1e9", "-1", "9" * 400])
def test_a_malformed_slack_timestamp_is_refused_with_a_reason(server: Server, stamp: str) -> None:
    wire = server.live.wire
    body = wire.command_body("help")
    calls = len(server.live.fake.calls)
    assert_refused(wire.send(body, signed(wire, body, timestamp=stamp)), {400, 401}, "timestamp")
    assert len(server.live.fake.calls) == calls


def test_well_formed_slack_requests_still_work(server: Server) -> None:
    answer = server.live.wire.command("help")
    assert answer.status_code == 200 and "Flowdraft" in answer.json()["text"]


MENTIONS = "<!channel> <!here|here> <@U0CEO> <https://evil.example/x|click>"


def slack_texts(posted: dict[str, Any]) -> str:
    """Return what Slack parses of a posted message: its text and its blocks' mrkdwn."""
    return "\n".join([str(posted.get("text", "")), *mrkdwn_texts(posted.get("blocks") or [])])


def test_untrusted_text_reaches_slack_without_mentions_or_links(server: Server) -> None:
    live = server.live
    ticket = {**TICKET, "id": "ZD-MENTION", "subject": f"Refund {MENTIONS}"}
    assert server.call("POST", "/api/tickets", json=ticket).status_code == 202
    deadline = time.monotonic() + 30
    while server.call("GET", "/api/tickets/ZD-MENTION/reply").status_code != 200:
        assert time.monotonic() < deadline, "the ticket was never drafted"
        time.sleep(0.05)
    posted = len(live.fake.posted)
    assert live.wire.command("queue", user="U0SAM").status_code == 200
    live.wire.command(f"pay everyone {MENTIONS}")
    live.fake.wait_for(
        lambda: (
            [p for p in live.fake.posted[posted:] if p.get("channel") == "U0SAM"]
            and [p for p in live.fake.posted[posted:] if "pay everyone" in str(p.get("text"))]
        )
    )
    for message in live.fake.posted[posted:]:
        shown = slack_texts(message)
        for raw in ("<!channel>", "<!here", "<@U0CEO>", "<https://evil"):
            assert raw not in shown, shown
