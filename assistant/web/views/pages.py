"""Render the pages: one Jinja2 environment (autoescaped) and the filters its templates use."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from assistant.web.views.access import Viewer

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
BOLD = re.compile(r"\*\*(.+?)\*\*")
CODE = re.compile(r"`([^`]+)`")


def aware(moment: datetime | None) -> datetime | None:
    """Return ``moment`` in UTC with its zone (SQLite hands times back without one)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def when(moment: datetime | None) -> str:
    """Return a moment as people read it: ``1 Dec 06:30 UTC``."""
    at = aware(moment)
    return at.strftime("%-d %b %Y %H:%M:%S UTC") if at else "—"


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """Return the seconds from ``start`` to ``end`` (now, when it has not ended)."""
    began = aware(start)
    if began is None:
        return None
    return max(((aware(end) or datetime.now(UTC)) - began).total_seconds(), 0.0)


def duration(start: datetime | None, end: datetime | None) -> str:
    """Return how long something took (or has taken so far): ``42 ms``, ``3.1 s``, ``2 h 5 min``."""
    seconds = seconds_between(start, end)
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min {int(seconds % 60)} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} days {hours % 24} h"


def due(moment: datetime | None) -> str:
    """Return when something is due, relative to now: ``in 2 h 5 min`` or ``overdue by 3 min``."""
    at = aware(moment)
    if at is None:
        return "no deadline"
    now = datetime.now(UTC)
    if at >= now:
        return f"in {duration(now, at)} ({when(at)})"
    return f"overdue by {duration(at, now)} ({when(at)})"


def soon(moment: datetime | None, hours: float = 24) -> bool:
    """Tell whether ``moment`` is past or less than ``hours`` away: the card shows it in colour."""
    at = aware(moment)
    return at is not None and (at - datetime.now(UTC)).total_seconds() < hours * 3600


def pretty(value: Any) -> str:
    """Return a value as indented JSON (strings as they are)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def inline(text: str) -> Markup:
    """Return one line of the runtime's markdown (bold and code spans) as safe HTML."""
    html = str(escape(text))
    html = CODE.sub(r"<code>\1</code>", html)
    return Markup(BOLD.sub(r"<strong>\1</strong>", html))


def markdown_lines(text: str) -> Markup:
    """Return the runtime's descriptions (lines, ``- `` lists, bold, code) as safe HTML.

    Everything is escaped first, so only the few tags added here can appear.
    """
    parts: list[str] = []
    listing = False
    for line in text.splitlines():
        if line.startswith("- "):
            if not listing:
                parts.append("<ul>")
                listing = True
            parts.append(f"<li>{inline(line[2:])}</li>")
            continue
        if listing:
            parts.append("</ul>")
            listing = False
        if line.strip():
            parts.append(f"<p>{inline(line)}</p>")
    if listing:
        parts.append("</ul>")
    return Markup("".join(parts))


def capitalize_first(text: str) -> str:
    """Return ``text`` with its first letter upper case (``approve: X`` -> ``Approve: X``)."""
    return text[:1].upper() + text[1:]


def without_due(description: str) -> str:
    """Return a description without its due line: the card shows the due time itself."""
    lines = description.splitlines()
    return "\n".join(line for line in lines if not line.startswith(("Due at ", "Expires at ")))


def build_environment() -> Environment:
    """Return the template environment with the pages' filters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        duration=duration,
        due=due,
        soon=soon,
        pretty=pretty,
        markdown=markdown_lines,
        capitalize_first=capitalize_first,
        without_due=without_due,
    )
    return env


ENVIRONMENT = build_environment()


def render_page(template: str, viewer: Viewer, *, status: int = 200, **values: Any) -> HTMLResponse:
    """Return the page ``template`` for ``viewer``, with ``values``."""
    html = ENVIRONMENT.get_template(template).render(viewer=viewer, **values)
    return HTMLResponse(html, status_code=status)


def render_fragment(template: str, **values: Any) -> str:
    """Return a part of a page (the inbox's items) as HTML."""
    return ENVIRONMENT.get_template(template).render(**values)
