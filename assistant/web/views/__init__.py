"""Automations, Runs and Inbox in the browser, for people signed in to the chat.

How these pages are built, and why:

- Server-rendered HTML (Jinja2, autoescaped) from the same FastAPI app that mounts the
  chat, under ``/app/...``, with one small script (``static/app.js``) for the buttons, the
  Inbox's polling and the plots. Not Chainlit custom elements: these are pages people
  bookmark, filter and reload, each with its own address; rendering them on the server
  keeps every rule (roles, refusals, who may decide) in Python, next to the runtime, and a
  page works and can be tested with nothing but HTTP and a browser.
- Sign-in is the chat's own (``access``): the Chainlit JWT cookie, verified with the same
  secret, roles read fresh from the users table. No cookie: a redirect to the chat's sign-in.
- Every change is a same-origin JSON POST checked by the runtime's own functions, which
  refuse and audit (``change_status``, ``rotate_hook_token``, ``AutomationDesk.decide`` and
  ``retry``; workflow reviews go through the chat runner like the chat's buttons).
- New inbox items appear by polling a small JSON endpoint every few seconds (simpler than
  server-sent events behind proxies, and cheap: a few queries per poll).
- Plots use Chart.js, vendored in ``static/vendor`` with its MIT license; nothing loads
  from the internet.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from assistant.web.protection import StrictJsonBodies
from assistant.web.views.automations import automations_pages
from assistant.web.views.context import ViewContext
from assistant.web.views.dashboard import dashboard_pages
from assistant.web.views.inbox import inbox_router
from assistant.web.views.pages import STATIC
from assistant.web.views.runs import runs_pages

__all__ = ["ViewContext", "mount_views"]
MAX_BODY = 64 * 1024
"""The pages send a decision, a reason or a version number: a few hundred bytes."""


def mount_views(app: FastAPI, ctx: ViewContext) -> None:
    """Serve the pages under ``/app`` and their scripts, styles and icons under ``/app/static``.

    Their JSON bodies are checked before any route reads them, as the chat's are: an
    array, deep nesting or bad UTF-8 is a 400, a body over 64 KB a 413.
    """
    app.add_middleware(StrictJsonBodies, prefix="/app/", limit=MAX_BODY)
    app.mount("/app/static", StaticFiles(directory=STATIC), name="app-static")
    app.include_router(automations_pages(ctx))
    app.include_router(runs_pages(ctx))
    app.include_router(inbox_router(ctx))
    app.include_router(dashboard_pages(ctx))
