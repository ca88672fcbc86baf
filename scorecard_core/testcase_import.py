"""Testcases from an uploaded CSV or JSONL file, each row validated against the testset's schema.

A row that cannot become a valid testcase is reported by its line number (as a text editor counts
them, the CSV header being line 1) with the reason, and left out; the other rows are imported. A
file that is not what its format says (not UTF-8 text, no header naming the schema's fields, no
JSON object on any line, too large) is refused whole, so an upload never half-succeeds by accident.

CSV cells are text; each is converted to the type the schema gives its column (integer, number,
boolean, null, object or array, the last two written as JSON). An empty cell leaves the field out,
so the schema's ``required`` catches a missing value.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidField
from .storable import load_json, storable_text
from .testcase_export import restore_cell
from .testsets import TestcaseValidator

FORMATS = ("csv", "jsonl")
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000
FILE_FIELD = "file"

_INTEGER = re.compile(r"[-+]?\d+")
_BOOLEANS = {"true": True, "false": False}
# The order a column whose schema allows several types tries them in; text is the last resort.
_TYPE_ORDER = ("null", "boolean", "integer", "number", "object", "array", "string")


@dataclass(frozen=True)
class ImportedRow:
    line: int
    data: dict[str, Any]


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


@dataclass
class ImportResult:
    """The rows that validated, and why each other row did not."""

    rows: list[ImportedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class RowRefused(ValueError):
    """One row (or one edited testcase) cannot become a testcase; the message is the reason."""


def file_format(filename: str, chosen: str, text: str) -> str:
    """``chosen`` when given; else by the file's extension; else JSONL when it starts with ``{``."""
    if chosen in FORMATS:
        return chosen
    if chosen:
        raise InvalidField("format", f"must be one of {', '.join(FORMATS)} (or empty to tell by the file name)")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "csv":
        return "csv"
    if extension in ("jsonl", "ndjson"):
        return "jsonl"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def decoded(content: bytes) -> str:
    """The upload as text, or a refusal naming the limit or the first byte that is not UTF-8."""
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidField(
            FILE_FIELD,
            f"is {len(content) / 1024 / 1024:.1f} MB; files up to {MAX_IMPORT_BYTES // 1024 // 1024} MB can be "
            "imported: split it into smaller files. Nothing was imported.",
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidField(
            FILE_FIELD,
            f"is not UTF-8 text (byte {exc.start} is not UTF-8): save it as UTF-8 CSV or JSONL. Nothing was imported.",
        ) from None
    if not text.strip():
        raise InvalidField(FILE_FIELD, "is empty: choose a CSV or JSONL file with testcases. Nothing was imported.")
    return storable_text(text)


def import_rows(content: bytes, filename: str, chosen_format: str, schema: dict[str, Any]) -> ImportResult:
    """Parses and validates every row of an upload; raises InvalidField when the file is refused whole."""
    text = decoded(content)
    kind = file_format(filename, chosen_format, text)
    parsed = _csv_rows(text, schema) if kind == "csv" else _jsonl_rows(text)
    validator = TestcaseValidator(schema)
    result = ImportResult()
    for line, data in parsed:
        if isinstance(data, RowRefused):
            result.problems.append(RowProblem(line, str(data)))
            continue
        errors = validator.errors(data)
        if errors:
            reasons = "; ".join(f"{e['path'] or 'the row'}: {e['message']}" for e in errors)
            result.problems.append(RowProblem(line, f"does not match the schema ({reasons})"))
        else:
            result.rows.append(ImportedRow(line, data))
    return result


def _too_many_rows() -> InvalidField:
    return InvalidField(
        FILE_FIELD,
        f"has more than {MAX_IMPORT_ROWS:,} rows; import it in smaller files. Nothing was imported.",
    )


def _jsonl_rows(text: str) -> list[tuple[int, dict[str, Any] | RowRefused]]:
    rows: list[tuple[int, dict[str, Any] | RowRefused]] = []
    any_json = False
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise _too_many_rows()
        try:
            value = json_value(line)
        except RowRefused as exc:
            rows.append((line_number, exc))
            continue
        any_json = True
        if isinstance(value, dict):
            rows.append((line_number, value))
        else:
            rows.append((line_number, RowRefused(f"is a JSON {_json_kind(value)}; each line must be a JSON object")))
    if not any_json:
        raise InvalidField(
            FILE_FIELD,
            "is not JSONL: no line is JSON. A JSONL file has one JSON object per line, "
            'such as {"question": "…"}; for a CSV file choose the CSV format. Nothing was imported.',
        )
    return rows


def json_value(text: str) -> Any:
    """JSON text parsed as every database can store it (no NaN, no infinite number, no NUL)."""
    try:
        return load_json(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise RowRefused("is nested too deeply to store") from None
    except ValueError as exc:
        raise RowRefused(f"is not valid JSON ({exc})") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is too large to store")
    return number


def _json_kind(value: Any) -> str:
    kinds = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _csv_rows(text: str, schema: dict[str, Any]) -> list[tuple[int, dict[str, Any] | RowRefused]]:
    properties: dict[str, Any] = schema.get("properties") or {}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = _header(reader)
        _check_header(header, properties)
        rows: list[tuple[int, dict[str, Any] | RowRefused]] = []
        line_before = reader.line_num
        for cells in reader:
            line, line_before = line_before + 1, reader.line_num
            if not any(cells):
                continue  # a blank line
            if len(rows) >= MAX_IMPORT_ROWS:
                raise _too_many_rows()
            rows.append((line, _csv_row(header, cells, properties)))
    except csv.Error as exc:
        raise InvalidField(
            FILE_FIELD,
            f"is not valid CSV at line {reader.line_num} ({exc}): check its quotes. Nothing was imported.",
        ) from None
    return rows


def _header(reader: Any) -> list[str]:
    for cells in reader:
        if any(cells):
            return [restore_cell(c.strip()) for c in cells]
    raise InvalidField(FILE_FIELD, "has no header line naming the columns. Nothing was imported.")


def _check_header(header: list[str], properties: dict[str, Any]) -> None:
    if "" in header:
        raise InvalidField(
            FILE_FIELD,
            f"has a column without a name (column {header.index('') + 1} of the header line): name every column "
            "after a field of the schema. Nothing was imported.",
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InvalidField(
            FILE_FIELD, f"names the column {', '.join(repeated)} twice in its header line. Nothing was imported."
        )
    if properties and not set(header) & set(properties):
        raise InvalidField(
            FILE_FIELD,
            f"is not a CSV of this testset: its first line ({', '.join(header)[:200]}) names none of the schema's "
            f"fields ({', '.join(properties)}). The first line must name the columns. Nothing was imported.",
        )


def _csv_row(header: list[str], cells: list[str], properties: dict[str, Any]) -> dict[str, Any] | RowRefused:
    if len(cells) != len(header):
        return RowRefused(f"has {len(cells)} cells but the header names {len(header)} columns")
    data: dict[str, Any] = {}
    for name, cell in zip(header, cells, strict=True):
        if cell == "":
            continue
        try:
            data[name] = converted(restore_cell(cell), properties.get(name))
        except RowRefused as exc:
            return RowRefused(f"column {name}: {exc}")
    return data


def _types(spec: Any) -> list[str]:
    declared = spec.get("type") if isinstance(spec, dict) else None
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return sorted((t for t in declared if t in _TYPE_ORDER), key=_TYPE_ORDER.index)
    return []


def converted(cell: str, spec: Any) -> Any:
    """A CSV cell as the schema's type for its column; text when the column has no type."""
    types = _types(spec)
    if not types:
        return cell
    for kind in types:
        value = _as_type(cell, kind)
        if value is not _NOT_THIS_TYPE:
            return value
    shown = cell if len(cell) <= 60 else cell[:59] + "…"
    raise RowRefused(f"{json.dumps(shown, ensure_ascii=False)} is not {_described(types)}, as the schema requires")


_NOT_THIS_TYPE = object()


def _as_type(cell: str, kind: str) -> Any:
    text = cell.strip()
    if kind == "string":
        return cell
    if kind == "null":
        return None if text == "null" else _NOT_THIS_TYPE
    if kind == "boolean":
        return _BOOLEANS.get(text.lower(), _NOT_THIS_TYPE)
    if kind == "integer":
        return int(text) if _INTEGER.fullmatch(text) and len(text) <= 30 else _NOT_THIS_TYPE
    if kind == "number":
        return _number(text)
    try:
        value = json_value(text)
    except RowRefused:
        return _NOT_THIS_TYPE
    wanted = dict if kind == "object" else list
    return value if isinstance(value, wanted) else _NOT_THIS_TYPE


def _number(text: str) -> Any:
    if _INTEGER.fullmatch(text) and len(text) <= 30:
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return _NOT_THIS_TYPE
    return number if math.isfinite(number) else _NOT_THIS_TYPE


def _described(types: list[str]) -> str:
    words = {
        "null": "null",
        "boolean": "a boolean (true or false)",
        "integer": "an integer",
        "number": "a number",
        "object": "a JSON object",
        "array": "a JSON array",
        "string": "text",
    }
    return " or ".join(words[t] for t in types)
