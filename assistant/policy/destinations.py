"""Where actions may go (Approval Matrix section 6) and whether their params are valid."""

from __future__ import annotations

from assistant.policy.rules import Destinations
from assistant.schemas import Step
from connectors.operations import is_runtime

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
    """Return why a step's destination is not allowed, if it is not (its connector says)."""
    from connectors.kinds import kinds

    kind = kinds().get(step.connector or "")
    return kind.destination_problem(step, where) if kind is not None else None


def params_problem(step: Step) -> str | None:
    """Return a one-line description of why a step's params fail its operation's schema."""
    from connectors.kinds import kinds

    kind = kinds().get(step.connector or "")
    operation = kind.operations.get(step.operation or "") if kind is not None else None
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
