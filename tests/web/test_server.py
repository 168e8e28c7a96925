"""The ASGI server: health, the mounted chat, first-start setup."""

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.db.users import list_users
from assistant.diagram import workflow_svg
from assistant.schemas import Step, WorkflowDraft
from assistant.services import Services
from assistant.web.server import create_app
from assistant.web.setup import ensure_admin, ensure_auth_secret


def test_health_and_chat_are_served(services: Services) -> None:
    with TestClient(create_app(services)) as client:
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["brain"] == "offline" and health["chunks"] > 200
        assert client.get("/", follow_redirects=False).headers["location"] == "/chat"
        page = client.get("/chat/")
        assert page.status_code == 200 and "<html" in page.text.lower()


def test_auth_secret_is_generated_once_and_kept(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    first = ensure_auth_secret(tmp_path)
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    assert ensure_auth_secret(tmp_path) == first and len(first) > 40
    assert oct((tmp_path / "chainlit-auth-secret").stat().st_mode)[-3:] == "600"
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", "from-env")
    assert ensure_auth_secret(tmp_path) == "from-env"
    assert os.environ["CHAINLIT_AUTH_SECRET"] == "from-env"


def test_first_start_creates_one_admin(tmp_path: Path) -> None:
    from assistant.db.engine import make_engine

    class Bare:
        engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")

    password = ensure_admin(Bare())  # type: ignore[arg-type]
    assert password and [u.name for u in list_users(Bare.engine)] == ["admin"]
    assert ensure_admin(Bare()) is None  # type: ignore[arg-type]


def test_replicas_finding_no_users_together_create_one_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.db.engine import make_engine
    from assistant.web import setup

    class Bare:
        engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")

    # Every replica looked before any of them created the login.
    monkeypatch.setattr(setup, "list_users", lambda engine: [])
    passwords = [ensure_admin(Bare()) for _ in range(3)]  # type: ignore[arg-type]
    assert len([p for p in passwords if p]) == 1 and passwords[1:] == [None, None]
    assert [u.name for u in list_users(Bare.engine)] == ["admin"]


def test_diagram_marks_blocked_steps_and_escapes_text() -> None:
    draft = WorkflowDraft(
        title="Refunds <fast>",
        goal="g",
        steps=[
            Step(id="s1", title="Check amount", kind="condition", condition="amount > 200"),
            Step(
                id="s2",
                title="Delete records",
                kind="action",
                connector="webhook",
                operation="post_json",
                params={"url": "https://crm.internal.northwind.example/x"},
                risk="high",
                blocked_reason="policy",
            ),
        ],
    ).sealed()
    svg = workflow_svg(draft)
    import xml.etree.ElementTree as ET

    ET.fromstring(svg)  # well-formed
    assert (
        "Refunds &lt;fast&gt;" in svg and "BLOCKED by policy" in svg and "stroke-dasharray" in svg
    )
    # background, trigger, two steps, and the end a false condition skips to
    assert svg.count("<rect") == 1 + 1 + 2 + 1


@pytest.mark.slow
def test_web_timing_reports_both_medians() -> None:
    import shutil

    if shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed here; scripts/test installs it")
    from assistant.bench.browser import run_web_timing

    result = run_web_timing(runs=1)
    assert (
        result["goal_to_draft_on_screen_median_ms"] > 0 < result["same_turn_without_ui_median_ms"]
    )
