"""A desk process killed while it sends a reply: the next server start finishes the send and
the record says what happened (real processes, a real SMTP server on loopback)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from assistant.db.engine import make_engine
from assistant.db.tickets import get_ticket
from assistant.db.tokens import create_token
from assistant.db.users import add_user
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.web.process import free_port
from assistant.web.server import create_app
from tests.support.live import services_with, serving_app

pytestmark = pytest.mark.integration


class StallingInbox:
    """Holds the first message until released and never accepts it; keeps later ones."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.arrived.is_set():
            self.arrived.set()
            await asyncio.to_thread(self.release.wait, 60)
            return "451 4.3.0 the sender went away"
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox() -> Iterator[tuple[StallingInbox, int]]:
    handler, port = StallingInbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()


def cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_a_reply_cut_off_by_sigkill_is_finished_and_recorded_on_start(
    services: Services, tmp_path: Path, inbox: tuple[StallingInbox, int]
) -> None:
    smtp, port = inbox
    home = tmp_path / "home"
    home.mkdir()
    (home / "chroma").symlink_to(services.settings.chroma_path)
    env = {
        **os.environ,
        "FLOWDRAFT_HOME": str(home),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "false",
        "FLOWDRAFT_CONNECTOR_TIMEOUT": "60",
    }
    engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    add_user(engine, name="sam", roles=["support"])
    added = cli(
        env,
        "tickets",
        "add",
        "--subject",
        "Where is my parcel?",
        "--body",
        "My order shipped four days ago. How do I track it?",
        "--email",
        "kim@customer.example",
    )
    out, err = added.communicate(timeout=120)
    assert added.returncode == 0, err
    ref = out.strip()

    accepting = cli(env, "tickets", "accept", ref, "--as", "sam")
    assert smtp.arrived.wait(60), "the reply never reached the SMTP server"
    accepting.send_signal(signal.SIGKILL)  # mid-delivery: the server has the DATA, no answer
    accepting.wait(timeout=10)
    smtp.release.set()

    with engine.connect() as connection:
        status = connection.exec_driver_sql("SELECT status, decision, agent FROM ticketreply").one()
    assert tuple(status) == ("sending", "accepted", "sam")  # never "waiting"

    credentials = ConnectorSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    built = services_with(services, home, credentials)
    _, token = create_token(built.engine, name="sam-desk", owner="sam")
    with serving_app(create_app(built, ConnectorSettings())) as base:
        deadline = time.monotonic() + 60
        reply: dict[str, Any] = {}
        while time.monotonic() < deadline:
            reply = httpx.get(
                f"{base}/api/tickets/{ref}/reply", headers={"Authorization": f"Bearer {token}"}
            ).json()
            if reply.get("status") not in (None, "sending"):
                break
            time.sleep(0.05)
    assert reply["status"] == "sent", (reply.get("status"), reply.get("delivery"))
    assert reply["decision"] == "accepted" and reply["agent"] == "sam"
    assert len(smtp.messages) == 1 and smtp.messages[0]["To"] == "kim@customer.example"
    row = get_ticket(built.engine, row_id=int(ref.removeprefix("HD-")))
    assert row is not None and row.status == "solved"
