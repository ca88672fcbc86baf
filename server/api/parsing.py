"""Request parsing for the API: JSON bodies into typed models, path IDs, cursor pagination.

Every problem a client can cause becomes a 400 that names the field and what it should be.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Annotated, Callable, Sequence, TypeVar

from flask import request
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from sqlalchemy import func
from sqlmodel import Session, select

from scorecard_core.errors import BadRequest, InvalidField, NotFound

Model = TypeVar("Model", bound="Body")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _numeric_id(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a numeric ID string such as \"123\"")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    raise ValueError("must be a numeric ID string such as \"123\"")


# A Scorecard numeric ID: sent as a string of digits, stored as an integer.
NumericId = Annotated[int, BeforeValidator(_numeric_id)]


class Body(BaseModel):
    """A request body: camelCase on the wire, strict types, unknown keys ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, strict=True, extra="ignore")


def _field_name(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _describe(error: dict[str, Any]) -> str:
    if error["type"] == "missing":
        return "is required"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return message[0].lower() + message[1:] if message else "is invalid"


def json_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("Request body is empty; send a JSON object with Content-Type: application/json")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from None


def parse(model: type[Model], data: Any = None) -> Model:
    """Validate the request's JSON body (or ``data``) against ``model``."""
    payload = json_body() if data is None else data
    if not isinstance(payload, dict):
        raise BadRequest("Request body must be a JSON object", {"field": "body"})
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidField(_field_name(first["loc"]), _describe(first)) from None


def path_id(value: str, kind: str) -> int:
    """A numeric path ID; anything else cannot exist, so it is a 404 like an unknown ID."""
    if not value.isdigit() or len(value) >= 19:
        raise NotFound.of(kind, value)
    return int(value)


def limit_arg() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not (1 <= int(raw) <= MAX_LIMIT):
        raise InvalidField("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidField("cursor", "is not a cursor this server issued; pass `nextCursor` back unchanged") from None


def paginate(
    session: Session,
    statement: Any,
    key_column: Any,
    render: Callable[[list[Any]], list[dict[str, Any]]],
    newest_first: bool = False,
) -> dict[str, Any]:
    """Keyset pagination over ``key_column`` with Scorecard's page shape."""
    limit = limit_arg()
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    cursor = request.args.get("cursor")
    if cursor:
        after = decode_cursor(cursor)
        if isinstance(after, bool) or not isinstance(after, (int, str)):
            raise InvalidField("cursor", "is not a cursor this server issued; pass `nextCursor` back unchanged")
        statement = statement.where(key_column < after if newest_first else key_column > after)
    ordered = statement.order_by(key_column.desc() if newest_first else key_column.asc()).limit(limit + 1)
    rows = list(session.exec(ordered).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], key_column.key)) if has_more and rows else None
    return {"data": render(rows), "nextCursor": next_cursor, "hasMore": has_more, "total": total}
