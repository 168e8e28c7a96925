"""One ASGI app: FastAPI with /healthz, and the Chainlit chat mounted at /chat."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from assistant.services import Services
from assistant.web import runtime
from assistant.web.history import prepare_history
from assistant.web.setup import ensure_auth_secret

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHAT_PATH = "/chat"
CHAINLIT_APP = Path(__file__).with_name("chat.py")


def create_app(services: Services) -> FastAPI:
    """Return the server app over ``services`` (already built and ingested)."""
    ensure_auth_secret(services.settings.home)
    prepare_history(services.settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await runtime.start(services, stack)
            try:
                yield
            finally:
                runtime.stop()

    app = FastAPI(title="Flowdraft", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Report that the server is up and what it runs on."""
        return {
            "status": "ok",
            "brain": services.brain.name,
            "chunks": services.retriever.count(),
            "database": services.engine.dialect.name,
        }

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(CHAT_PATH)

    # Chainlit reads its config, welcome page and custom elements from its app root, fixed
    # when chainlit is first imported: point it at this project, whatever the working dir.
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(PROJECT_ROOT))
    from chainlit.utils import mount_chainlit

    mount_chainlit(app=app, target=str(CHAINLIT_APP), path=CHAT_PATH)
    return app
