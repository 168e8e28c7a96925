"""What every page needs from the running server: its services, run desk and chat runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException
from sqlalchemy.engine import Engine
from starlette.requests import Request

from assistant.db.users import Directory
from assistant.runtime.service import AutomationDesk, NoRunEngine
from assistant.services import Services
from assistant.settings import TemporalSettings
from assistant.web.views.access import Viewer, check_same_origin, viewer_of
from graphs.runner import ChatRunner


@dataclass
class ViewContext:
    """The server's parts the pages use; ``desk`` raises ``NoRunEngine`` without an engine."""

    services: Services
    desk: Callable[[], AutomationDesk]
    runner: Callable[[], ChatRunner]
    temporal: TemporalSettings

    @property
    def db(self) -> Engine:
        """Return the app database."""
        return self.services.engine

    @property
    def directory(self) -> Directory:
        """Return the users and their roles."""
        return self.services.directory

    async def page_viewer(self, request: Request) -> Viewer:
        """Return who asks for a page; redirect to the chat's sign-in if nobody is."""
        return await viewer_of(request, self.directory, page=True)

    async def data_viewer(self, request: Request) -> Viewer:
        """Return who asks for data; 401 if nobody is signed in."""
        return await viewer_of(request, self.directory, page=False)

    async def acting_viewer(self, request: Request) -> Viewer:
        """Return who asks for a change from this server's own pages (401, 403, 415)."""
        viewer = await viewer_of(request, self.directory, page=False)
        check_same_origin(request, self.services.settings.public_url)
        return viewer

    def run_desk(self) -> AutomationDesk:
        """Return the run desk, or answer 503 saying how to start an engine."""
        try:
            return self.desk()
        except NoRunEngine as exc:
            raise HTTPException(503, str(exc)) from None

    def engine_ui(self, viewer: Viewer, run_id: str) -> str | None:
        """Return the engine's own page of a run, for operators when the embedded UI is on."""
        temporal = self.temporal
        if not (viewer.is_admin and temporal.enabled and temporal.embedded and temporal.ui):
            return None
        return (
            f"http://127.0.0.1:{temporal.ui_port}/namespaces/{temporal.namespace}"
            f"/workflows/{run_id}"
        )
