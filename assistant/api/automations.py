"""``POST /hooks/{automation_id}`` and ``/api/automations|runs|inbox`` (DESIGN.md contracts).

A hook is authenticated by the automation's own hook token (``Authorization: Bearer``):
202 ``{"run": id}`` for a new run, 200 with the same id for a repeated event id, 401 bad
token, 404 unknown automation, 409 paused or retired, 422 a missing field. The ``/api``
routes need an API token and mirror the CLI; errors are ``{"error": "..."}``, a refused
decision is ``{"ok": false, "message": ...}`` with 403. A status change of a schedule
automation brings its Temporal Schedule in step. ``POST /api/runs/{id}/retry``
redoes a failed run from its failed step: 202 ``{"run": new id}``, 403 not allowed, 409 the
run did not fail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assistant.api.auth import require_token
from assistant.api.errors import ApiError, ApiRoute
from assistant.api.tickets import read_body
from assistant.db.tables import ApiToken
from assistant.runtime import store
from assistant.runtime.activation import ChangeRefused, change_status
from assistant.runtime.models import Automation, RunEngine, RunStatus
from assistant.runtime.schedule_sync import sync_after_change
from assistant.runtime.service import AutomationDesk, NoRunEngine, RunRefused, Started

MAX_EVENT_BYTES = 256 * 1024
log = logging.getLogger(__name__)


class StatusChange(BaseModel):
    """Who asks for a status change (ignored when the token belongs to a user)."""

    user: str | None = None


class RunRequest(BaseModel):
    """A manual run: the automation, its event, and whether to wait for it to settle."""

    automation: str
    event: dict[str, Any] = Field(default_factory=dict)
    wait: bool = False
    user: str | None = None


class Decision(BaseModel):
    """An answer to an inbox item."""

    decision: Literal["accept", "reject"]
    user: str | None = None
    reason: str | None = Field(default=None, max_length=2000)


def acting_user(caller: ApiToken, claimed: str | None) -> str:
    """Return who acts: always the token's owner (``flowdraft tokens create NAME --user U``).

    Raises a 403 when the token names someone else, or belongs to nobody: a token without an
    owner takes events and tickets in but decides nothing, so it cannot act as anyone.
    """
    if not caller.owner:
        raise ApiError(
            403,
            f"token {caller.name!r} belongs to no user, so it cannot act for anyone: "
            "create one with `flowdraft tokens create NAME --user USER`",
        )
    if claimed and claimed != caller.owner:
        raise ApiError(403, f"this token acts as {caller.owner}, not {claimed}")
    return caller.owner


def automations_router(db: Engine, desk: Callable[[], AutomationDesk]) -> APIRouter:
    """Return the router of hooks and the automations, runs and inbox API.

    ``desk`` returns the automation desk over the reachable run engine; it raises
    ``NoRunEngine`` when there is none, answered as 503.
    """
    router = APIRouter(route_class=ApiRoute, tags=["automations"])
    authenticated = require_token(db)

    def current_desk() -> AutomationDesk:
        try:
            return desk()
        except NoRunEngine as exc:
            raise ApiError(503, str(exc)) from None

    @router.post("/hooks/{automation_id}", status_code=202)
    async def hook(automation_id: str, request: Request) -> JSONResponse:
        """Start a run of ``automation_id`` for the posted event."""
        found = await run_in_threadpool(store.get_automation, db, automation_id=automation_id)
        if found is None or found.trigger.hook is None:
            raise ApiError(404, f"no automation {automation_id!r} takes events here")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        valid = scheme.lower() == "bearer" and await run_in_threadpool(
            store.check_hook_token, db, automation_id=automation_id, token=token.strip()
        )
        if not valid:
            raise ApiError(
                401,
                "missing or wrong hook token: send 'Authorization: Bearer <hook token>' "
                f"(its owner issues one with `flowdraft automations rotate-token {automation_id}`)",
                {"WWW-Authenticate": 'Bearer realm="flowdraft-hooks"'},
            )
        event = parse_event(await read_body(request, MAX_EVENT_BYTES))
        started = await start(current_desk(), automation_id, event, actor=f"hook:{automation_id}")
        return JSONResponse({"run": started.run.id}, status_code=202 if started.created else 200)

    @router.get("/api/automations")
    async def list_automations(
        status: str | None = None, caller: ApiToken = Depends(authenticated)
    ) -> dict[str, Any]:
        """List automations, newest first."""
        found = await run_in_threadpool(store.list_automations, db, status=status)
        return {"automations": [a.model_dump(mode="json") for a in found]}

    @router.get("/api/automations/{automation_id}")
    async def show_automation(
        automation_id: str, caller: ApiToken = Depends(authenticated)
    ) -> dict[str, Any]:
        """Show one automation."""
        found = await run_in_threadpool(store.get_automation, db, automation_id=automation_id)
        if found is None:
            raise ApiError(404, f"no automation {automation_id!r}")
        return {"automation": found.model_dump(mode="json")}

    @router.post("/api/automations/{automation_id}/{change}")
    async def change_automation(
        automation_id: str,
        change: Literal["pause", "resume", "shadow", "live"],
        body: StatusChange,
        caller: ApiToken = Depends(authenticated),
    ) -> dict[str, Any]:
        """Pause, resume, shadow or make live an automation."""
        from assistant.db.users import UserDirectory

        user = acting_user(caller, body.user)
        try:
            changed = await run_in_threadpool(
                change_status,
                db,
                automation_id=automation_id,
                change=change,
                user=user,
                directory=UserDirectory(db),
            )
        except ChangeRefused as exc:
            raise ApiError(403, str(exc)) from None
        except store.StoreError as exc:
            status = 404 if "no automation" in str(exc) else 409
            raise ApiError(status, str(exc)) from None
        if changed.trigger.cron:
            await keep_schedule(changed)
        return {"automation": changed.model_dump(mode="json")}

    async def keep_schedule(changed: Automation) -> None:
        """Bring the schedule in step; with no engine, `flowdraft serve` does it at start."""
        try:
            engine: RunEngine | None = desk().engine
        except NoRunEngine:
            engine = None
        log.info("%s: %s", changed.id, await sync_after_change(db, engine, changed))

    @router.post("/api/runs", status_code=202)
    async def start_run(
        body: RunRequest, caller: ApiToken = Depends(authenticated)
    ) -> JSONResponse:
        """Start a run by hand (``wait`` returns once it ends or waits for a person)."""
        runs = current_desk()
        actor = acting_user(caller, body.user)
        started = await start(runs, body.automation, body.event, actor=actor)
        run = await runs.wait(started.run.id) if body.wait else started.run
        return JSONResponse(
            {"run": run.model_dump(mode="json")}, status_code=202 if started.created else 200
        )

    @router.post("/api/runs/{run_id}/retry", status_code=202)
    async def retry_run(
        run_id: str, body: StatusChange, caller: ApiToken = Depends(authenticated)
    ) -> dict[str, Any]:
        """Redo a failed run from its failed step, as the token's owner."""
        runs = current_desk()
        user = acting_user(caller, body.user)
        try:
            run = await runs.retry(run_id, actor=user)
        except RunRefused as exc:
            raise ApiError(exc.status, exc.message) from None
        return {"run": run.id}

    @router.get("/api/runs")
    async def list_runs(
        automation: str | None = None,
        status: RunStatus | None = None,
        caller: ApiToken = Depends(authenticated),
    ) -> dict[str, Any]:
        """List runs, newest first."""
        found = await run_in_threadpool(
            store.list_runs, db, automation_id=automation, status=status
        )
        return {"runs": [r.model_dump(mode="json") for r in found]}

    @router.get("/api/runs/{run_id}")
    async def show_run(run_id: str, caller: ApiToken = Depends(authenticated)) -> dict[str, Any]:
        """Show one run, step by step."""
        found = await run_in_threadpool(store.get_run, db, run_id=run_id)
        if found is None:
            raise ApiError(404, f"no run {run_id!r}")
        return {"run": found.model_dump(mode="json")}

    @router.get("/api/inbox")
    async def inbox(request: Request, caller: ApiToken = Depends(authenticated)) -> dict[str, Any]:
        """List what the user (``?as=USER``) may decide."""
        user = acting_user(caller, request.query_params.get("as"))
        items = await run_in_threadpool(current_desk().inbox, user)
        return {"items": [item.model_dump(mode="json") for item in items]}

    @router.post("/api/inbox/{item_id}")
    async def decide(
        item_id: str, body: Decision, caller: ApiToken = Depends(authenticated)
    ) -> JSONResponse:
        """Accept or reject an inbox item; a refusal says who can decide it."""
        user = acting_user(caller, body.user)
        outcome = await current_desk().decide(
            item_id, user=user, accept=body.decision == "accept", reason=body.reason
        )
        return JSONResponse(outcome.model_dump(mode="json"), status_code=200 if outcome.ok else 403)

    return router


async def start(
    runs: AutomationDesk, automation_id: str, event: dict[str, Any], *, actor: str
) -> Started:
    """Start a run, answering a refused event with its status."""
    try:
        return await runs.start(automation_id, event, actor=actor)
    except RunRefused as exc:
        raise ApiError(exc.status, exc.message) from None


def parse_event(raw: bytes) -> dict[str, Any]:
    """Return the JSON object in ``raw``; answer 400 if it is not JSON, 422 if not an object."""
    try:
        event = json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "the event is not valid JSON") from None
    if not isinstance(event, dict):
        raise ApiError(422, "the event must be a JSON object")
    return event
