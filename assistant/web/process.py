"""Run `flowdraft serve` as a child process: for the browser benchmark and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`flowdraft serve` on loopback, in its own data directory; can stop and start again."""

    def __init__(
        self, home: Path, port: int | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.home = home
        self.env = dict(env or {})
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        """Start the server and wait until /healthz answers."""
        env = {**os.environ, **self.env, "FLOWDRAFT_HOME": str(self.home)}
        env.pop("CHAINLIT_AUTH_SECRET", None)  # the server keeps its own in its home
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.proc.kill()
        error = self.proc.stderr.read().decode() if self.proc.stderr else ""
        raise RuntimeError(f"flowdraft serve did not start: {error[-2000:]}")

    def stop(self) -> None:
        """Stop the server (SIGTERM) and wait for it."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None
