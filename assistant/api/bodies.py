"""Request bodies of the JSON API: bounded in size, read as strict JSON, validated as models.

Every route that takes JSON reads it through ``read_body`` and ``parse_model``, so a hostile
body gets a 400/413/422 naming the problem before anything is stored, never a 500.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from assistant.api.errors import ApiError
from assistant.strict_json import JsonInputError, load_json

Model = TypeVar("Model", bound=BaseModel)
MAX_PROBLEMS_SHOWN = 10
"""A body with thousands of bad fields gets a short answer, not one line per field."""


async def read_body(request: Request, limit: int) -> bytes:
    """Return the request body, answering 413 as soon as it is known to exceed ``limit``."""
    too_large = ApiError(413, f"request body is larger than the limit of {limit:,} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def parse_json(raw: bytes, *, what: str = "request body") -> Any:
    """Return the JSON value in ``raw``; answer 400 saying what is wrong (see ``load_json``)."""
    try:
        return load_json(raw, what=what)
    except JsonInputError as exc:
        raise ApiError(400, str(exc)) from None


def parse_model(raw: bytes, model: type[Model], *, what: str) -> Model:
    """Return ``raw`` as a ``model``: 400 if it is not clean JSON, 422 naming every bad field."""
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError(422, f"{what} does not match the contract: expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])[:100] or what}: {error['msg']}"
            for error in errors[:MAX_PROBLEMS_SHOWN]
        )
        if len(errors) > MAX_PROBLEMS_SHOWN:
            problems += f"; and {len(errors) - MAX_PROBLEMS_SHOWN} more"
        raise ApiError(422, f"{what} does not match the contract: {problems}") from None
