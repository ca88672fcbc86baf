"""Typed request bodies: the schema language every entry point shares (the REST API, the CLI,
the standalone webhook service's connections file), free of any web framework.

A body is camelCase on the wire, strictly typed, and a problem with it becomes one
:class:`InvalidField` naming the field and what it should be.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel

from .errors import BadRequest, InvalidField
from .ids import ID_PATTERN, ID_PROBLEM, MAX_ID, parse_id

Model = TypeVar("Model", bound="Body")


def _numeric_id(value: Any) -> Any:
    number = parse_id(value)
    if number is None:
        raise ValueError(ID_PROBLEM)
    return number


# A Scorecard numeric ID: sent as a string of digits, stored as an integer.
NumericId = Annotated[
    int,
    BeforeValidator(_numeric_id),
    WithJsonSchema(
        {
            "type": ["string", "integer"],
            "pattern": ID_PATTERN,
            "minimum": 0,
            "maximum": MAX_ID,
            "description": 'a numeric ID such as "123"',
        }
    ),
]


class Body(BaseModel):
    """A request body: camelCase on the wire, strict types, unknown keys ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, strict=True, extra="ignore")


def field_name(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def describe(error: Any) -> str:
    """One pydantic error as the rest of a sentence that starts with the field's name."""
    if error["type"] == "missing":
        return "is required"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return message[0].lower() + message[1:] if message else "is invalid"


def validate(model: type[Model], payload: Any) -> Model:
    """``payload`` (decoded JSON) as ``model``; the first problem names its field."""
    if not isinstance(payload, dict):
        raise BadRequest("Request body must be a JSON object", {"field": "body"})
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidField(field_name(first["loc"]), describe(first)) from None
