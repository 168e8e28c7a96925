"""Several ``flowdraft serve`` replicas and ``flowdraft worker`` processes on loopback, sharing state.

``Shared`` starts what replicas share: a Chroma server (``chroma run``) and a Temporal dev
server (no replica starts its own: they all get ``FLOWDRAFT_TEMPORAL_ADDRESS``); the app
database is any ``postgresql+psycopg://`` URL given. ``Shared.process`` then starts replicas
and workers, each in a home of its own, as on separate machines: only the database, Chroma
and Temporal are common, plus the secrets every replica must share (``CHAINLIT_AUTH_SECRET``
so a sign-in on one replica holds on another, ``FLOWDRAFT_AUDIT_KEY`` so every replica seals
the one audit chain with the same key). Used by the scale-out tests and benchmark.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

import httpx

from assistant.runtime.engine import EmbeddedTemporal, connect, temporal_binary
from assistant.runtime.remote import reachable
from assistant.settings import TemporalSettings
from assistant.web.process import free_port

READY = 120.0
"""Seconds a process gets to answer (a first replica ingests the library into Chroma)."""


class StartFailed(RuntimeError):
    """Raised when a process of the topology does not come up; carries its last output."""


@dataclass
class Process:
    """One child process, its role, and where it writes its log."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    base: str = ""

    def tail(self, size: int = 3000) -> str:
        """Return the end of the process's log."""
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 20 s)."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Shared:
    """The services replicas share, and the processes started over them."""

    database_url: str
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="flowdraft-scale-")))
    task_queue: str = "flowdraft-scaleout"
    extra_env: dict[str, str] = field(default_factory=dict)
    chroma_port: int = field(default_factory=free_port)
    temporal: TemporalSettings = field(init=False)
    processes: list[Process] = field(default_factory=list)
    auth_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    audit_key: str = field(default_factory=lambda: secrets.token_hex(32))

    def __post_init__(self) -> None:
        self.temporal = TemporalSettings(
            port=free_port(),
            http_port=free_port(),
            metrics_port=free_port(),
            ui_port=free_port(),
            task_queue=self.task_queue,
            ui=False,
        )

    @property
    def temporal_address(self) -> str:
        """Return where the shared Temporal engine listens."""
        return f"127.0.0.1:{self.temporal.port}"

    @property
    def chroma_url(self) -> str:
        """Return the shared Chroma server's URL."""
        return f"http://127.0.0.1:{self.chroma_port}"

    def env(self, home: Path) -> dict[str, str]:
        """Return the environment of a replica or worker living in ``home``."""
        kept = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDRAFT_")}
        return {
            **kept,
            "FLOWDRAFT_HOME": str(home),
            "FLOWDRAFT_DATABASE_URL": self.database_url,
            "FLOWDRAFT_CHROMA_URL": self.chroma_url,
            "FLOWDRAFT_TEMPORAL_ENABLED": "true",
            "FLOWDRAFT_TEMPORAL_ADDRESS": self.temporal_address,
            "FLOWDRAFT_TEMPORAL_TASK_QUEUE": self.task_queue,
            "FLOWDRAFT_WORKER_METRICS_PORT": "0",
            "FLOWDRAFT_AUDIT_KEY": self.audit_key,
            "CHAINLIT_AUTH_SECRET": self.auth_secret,
            **self.extra_env,
        }

    def spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> Process:
        """Start ``command`` with its output in ``<root>/<name>.log``; remember it."""
        log = self.root / f"{name}.log"
        handle: IO[bytes] = log.open("wb")
        popen = subprocess.Popen(
            command, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=self.root
        )
        handle.close()
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start(self) -> None:
        """Start the Chroma server and the Temporal engine; wait until both answer."""
        self.root.mkdir(parents=True, exist_ok=True)
        chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        path = self.root / "chroma"
        port = str(self.chroma_port)
        serving = [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", port]
        self.wait_until(self.spawn("chroma", serving), lambda: heartbeat(self.chroma_url))
        engine = EmbeddedTemporal(self.temporal, home=self.root / "temporal")
        engine.home.mkdir(parents=True, exist_ok=True)
        command = engine.command()
        command[0] = str(temporal_binary())
        self.wait_until(
            self.spawn("temporal", command), lambda: reachable(self.temporal_address, 0.5)
        )

    def replica(self, name: str, *, env: dict[str, str] | None = None) -> Process:
        """Start a ``flowdraft serve`` replica in a home of its own; wait until it is healthy."""
        return self.start_together([name], [], env=env)[0]

    def worker(self, name: str, *, env: dict[str, str] | None = None) -> Process:
        """Start a ``flowdraft worker`` in a home of its own; wait until it polls the queue."""
        return self.start_together([], [name], env=env)[0]

    def start_together(
        self, replicas: list[str], workers: list[str], *, env: dict[str, str] | None = None
    ) -> list[Process]:
        """Start replicas and workers at once (each in its own home); wait until all are up.

        A replica is up when /healthz answers, a worker when it polls the task queue.
        """
        before = self.pollers()
        started: list[Process] = []
        for name in [*replicas, *workers]:
            home = self.root / name
            home.mkdir(exist_ok=True)
            command = [sys.executable, "-m", "assistant.cli", "worker"]
            base = ""
            if name in replicas:
                port = free_port()
                command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)]
                base = f"http://127.0.0.1:{port}"
            process = self.spawn(name, command, {**self.env(home), **(env or {})})
            process.base = base
            started.append(process)
        for process in started:
            if process.base:
                self.wait_until(process, partial(healthy, process.base))
        if workers:
            # Every replica polls too (its in-process worker): wait for all the new pollers.
            wanted = len(started)
            self.wait_until(started[-1], lambda: len(self.pollers() - before) >= wanted)
        return started

    def pollers(self) -> set[str]:
        """Return the identities of the workers polling the task queue for activities now."""
        return asyncio.run(activity_pollers(self.temporal_address, self.task_queue))

    def wait_until(self, process: Process, ready: Callable[[], bool]) -> None:
        """Wait until ``ready()`` holds; raise ``StartFailed`` if the process dies or is late."""
        deadline = time.monotonic() + READY
        while not ready():
            if process.popen.poll() is not None or time.monotonic() > deadline:
                process.stop()
                raise StartFailed(f"{process.name} did not start:\n{process.tail()}")
            time.sleep(0.2)

    def stop(self, process: Process) -> None:
        """Stop one process started here."""
        process.stop()
        if process in self.processes:
            self.processes.remove(process)

    def close(self) -> None:
        """Stop every process, newest first, and remove the files."""
        for process in reversed(list(self.processes)):
            process.stop()
        self.processes.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Shared:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def activity_pollers(address: str, task_queue: str) -> set[str]:
    """Return the identities polling ``task_queue`` for activities (workers that are up)."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    client = await connect(TemporalSettings(address=address, task_queue=task_queue))
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    return {poller.identity for poller in answer.pollers}


def heartbeat(base: str) -> bool:
    """Tell whether a Chroma server answers at ``base``."""
    try:
        return httpx.get(f"{base}/api/v2/heartbeat", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def healthy(base: str) -> bool:
    """Tell whether a replica answers /healthz."""
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
