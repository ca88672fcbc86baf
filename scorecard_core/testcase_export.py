"""A testset's testcases as JSONL (one ``jsonData`` object per line) or CSV (one column per field),
both in the shapes the import reads back.

CSV cells are untrusted text a spreadsheet might run: as in the run export, text starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe. The import takes
that apostrophe off again (and text that already started with apostrophes before such a character
gets one more), so a file round-trips. Numbers and booleans are written as they are: a number
cannot be a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from .export import FORMULA_PREFIXES
from .testsets import MAPPING_ROLES

MARK = "'"


def neutralized(text: str) -> str:
    """``text`` as a cell no spreadsheet reads as a formula."""
    return MARK + text if text.lstrip(MARK).startswith(FORMULA_PREFIXES) else text


def restore_cell(cell: str) -> str:
    """The text ``neutralized`` was given."""
    return cell[1:] if cell.startswith(MARK) and cell.lstrip(MARK).startswith(FORMULA_PREFIXES) else cell


def cell(value: Any) -> str:
    """A JSON value as the CSV import reads it back: text as itself, everything else as JSON."""
    if isinstance(value, (bool, int, float)) or value is None:
        return json.dumps(value)
    return neutralized(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def schema_fields(schema: dict[str, Any], field_mapping: dict[str, list[str]]) -> list[str]:
    """The schema's fields: the inputs, expected and metadata in the mapping's order (PostgreSQL
    keeps no key order in a stored schema; the mapping's lists keep theirs), then any other."""
    named = [name for role in MAPPING_ROLES for name in field_mapping.get(role, [])]
    return list(dict.fromkeys([*named, *(schema.get("properties") or {})]))


def csv_columns(fields: list[str], rows: Iterable[dict[str, Any]]) -> list[str]:
    """The schema's fields, then any other field a testcase has, in order of appearance."""
    columns = dict.fromkeys(fields)
    for data in rows:
        columns.update(dict.fromkeys(data))
    return list(columns)


def csv_text(fields: list[str], rows: list[dict[str, Any]]) -> Iterator[str]:
    """The CSV in chunks: a header naming the columns (``fields`` first), then one line per
    testcase (a field it lacks is an empty cell, which the import reads as left out)."""
    columns = csv_columns(fields, rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralized(c) for c in columns])
    for count, data in enumerate(rows, start=1):
        writer.writerow(["" if c not in data else cell(data[c]) for c in columns])
        if count % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_text(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for data in rows:
        yield json.dumps(data, ensure_ascii=False) + "\n"
