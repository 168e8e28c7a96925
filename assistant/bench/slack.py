"""Measure how fast `flowdraft serve` acknowledges `/flowdraft` commands (Slack allows 3 s).

A real server process answers signed slash commands on loopback while a stub Slack Web API
takes its posts. The baseline is the ack of one command at a time on an idle server; the
load is rounds of N commands sent at once, each also drafting in the background.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from assistant.web.process import ServerProcess

SLACK_LIMIT_MS = 3000.0
SECRET = "benchmark-signing-secret"
TOKEN = "xoxb-benchmark"
GOALS = [
    "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance",
    "Route incoming support tickets to billing or tech queues",
    "When someone leaves, revoke their access on their last day and tell #it",
]


class SlackStub(ThreadingHTTPServer):
    """Answers every Web API method with ok, and counts drafts shown (chat.update)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.updates = 0
        self.messages = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """Return the Web API base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}/api/"


class _StubHandler(BaseHTTPRequestHandler):
    server: SlackStub

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        with self.server.lock:
            self.server.messages += 1
            ts = f"1700000000.{self.server.messages:06d}"  # unique per message, as in Slack
            if self.path.split("?")[0].endswith("chat.update"):
                self.server.updates += 1
        body = json.dumps({"ok": True, "ts": ts, "team_id": "TBENCH"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST


def command(url: str, number: int) -> float:
    """Send one signed `/flowdraft <goal>` and return the seconds until Slack's ack."""
    body = urlencode(
        {
            "team_id": "TBENCH",
            "channel_id": "CBENCH",
            "user_id": f"UBENCH{number}",
            "command": "/flowdraft",
            "text": GOALS[number % len(GOALS)],
            "response_url": "",
            "trigger_id": f"bench.{number}.{time.time_ns()}",
        }
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": str(
            SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
        ),
    }
    started = time.perf_counter()
    response = httpx.post(url, content=body, headers=headers, timeout=30)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"the server answered {response.status_code}: {response.text[:200]}")
    return elapsed


def wait_for_updates(stub: SlackStub, count: int, timeout: float = 120) -> float:
    """Wait until ``count`` drafts have been shown; return when that happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with stub.lock:
            if stub.updates >= count:
                return time.perf_counter()
        time.sleep(0.01)
    raise RuntimeError(f"only {stub.updates} of {count} drafts were shown in {timeout:.0f} s")


def percentile(values: list[float], share: float) -> float:
    """Return the ``share`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def run_slack_timing(concurrency: int = 20, rounds: int = 5, baseline: int = 10) -> dict[str, Any]:
    """Start a server with Slack configured and time acks idle and under load."""
    stub = SlackStub()
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "FLOWDRAFT_SLACK_API_URL": stub.url,
    }
    try:
        with tempfile.TemporaryDirectory(prefix="flowdraft-slackbench-") as tmp:
            server = ServerProcess(Path(tmp), env=env)
            server.start(timeout=120)
            url = f"{server.base}/slack/events"
            try:
                sent = 0
                idle: list[float] = []
                for _ in range(baseline + 1):
                    idle.append(command(url, sent))
                    sent += 1
                    wait_for_updates(stub, sent)
                idle = idle[1:]  # the first warms the server up
                loaded: list[float] = []
                shown: list[float] = []
                with ThreadPoolExecutor(concurrency) as pool:
                    for _ in range(rounds):
                        started = time.perf_counter()
                        numbers = range(sent, sent + concurrency)
                        loaded += list(pool.map(lambda n: command(url, n), numbers))
                        sent += concurrency
                        shown.append(wait_for_updates(stub, sent) - started)
            finally:
                server.stop()
    finally:
        stub.shutdown()
        stub.server_close()
    p50 = statistics.median(loaded) * 1000
    return {
        "concurrency": concurrency,
        "commands_under_load": len(loaded),
        "ack_p50_ms": round(p50, 1),
        "ack_p99_ms": round(percentile(loaded, 0.99) * 1000, 1),
        "ack_max_ms": round(max(loaded) * 1000, 1),
        "idle_ack_p50_ms": round(statistics.median(idle) * 1000, 1),
        "ratio_p50_to_idle": round(p50 / (statistics.median(idle) * 1000), 2),
        "slack_limit_ms": SLACK_LIMIT_MS,
        "all_drafts_shown_median_s": round(statistics.median(shown), 2),
    }
