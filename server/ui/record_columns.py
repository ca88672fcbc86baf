"""The Records page's per-field columns (``inputs.question``, ``outputs.answer``...): picked and
ordered by the user, remembered per project in a cookie, so they stay without JavaScript too.

The page's column form sends ``column`` once per ticked field, in the order shown; the script
only adds buttons to reorder them. ``columns_set`` tells an emptied choice from no choice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from flask import Request, Response

from scorecard_core.errors import InvalidField
from scorecard_core.models import Record

PARTS = ("inputs", "outputs", "expected")
MAX_COLUMNS = 20
MAX_KEY_CHARS = 200
COOKIE_DAYS = 365


@dataclass(frozen=True)
class Column:
    part: str  # inputs | outputs | expected
    key: str

    @property
    def name(self) -> str:
        return f"{self.part}.{self.key}"

    def value_of(self, record: Record) -> Any:
        data = getattr(record, self.part) or {}
        return data.get(self.key) if isinstance(data, dict) else None


def parse_column(name: str) -> Column:
    part, dot, key = name.partition(".")
    if not dot or part not in PARTS or not key or len(key) > MAX_KEY_CHARS:
        raise InvalidField(
            "column", f"`{name[:80]}` is not a field column; pick one such as `inputs.question` or `outputs.answer`"
        )
    return Column(part, key)


def _is_column(name: str) -> bool:
    try:
        parse_column(name)
    except InvalidField:
        return False
    return True


def cookie_name(project_id: int) -> str:
    return f"records_columns_{project_id}"


def chosen_columns(request: Request, project_id: int) -> tuple[list[Column], bool]:
    """The columns this request asks for, else those remembered; and whether to remember these."""
    if request.args.get("columns_set"):
        names = request.args.getlist("column")
        remember = True
    else:
        try:
            names = json.loads(unquote(request.cookies.get(cookie_name(project_id), "[]")))
        except ValueError:
            names = []
        remember = False
        if not isinstance(names, list):
            names = []
        # A damaged or outdated cookie is forgotten, not an error.
        names = [n for n in names if isinstance(n, str) and _is_column(n)]
    columns = list(dict.fromkeys(parse_column(str(n)) for n in names if n))
    if len(columns) > MAX_COLUMNS:
        raise InvalidField("column", f"pick at most {MAX_COLUMNS} field columns")
    return columns, remember


def remember(response: Response, project_id: int, columns: list[Column], path: str) -> None:
    value = quote(json.dumps([c.name for c in columns]))
    response.set_cookie(
        cookie_name(project_id), value, max_age=COOKIE_DAYS * 86400, path=path, samesite="Lax", httponly=True
    )


def available_columns(records: list[Record], chosen: list[Column]) -> list[Column]:
    """The chosen columns in their order, then every other top-level field of these records."""
    seen = dict.fromkeys(chosen)
    for record in records:
        for part in PARTS:
            data = getattr(record, part)
            if isinstance(data, dict):
                for key in data:
                    if isinstance(key, str) and 0 < len(key) <= MAX_KEY_CHARS:
                        seen.setdefault(Column(part, key))
    return list(seen)
