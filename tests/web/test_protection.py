"""What other sites' pages may do with the server (CORS), and hostile bodies sent to the chat."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import ValidationError

from assistant.services import Services
from assistant.settings import WebSettings
from assistant.web.process import ServerProcess

EVIL = "https://evil.example"
DESK = "https://desk.northwind.example"
PATHS = ["/chat/auth/config", "/chat/project/settings", "/api/queue", "/healthz"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[str]:
    """Run `flowdraft serve` allowing one other origin; yield its base URL.

    A process of its own: the chat app takes its settings once per process.
    """
    home = tmp_path_factory.mktemp("cors-home")
    (home / "chroma").symlink_to(services.settings.chroma_path)
    process = ServerProcess(
        home, env={"FLOWDRAFT_ALLOWED_ORIGINS": f"{DESK},http://localhost:5173"}
    )
    process.start()
    try:
        yield process.base
    finally:
        process.stop()


def call(server: str, method: str, path: str, origin: str, **headers: str) -> httpx.Response:
    return httpx.request(method, server + path, headers={"Origin": origin, **headers}, timeout=30)


def preflight(server: str, path: str, origin: str) -> httpx.Headers:
    return call(
        server,
        "OPTIONS",
        path,
        origin,
        **{
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    ).headers


@pytest.mark.parametrize("path", PATHS)
def test_another_sites_page_gets_no_cors_grant(server: str, path: str) -> None:
    answer = call(server, "GET", path, EVIL, Cookie="access_token=stolen")
    assert answer.status_code < 500
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-origin" not in preflight(server, path, EVIL)


@pytest.mark.parametrize("path", PATHS)
def test_an_allowed_origin_is_granted(server: str, path: str) -> None:
    answer = call(server, "GET", path, DESK, Cookie="access_token=x")
    assert answer.headers["access-control-allow-origin"] == DESK
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert preflight(server, path, DESK)["access-control-allow-origin"] == DESK


@pytest.mark.parametrize(
    "origins", ["*", "https://desk.example/app", "desk.example", "ftp://desk.example"]
)
def test_allowed_origins_must_be_origins(origins: str) -> None:
    with pytest.raises(ValidationError, match="FLOWDRAFT_ALLOWED_ORIGINS"):
        WebSettings(allowed_origins=origins)


def test_allowed_origins_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDRAFT_ALLOWED_ORIGINS", f"{DESK},http://localhost:5173")
    assert WebSettings().origins == [DESK, "http://localhost:5173"]


UNREADABLE = [b"[" * 2000 + b"]" * 2000, b'{"session_id": "\xff"}', b"{not json", b"\xff\xfe"]
UNREADABLE_IDS = ["deep", "invalid UTF-8", "not JSON", "binary"]


@pytest.mark.parametrize("body", [*UNREADABLE, b"[1]"], ids=[*UNREADABLE_IDS, "array"])
def test_a_chat_json_body_that_is_not_one_clean_object_is_a_bad_request(
    server: str, body: bytes
) -> None:
    answer = httpx.post(
        f"{server}/chat/set-session-cookie",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert "request body" in answer.json()["detail"]


@pytest.mark.parametrize("body", UNREADABLE, ids=UNREADABLE_IDS)
def test_an_unreadable_chat_body_of_another_type_is_a_bad_request(server: str, body: bytes) -> None:
    answer = httpx.post(
        f"{server}/chat/set-session-cookie",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 400, answer.text
    assert "cannot be read" in answer.json()["detail"]


def test_the_chat_still_takes_clean_json(server: str) -> None:
    answer = httpx.post(
        f"{server}/chat/set-session-cookie",
        json={"session_id": "s-1"},
        headers={"Origin": server},
    )
    assert answer.status_code == 200 and "X-Chainlit-Session-id" in answer.headers["set-cookie"]
