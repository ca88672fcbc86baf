"""GitHub's REST description (the subset in tests/fixtures/github) as a router and a validator.

The fake GitHub matches each request to an operation through the spec's path templates, checks
query parameters and bodies against the operation's schemas, and checks its own answers against
the documented response schemas, so it cannot drift from the real API.

The spec is OpenAPI 3.0: ``nullable: true`` is rewritten to JSON Schema's "or null" on loading,
everything else is used as published.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

SPEC_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "rest-openapi-subset.json"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
PARAMETER = re.compile(r"\{([^}/]+)\}")
COERCERS = {"integer": int, "number": float, "boolean": lambda text: {"true": True, "false": False}[text]}


@dataclass(frozen=True)
class Parameter:
    name: str
    schema: dict[str, Any]
    validator: Draft4Validator = field(repr=False)

    def coerce(self, text: str) -> Any:
        kind = self.schema.get("type")
        try:
            return COERCERS[kind](text) if isinstance(kind, str) and kind in COERCERS else text
        except (ValueError, KeyError):
            return text  # left as text, so validation names the problem

    def problems(self, value: Any) -> list[str]:
        return _problems(self.validator, value, root=self.name)


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    documentation_url: str
    path_pattern: re.Pattern[str] = field(repr=False)
    path_parameters: dict[str, Parameter] = field(repr=False)
    query_parameters: dict[str, Parameter] = field(repr=False)
    request_validator: Draft4Validator | None = field(repr=False)
    response_validators: dict[int, Draft4Validator | None] = field(repr=False)  # None: no JSON body


class Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.operations = [
            _operation(template, method.upper(), item[method])
            for template, item in document["paths"].items()
            for method in HTTP_METHODS
            if method in item
        ]
        self._basic_error = _validator(_titled(document, "Basic Error"))
        self.operations.append(_authenticated_user_operation(_titled(document, "Simple User")))
        # literal segments win over parameters, as GitHub routes /issues/comments/1 before /issues/{n}
        self.operations.sort(key=lambda op: (-op.template.count("/"), op.template.count("{")))

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, Any]] | None:
        for operation in self.operations:
            found = operation.path_pattern.fullmatch(path) if operation.method == method else None
            if found:
                parameters = operation.path_parameters
                values = {name: parameters[name].coerce(text) for name, text in found.groupdict().items()}
                if not any(parameters[name].problems(value) for name, value in values.items()):
                    return operation, values  # a non-numeric issue number is not a route, as on GitHub
        return None

    def query_problems(self, operation: Operation, query: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
        """The query coerced to the documented types, and what in it breaks the spec."""
        coerced: dict[str, Any] = {}
        problems: list[str] = []
        for name, text in query.items():
            parameter = operation.query_parameters.get(name)
            if parameter is None:
                continue  # GitHub ignores parameters it does not know
            coerced[name] = parameter.coerce(text)
            problems += parameter.problems(coerced[name])
        return coerced, problems

    def request_problems(self, operation: Operation, body: Any) -> list[str]:
        if operation.request_validator is None:
            return []
        return _problems(operation.request_validator, {} if body is None else body)

    def response_problems(self, operation: Operation | None, status: int, body: Any) -> list[str]:
        if operation is None or (status >= 400 and status not in operation.response_validators):
            return _problems(self._basic_error, body)  # GitHub may answer any route with an error
        if status not in operation.response_validators:
            return [f"status {status} is not documented for {operation.operation_id}"]
        validator = operation.response_validators[status]
        if validator is None:
            return [] if body is None else [f"status {status} of {operation.operation_id} has no body"]
        return _problems(validator, body)


@lru_cache(maxsize=1)
def load_spec() -> Spec:
    return Spec(json.loads(SPEC_FILE.read_text()))


def _operation(template: str, method: str, operation: dict[str, Any]) -> Operation:
    parameters = operation.get("parameters", [])
    request_schema = _json_schema(operation.get("requestBody", {}))
    responses = {int(status): _json_schema(response) for status, response in operation["responses"].items()}
    regex = PARAMETER.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", template)
    return Operation(
        operation_id=operation["operationId"],
        method=method,
        template=template,
        documentation_url=operation.get("externalDocs", {}).get("url", "https://docs.github.com/rest"),
        path_pattern=re.compile(regex),
        path_parameters={p["name"]: _parameter(p) for p in parameters if p["in"] == "path"},
        query_parameters={p["name"]: _parameter(p) for p in parameters if p["in"] == "query"},
        request_validator=None if request_schema is None else _validator(request_schema),
        response_validators={
            status: None if schema is None else _validator(schema) for status, schema in responses.items()
        },
    )


def _parameter(described: dict[str, Any]) -> Parameter:
    schema = _nullable_as_null(described["schema"])
    return Parameter(described["name"], schema, _validator(schema))


def _json_schema(described: dict[str, Any]) -> dict[str, Any] | None:
    schema = described.get("content", {}).get("application/json", {}).get("schema")
    return None if schema is None else _nullable_as_null(schema)


def _authenticated_user_operation(simple_user: dict[str, Any]) -> Operation:
    """``GET /user`` is outside the subset, but PyGithub's ``Github.get_user()`` calls it. GitHub
    answers with a private user, a superset of the subset's "Simple User", which is what is checked."""
    return Operation(
        operation_id="users/get-authenticated",
        method="GET",
        template="/user",
        documentation_url="https://docs.github.com/rest/users/users#get-the-authenticated-user",
        path_pattern=re.compile("/user"),
        path_parameters={},
        query_parameters={},
        request_validator=None,
        response_validators={200: _validator(simple_user)},
    )


def _titled(document: Any, title: str) -> dict[str, Any]:
    """The first schema called ``title`` anywhere in the (dereferenced) spec."""
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("title") == title and "properties" in node:
                return _nullable_as_null(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    raise ValueError(f"the spec has no schema titled {title!r}")


def _nullable_as_null(schema: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` in JSON Schema terms (a copy; the spec is left as is)."""
    if isinstance(schema, list):
        return [_nullable_as_null(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {
        key: _nullable_as_null(value) for key, value in schema.items() if key not in ("nullable", "example", "examples")
    }
    if not schema.get("nullable"):
        return converted
    if "enum" in converted:
        converted["enum"] = [*converted["enum"], None]
    if isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


@cache
def _cached_validator(schema_json: str) -> Draft4Validator:
    return Draft4Validator(json.loads(schema_json), format_checker=FormatChecker())


def _validator(schema: dict[str, Any]) -> Draft4Validator:
    return _cached_validator(json.dumps(schema, sort_keys=True))


def _problems(validator: Draft4Validator, instance: Any, root: str = "body") -> list[str]:
    """GitHub-style messages: '"body" wasn't supplied.', "For 'properties/state', ... ."""
    messages = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(part) for part in e.path]):
        if error.validator == "required":
            missing = re.match(r"'([^']+)'", error.message)
            messages.append(f'"{missing.group(1) if missing else error.message}" wasn\'t supplied.')
        else:
            where = (
                "/".join(f"properties/{part}" if isinstance(part, str) else f"items/{part}" for part in error.path)
                or root
            )
            messages.append(f"For '{where}', {error.message}.")
    return messages
