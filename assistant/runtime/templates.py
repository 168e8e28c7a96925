"""Render a step's ``{{path}}`` placeholders from a run's event, safely and strictly.

Params are rendered by jinja2's ``SandboxedEnvironment`` with ``StrictUndefined``: templates
cannot reach Python internals, and a missing value raises ``MissingValue`` naming the field
instead of sending an empty string or a literal ``{{...}}``. A param that is exactly one
placeholder keeps the value's type, so ``"{{invoice.amount}}"`` renders to the number.
Earlier steps' outputs are available as ``steps.<step id>.<key>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from assistant.policy.conditions import MissingField, lookup

WHOLE = re.compile(r"^\s*\{\{\s*([A-Za-z_][\w]*(?:\.[\w]+)*)\s*\}\}\s*$")
PATHS = re.compile(r"\{\{\s*([A-Za-z_][\w]*(?:\.[\w]+)*)\s*(?:\||\}\})")

ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class MissingValue(ValueError):
    """Raised when a placeholder names a field the event (or earlier outputs) lacks."""

    def __init__(self, field: str) -> None:
        super().__init__(f"the event has no value for {field}")
        self.field = field


class RenderError(ValueError):
    """Raised when a template is malformed or does something the sandbox refuses."""


def context(event: Mapping[str, Any], outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values placeholders see: the event's fields and ``steps`` (earlier outputs)."""
    return {**event, "steps": dict(outputs)}


def render_value(value: Any, values: Mapping[str, Any]) -> Any:
    """Render one param value (strings, and strings inside lists and dicts)."""
    if isinstance(value, dict):
        return {key: render_value(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, values) for item in value]
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    whole = WHOLE.match(value)
    try:
        if whole:
            return lookup(values, whole.group(1))
        for path in PATHS.findall(value):
            lookup(values, path)
        return ENVIRONMENT.from_string(value).render(values)
    except MissingField as exc:
        raise MissingValue(exc.field) from None
    except UndefinedError as exc:
        raise RenderError(f"{value!r}: {exc}") from None
    except TemplateError as exc:
        raise RenderError(f"{value!r} is not a valid template: {exc}") from None


def render_params(
    params: Mapping[str, Any], event: Mapping[str, Any], outputs: Mapping[str, Any]
) -> dict[str, Any]:
    """Return ``params`` with every placeholder filled from ``event`` and earlier ``outputs``.

    Example:
        >>> render_params({"text": "Invoice {{invoice.number}}"}, {"invoice": {"number": 7}}, {})
        {'text': 'Invoice 7'}
    """
    values = context(event, outputs)
    return {key: render_value(value, values) for key, value in params.items()}
