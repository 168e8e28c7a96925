"""Say plainly when a connector only recorded what it would have done, and how to make it real.

A connector without credentials runs in sandbox mode (``connectors.base``): its result says
``sandbox: would slack.post_message ...``. Shown as "sent", that misleads; these lines
say that nothing left the building and which setting makes the connector real.

Example:
    >>> print(sandbox_line("ok: email.send_email: sandbox: would email.send_email to=['a@b']"))
    **Sandbox mode: nothing left the building.** Email is not configured, so this was only recorded. To make it real: set SMTP_HOST (and SMTP_USERNAME/SMTP_PASSWORD) to send for real.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.schemas import WorkflowDraft
from connectors.registry import SETUP_HINTS, ConnectorRegistry

_WOULD = re.compile(r"\bsandbox: would (\w+)\.")


def sandboxed_in(detail: str) -> str | None:
    """Return the connector a result detail says only recorded its action, or None."""
    found = _WOULD.search(detail)
    return found.group(1) if found else None


def how_to_configure(connectors: Iterable[str]) -> str:
    """Return how to make ``connectors`` real, from their setup hints."""
    hints = [SETUP_HINTS.get(name, "") for name in dict.fromkeys(connectors)]
    steps = "; ".join(hint for hint in hints if hint)
    return f"To make it real: {steps}." if steps else ""


def sandbox_line(detail: str) -> str | None:
    """Return the notice for a result that was only recorded (None when it really went out)."""
    name = sandboxed_in(detail)
    if name is None:
        return None
    return (
        f"**Sandbox mode: nothing left the building.** {name.title()} is not configured, "
        f"so this was only recorded. {how_to_configure([name])}".rstrip()
    )


def sandboxed_connectors(registry: ConnectorRegistry, draft: WorkflowDraft) -> list[str]:
    """Return the connectors the draft's actions use that run in sandbox mode."""
    used = [s.connector for s in draft.steps if s.kind == "action" and s.connector]
    return [name for name in dict.fromkeys(used) if name in registry and registry.get(name).sandbox]


def live_sandbox_line(names: list[str]) -> str | None:
    """Return the notice for a live automation whose runs only record some of their actions."""
    if not names:
        return None
    listed = ", ".join(n.title() for n in names)
    return (
        f"**Sandbox mode:** {listed} {'is' if len(names) == 1 else 'are'} not configured, so "
        f"its runs record those actions and nothing leaves the building. "
        f"{how_to_configure(names)}".rstrip()
    )
