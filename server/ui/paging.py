"""Keyset paging for the UI's tables: ``?cursor=<last ID shown>``, and links that keep the
page's other query parameters."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from scorecard_core.errors import InvalidField
from scorecard_core.ids import parse_id

# The query parameters UI pages understand; links carry only these forward.
PAGE_PARAMS = ("source", "status", "metric", "cursor")


def cursor_arg(name: str = "cursor") -> int | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    cursor = parse_id(raw)
    if cursor is None:
        raise InvalidField(name, "must be the ID from a page link; go back to the first page")
    return cursor


def url_with(**changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    args = {key: request.args.getlist(key) for key in PAGE_PARAMS if key in request.args}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **args, **(request.view_args or {}))
