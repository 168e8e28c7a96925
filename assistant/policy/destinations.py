"""Where actions may go (Approval Matrix section 6) and whether their params are valid."""

from __future__ import annotations

from assistant.policy.endpoints import normalize_url
from assistant.policy.rules import Destinations
from assistant.schemas import Step
from connectors.operations import CATALOG, is_runtime

APPROVAL_MATRIX = "policies/approval-matrix.md"


def email_addresses(step: Step) -> list[str]:
    """Return an email step's recipients, ``to`` and ``cc``, each given as a string or a list."""
    addresses: list[str] = []
    for key in ("to", "cc"):
        value = step.params.get(key) or []
        addresses += [str(a) for a in ([value] if isinstance(value, str) else value)]
    return addresses


def internal_email(step: Step, where: Destinations) -> bool:
    """Tell whether every recipient of an email step is an internal address."""
    addresses = email_addresses(step)
    return bool(addresses) and all(not is_runtime(a) and where.email_allowed(a) for a in addresses)


def destination_problem(step: Step, where: Destinations) -> str | None:
    """Return why a step's destination is not allowed, if it is not."""
    params = step.params
    if step.connector == "slack":
        channel = str(params.get("channel", ""))
        if not is_runtime(channel) and not where.slack_channel.match(channel):
            return f"Slack channel {channel!r} is not allowed: only public #channels ({APPROVAL_MATRIX})"
    if step.connector == "email":
        for address in email_addresses(step):
            if not is_runtime(address) and not where.email_allowed(address):
                return (
                    f"Email to {address} is not allowed: outside {', '.join(where.email_domains)}; "
                    f"customer addresses must come from ticket data ({APPROVAL_MATRIX})"
                )
    if step.connector == "webhook":
        url = str(params.get("url", ""))
        if is_runtime(url):
            return f"Webhook URL {url} is only known at run time, so its host cannot be checked"
        host = normalize_url(url).split("://", 1)[-1].split("/", 1)[0]
        if not where.host_allowed(host):
            return f"Webhook host {host or url!r} is not on the allowed list ({APPROVAL_MATRIX})"
    return None


def params_problem(step: Step) -> str | None:
    """Return a one-line description of why a step's params fail its operation's schema."""
    operation = CATALOG.get(step.connector or "", {}).get(step.operation or "")
    if operation is None:
        return None
    try:
        operation.params.model_validate(step.params)
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            parts = [
                f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in errors()
            ]
            return "Invalid params: " + "; ".join(parts)
        return f"Invalid params: {exc}"
    return None
