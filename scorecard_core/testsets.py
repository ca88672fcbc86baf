"""Testcase validation against a testset's JSON Schema, and the fieldMapping split.

Invalid testcases are stored with their validation errors rather than rejected, as Scorecard
does; ``inputs`` and ``expected`` are always derived from ``jsonData`` by the field mapping.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from .errors import InvalidField

MAPPING_ROLES = ("inputs", "expected", "metadata")


def check_schema(schema: dict[str, Any], field: str = "jsonSchema") -> None:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidField(field, f"is not a valid JSON Schema: {exc.message}") from None


def normalize_field_mapping(mapping: dict[str, Any] | None, schema: dict[str, Any]) -> dict[str, list[str]]:
    """Every role present; schema properties that no role names become metadata."""
    mapping = dict(mapping or {})
    normalized: dict[str, list[str]] = {}
    for role in MAPPING_ROLES:
        names = mapping.get(role) or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidField(f"fieldMapping.{role}", "must be a list of field names")
        normalized[role] = list(dict.fromkeys(names))
    named = {n for role in MAPPING_ROLES for n in normalized[role]}
    for prop in schema.get("properties") or {}:
        if prop not in named:
            normalized["metadata"].append(prop)
    return normalized


def _pointer(path: Any) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else ""


class TestcaseValidator:
    """Validates many testcases against one schema, compiling the schema once."""

    __test__ = False

    def __init__(self, schema: dict[str, Any]):
        self._validator = Draft202012Validator(schema)

    def errors(self, data: dict[str, Any]) -> list[dict[str, str]] | None:
        try:
            found = sorted(self._validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
        except Unresolvable as exc:  # a $ref is only followed when a testcase reaches it
            raise InvalidField(
                "jsonSchema", f"of this testset has a `$ref` that cannot be resolved ({exc}); fix the testset's schema"
            ) from None
        if not found:
            return None
        return [{"path": _pointer(e.absolute_path), "message": e.message} for e in found]


def split(field_mapping: dict[str, list[str]], data: dict[str, Any]) -> tuple[dict, dict]:
    """The testcase's ``inputs`` and ``expected`` by the mapping; the rest is metadata."""
    inputs = {k: data[k] for k in field_mapping.get("inputs", []) if k in data}
    expected = {k: data[k] for k in field_mapping.get("expected", []) if k in data}
    return inputs, expected
