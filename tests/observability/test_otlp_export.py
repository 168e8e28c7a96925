"""A live ``flowdraft serve`` sends its spans to an OTLP/HTTP receiver on loopback."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from assistant.db.engine import make_engine
from assistant.db.tokens import create_token
from assistant.services import Services
from assistant.web.process import ServerProcess
from tests.support.servers import serving

pytestmark = [pytest.mark.integration]


class OtlpReceiver(ThreadingHTTPServer):
    """Takes OTLP/HTTP protobuf exports at /v1/traces and keeps every span."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _OtlpHandler)
        self.spans: list[dict[str, Any]] = []
        self.arrived = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_for(self, names: set[str], timeout: float) -> list[dict[str, Any]]:
        """Return the spans once spans of all ``names`` arrived (or what came by the deadline)."""
        with self.arrived:
            self.arrived.wait_for(lambda: names <= {s["name"] for s in self.spans}, timeout)
            return list(self.spans)


class _OtlpHandler(BaseHTTPRequestHandler):
    server: OtlpReceiver

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request = ExportTraceServiceRequest.FromString(body)
        found = []
        for resource in request.resource_spans:
            service = next(
                a.value.string_value
                for a in resource.resource.attributes
                if a.key == "service.name"
            )
            for scope in resource.scope_spans:
                for span in scope.spans:
                    found.append(
                        {
                            "name": span.name,
                            "service": service,
                            "trace": span.trace_id.hex(),
                            "attributes": {a.key: a.value for a in span.attributes},
                        }
                    )
        with self.server.arrived:
            self.server.spans.extend(found)
            self.server.arrived.notify_all()
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with serving(OtlpReceiver()) as server:
        yield server  # type: ignore[misc]


def test_a_live_server_exports_the_trace_of_a_ticket_turn(
    services: Services, receiver: OtlpReceiver, tmp_path: Path
) -> None:
    # A home of its own (a first start adds an admin, which would end open mode for the
    # session's other tests), sharing the session's ingested vectors so the server starts fast.
    home = tmp_path / "home"
    home.mkdir()
    (home / "chroma").symlink_to(services.settings.chroma_path)
    _, token = create_token(
        make_engine(f"sqlite:///{home / 'flowdraft.db'}"), name=f"otlp-{uuid.uuid4().hex[:6]}"
    )
    server = ServerProcess(
        home,
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_SERVICE_NAME": "flowdraft-under-test",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        },
    )
    server.start()
    try:
        answer = httpx.post(
            f"{server.base}/api/tickets",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "id": f"OT-{uuid.uuid4().hex[:6]}",
                "subject": "Where is my parcel?",
                "body": "My order shipped four days ago. How do I track it?",
                "customer": {"email": "kim@customer.example"},
            },
            timeout=30,
        )
        assert answer.status_code == 202
        spans = receiver.wait_for({"chat turn", "draft_reply"}, timeout=60)
    finally:
        server.stop()
    turns = [s for s in spans if s["name"] == "chat turn"]
    assert turns and all(s["service"] == "flowdraft-under-test" for s in spans)
    [reply] = [s for s in spans if s["name"] == "draft_reply"]
    assert reply["trace"] in {t["trace"] for t in turns}
    assert reply["attributes"]["flowdraft.route"].string_value in ("draft", "human")
