"""Where a reply goes: the ticket's channel decides (an external helpdesk by webhook here)."""

from __future__ import annotations

from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver

from assistant.db.tickets import store_ticket
from assistant.db.users import add_user
from assistant.schemas import Ticket
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.support.desk import SupportDesk
from connectors.registry import build_registry
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner
from tests.support.live import services_with
from tests.support.servers import WebhookReceiver, serving

TICKET = {
    "id": "EXT-77",
    "subject": "Where is my parcel?",
    "body": "My order shipped four days ago. How do I track it?",
    "customer": {"email": "kim@customer.example", "name": "Kim Ode"},
    "channel": "webhook",
}


async def test_a_webhook_ticket_is_answered_in_the_external_helpdesk(
    services: Services, tmp_path: Path
) -> None:
    with serving(WebhookReceiver("desk-secret")) as receiver:
        built = services_with(
            services,
            tmp_path / "home",
            ConnectorSettings(),
            webhook_secret="desk-secret",
            helpdesk_url=f"{receiver.url}/replies",
        )
        # Loopback is not among the policy's webhook hosts; a deployment lists its helpdesk.
        built.registry = build_registry(
            built.settings, ConnectorSettings(), engine=built.engine, host_allowed=lambda _: True
        )
        add_user(built.engine, name="sam", roles=["support"])
        desk = SupportDesk(built, ChatRunner(build_chat_graph(InMemorySaver()), built.context()))
        row, _ = store_ticket(built.engine, Ticket.model_validate(TICKET), source="api")
        drafted = await desk.draft(row.id or 0)
        assert drafted.route == "draft" and drafted.status == "waiting"

        record = await desk.accept(f"HD-{row.id}", "sam")
        assert record.status == "sent" and record.delivery.startswith("ok: webhook.post_json")
        assert receiver.bad_signatures == 0 and len(receiver.delivered) == 1
        delivered = next(iter(receiver.delivered.values()))
        assert delivered["path"] == "/replies"
        payload = delivered["payload"]
        assert payload["ticket"] == "EXT-77" and payload["agent"] == "sam"
        assert payload["reply"] == drafted.drafted_body and payload["citations"]
