"""Request parsing for the API: JSON bodies into typed models, path IDs, cursor pagination.

Every problem a client can cause becomes a 400 that names the field and what it should be.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, select
from werkzeug.exceptions import RequestEntityTooLarge

# The API modules take their body schema language from here, as they take the rest of parsing.
from scorecard_core.bodies import Body as Body
from scorecard_core.bodies import NumericId as NumericId
from scorecard_core.bodies import field_name, validate
from scorecard_core.errors import BadRequest, InvalidField, NotFound
from scorecard_core.ids import ID_PROBLEM, MAX_ID, parse_id
from scorecard_core.storable import first_unstorable, load_json

from .. import database

Model = TypeVar("Model", bound=Body)
Row = TypeVar("Row")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Deeper bodies are refused before they can exhaust the stack of a JSON encoder or validator.
MAX_DEPTH = 100


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def raw_body() -> bytes:
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # Werkzeug cuts a streamed (chunked) body at the limit instead of refusing it.
        raise RequestEntityTooLarge()
    return raw


def json_body() -> Any:
    raw = raw_body()
    if not raw.strip():
        raise BadRequest("Request body is empty; send a JSON object with Content-Type: application/json")
    try:
        # JSON on the wire is UTF-8 (RFC 8259); json.loads alone would also guess UTF-16 and -32.
        # Text is untrusted (system outputs, testcases): NUL and lone surrogates are replaced, not
        # refused, so one odd character in an output cannot lose the batch of records around it.
        payload = load_json(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: byte {exc.start} is not UTF-8; send UTF-8 text") from None
    except RecursionError:
        raise BadRequest(f"Request body is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from None
    _check_storable(payload)
    return payload


def _text_problem(text: str) -> str | None:
    """Why a string cannot be stored by every supported database, or None if it can."""
    found = first_unstorable(text)
    if found is None:
        return None
    if found == "\x00":
        return "contains a NUL character (\\u0000), which cannot be stored; remove it"
    return "contains an unpaired UTF-16 surrogate, which is not valid Unicode; send valid text"


def _check_storable(payload: Any) -> None:
    """Refuse what Python's JSON parser accepts but a database cannot store, naming the field:
    numbers that overflow to infinity, and nesting deeper than MAX_DEPTH. Iterative, so depth
    cannot exhaust the stack here."""
    pending: list[tuple[Any, tuple[Any, ...]]] = [(payload, ())]
    while pending:
        value, path = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidField(field_name(path), "is a number too large to store")
        elif isinstance(value, (dict, list)):
            if len(path) >= MAX_DEPTH:
                raise InvalidField(field_name(path), f"is nested more than {MAX_DEPTH} levels deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                pending.append((item, path + (key,)))


def parse(model: type[Model], data: Any = None) -> Model:
    """Validate the request's JSON body (or ``data``) against ``model``."""
    return validate(model, json_body() if data is None else data)


def assign_given(row: Any, body: BaseModel, *names: str) -> None:
    """Copy the named fields a PATCH body carries (not null) onto the row."""
    for name in names:
        value = getattr(body, name)
        if value is not None:
            setattr(row, name, value)


def get_or_404(model: type[Row], raw_id: str, kind: str, numeric: bool = True) -> Row:
    """The row a path names; unknown IDs (and IDs that cannot exist) are 404s."""
    row = database.session().get(model, path_id(raw_id, kind) if numeric else raw_id)
    if row is None:
        raise NotFound.of(kind, raw_id)
    return row


def path_id(value: str, kind: str) -> int:
    """A numeric path ID; anything else cannot exist, so it is a 404 like an unknown ID."""
    number = parse_id(value)
    if number is None:
        raise NotFound.of(kind, value)
    return number


def check_path_values() -> None:
    """A path value no database can hold names nothing: 404 before any query sees it."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and _text_problem(value):
            raise NotFound(f"nothing has the ID {value!r}", {"id": value})


def check_query_values() -> None:
    """A query parameter no database can hold (a NUL, say) is a 400 naming it, before any query."""
    for name, value in request.args.items(multi=True):
        if problem := _text_problem(name + value):
            raise InvalidField(name, problem)


def id_arg(name: str) -> int | None:
    """A numeric ID in the query string (a filter or a baseline), None when absent."""
    raw = request.args.get(name)
    if not raw:
        return None
    number = parse_id(raw)
    if number is None:
        raise InvalidField(name, ID_PROBLEM)
    return number


def limit_arg() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    limit = parse_id(raw)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise InvalidField("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return limit


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise _bad_cursor() from None


def _bad_cursor() -> InvalidField:
    return InvalidField("cursor", "is not a cursor this server issued; pass `nextCursor` back unchanged")


def _cursor_fits(key: Any, column: Any) -> bool:
    """Whether a decoded cursor key can be compared with ``column`` on every database."""
    if column.type.python_type is int:
        return type(key) is int and 0 <= key <= MAX_ID
    return isinstance(key, str) and _text_problem(key) is None


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
        if not _cursor_fits(after, key_column):
            raise _bad_cursor()
        statement = statement.where(key_column < after if newest_first else key_column > after)
    ordered = statement.order_by(key_column.desc() if newest_first else key_column.asc()).limit(limit + 1)
    rows = list(session.exec(ordered).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], key_column.key)) if has_more and rows else None
    return {"data": render(rows), "nextCursor": next_cursor, "hasMore": has_more, "total": total}
