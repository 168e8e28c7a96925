"""One ASGI app: FastAPI with /healthz, the ticket API at /api/tickets, Slack at /slack/events,
the Automations, Runs and Inbox pages at /app, and the Chainlit chat at /chat."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from assistant.api.automations import automations_router
from assistant.api.desk import desk_router
from assistant.api.observability import observability_router
from assistant.api.tickets import tickets_router
from assistant.channels.slack.notifier import run_notifier
from assistant.channels.slack.verification import check_slack_request
from assistant.observability.drift import watch_drift_of
from assistant.observability.metrics import slack_answered
from assistant.observability.stats import compute_stats
from assistant.runtime.models import RunEngine
from assistant.runtime.service import AutomationDesk, desk_for
from assistant.runtime.ticket_feed import TicketFeeder
from assistant.runtime.worker import serving_runs
from assistant.services import Services
from assistant.settings import ConnectorSettings, TemporalSettings, WebSettings
from assistant.web import runtime
from assistant.web.history import prepare_history
from assistant.web.login import LoginThrottle, LoginThrottleMiddleware
from assistant.web.protection import StrictJsonBodies, allow_origins, answer_unreadable_bodies
from assistant.web.setup import ensure_auth_secret
from assistant.web.views import ViewContext, mount_views

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHAT_PATH = "/chat"
SLACK_PATH = "/slack/events"
CHAINLIT_APP = Path(__file__).with_name("chat.py")


def create_app(
    services: Services, connectors: ConnectorSettings | None = None, web: WebSettings | None = None
) -> FastAPI:
    """Return the server app over ``services`` (already built and ingested).

    ``connectors`` holds Slack's credentials, ``web`` the origins allowed to call the server
    from other sites' pages (both default to the environment).
    """
    ensure_auth_secret(services.settings.home)
    prepare_history(services.settings)
    mine: list[runtime.WebRuntime] = []
    runs: list[RunEngine] = []

    def current() -> runtime.WebRuntime:
        """Return this app's runtime (the chat UI uses the process-wide one)."""
        if not mine:
            raise RuntimeError("the Flowdraft server has not started")
        return mine[0]

    def run_desk() -> AutomationDesk:
        """Return the desk over this server's engine, else the one ``engine_for`` finds."""
        return desk_for(services, next(iter(runs), None))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            started = await runtime.start(services, stack)
            mine.append(started)
            # Automations run on the embedded Temporal (or the configured one) with a worker here.
            engine = await stack.enter_async_context(serving_runs(services))
            if engine is not None:
                runs.append(engine)
                services.runs = engine  # what the chat's activations and first runs use
            # Each ticket starts the automations a new ticket triggers; missed ones are swept.
            feeder = TicketFeeder(services.engine, run_desk)
            started.desk.on_ticket = feeder.nudge
            feeding = asyncio.create_task(feeder.keep_feeding())
            # Tickets stored but never drafted (a crash, `flowdraft tickets add`) get drafted.
            sweep = asyncio.create_task(started.desk.draft_pending())
            # Runs waiting for a person are put to them in Slack, when Slack is set up.
            notifier = run_notifier(services, connectors or ConnectorSettings())
            notifying = asyncio.create_task(notifier.keep_notifying()) if notifier else None
            drift = asyncio.create_task(watch_drift_of(services))  # daily, alerts on Slack
            try:
                yield
            finally:
                drift.cancel()
                if notifying is not None:
                    notifying.cancel()
                sweep.cancel()
                feeding.cancel()
                feeder.stop()
                runs.clear()
                services.runs = None
                mine.remove(started)
                runtime.stop(started)

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

    mount_slack(app, services, connectors or ConnectorSettings(), current)

    async def draft_reply(row_id: int) -> None:
        await current().desk.draft(row_id)

    # The desk's /api/tickets/{ref}/reply must come before the tickets' /api/tickets/{ref}.
    app.include_router(desk_router(services.engine, lambda: current().desk))
    destinations = services.policy.policy.destinations
    app.include_router(
        tickets_router(services.engine, on_ticket=draft_reply, destinations=destinations)
    )
    app.include_router(
        automations_router(services.engine, lambda: desk_for(services, next(iter(runs), None)))
    )

    # Automations, Runs and Inbox pages for people signed in to the chat (/app/...).
    mount_views(app, ViewContext(services, run_desk, lambda: current().runner, TemporalSettings()))
    app.include_router(
        observability_router(
            services.engine,
            lambda days: compute_stats(
                services.engine,
                brain=services.settings.model,
                library=services.settings.library,
                days=days,
            ),
        )
    )

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(CHAT_PATH)

    # Chainlit reads its config, welcome page and custom elements from its app root, fixed
    # when chainlit is first imported: point it at this project, whatever the working dir.
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(PROJECT_ROOT))
    from chainlit.utils import mount_chainlit

    mount_chainlit(app=app, target=str(CHAINLIT_APP), path=CHAT_PATH)
    # Chainlit's password callback never sees the client address: throttle in front of it.
    throttle = LoginThrottle.from_settings(services.engine, services.settings)
    app.add_middleware(LoginThrottleMiddleware, path=f"{CHAT_PATH}/login", throttle=throttle)
    from chainlit.server import app as chat_app

    answer_unreadable_bodies(chat_app)
    app.add_middleware(StrictJsonBodies, prefix=CHAT_PATH)
    allow_origins(app, (web or WebSettings()).origins)
    return app


def mount_slack(
    app: FastAPI,
    services: Services,
    connectors: ConnectorSettings,
    current: Callable[[], runtime.WebRuntime],
) -> None:
    """Serve Slack's events, commands and interactivity at /slack/events (HTTP mode).

    Without SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET the endpoint answers 503 saying so.
    """
    handler: Any = None
    secret = connectors.slack_signing_secret
    if connectors.slack_bot_token and secret:
        from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler

        from assistant.channels.slack.app import SlackChannel

        channel = SlackChannel(
            services,
            current,
            bot_token=connectors.slack_bot_token,
            signing_secret=connectors.slack_signing_secret,
            api_url=services.settings.slack_api_url,
        )
        handler = AsyncSlackRequestHandler(channel.app)

    @app.post(SLACK_PATH)
    async def slack_events(request: Request) -> Response:
        """Take a request from Slack: 401 when unsigned, forged or stale, 400 when malformed."""
        if handler is None:
            return JSONResponse(
                {"error": "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"},
                status_code=503,
            )
        # Checked over the raw bytes before bolt parses anything (bolt caches the same body).
        refusal = check_slack_request(
            await request.body(), request.headers, secret=secret, now=time.time()
        )
        if refusal is not None:
            return JSONResponse({"error": refusal.message}, status_code=refusal.status)
        started = time.perf_counter()
        response: Response = await handler.handle(request)
        slack_answered(time.perf_counter() - started)
        return response
