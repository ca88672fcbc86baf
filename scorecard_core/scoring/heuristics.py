"""Built-in heuristic metrics: deterministic checks of a record's outputs against its expected values.

A metric with evalType "heuristic" carries a ``heuristic`` config naming the check and the fields
it compares, e.g. ``{"type": "exact_match", "outputField": "answer", "expectedField": "answer"}``.
Fields are dotted paths into the record's ``outputs`` / ``expected`` (``"result.items.0.name"``).

Types and their settings besides ``outputField`` (defaults in brackets):
  exact_match  expectedField, caseSensitive [true], trimWhitespace [true]
  contains     value (fixed text) or expectedField, caseSensitive [true]
  regex        pattern, caseSensitive [true], fullMatch [false: a match anywhere passes]
  valid_json   none: a string output must parse as JSON; any other value already is JSON
  json_schema  schema, parseStrings [true: a string output is parsed as JSON first]
  numeric      expectedField, tolerance [0], relative [false; true: tolerance is a fraction of |expected|]
  similarity   expectedField, threshold [0.8; decides boolean metrics], caseSensitive [true]

Every check yields a value in 0..1 (1.0/0.0 for pass/fail checks; for ``similarity``, 1 minus the
Levenshtein distance over the longer length), shaped into Scorecard's score for the metric's output
type. A missing field is a failing score with a reason, never an exception. Configs are compiled
(regexes, schemas) once and cached, because one run scores thousands of records per metric.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from jsonschema.exceptions import SchemaError, best_match
from jsonschema.validators import validator_for
from rapidfuzz.distance import Levenshtein
from referencing.exceptions import Unresolvable

from ..errors import InvalidField
from .shapes import SCORE_KEYS

DEFAULT_SIMILARITY_THRESHOLD = 0.8
REASON_VALUE_CHARS = 60
_MISSING = object()


@dataclass(frozen=True)
class Outcome:
    value: float  # 0..1
    passed: bool
    reasoning: str


Check = Callable[[Any, Any], Outcome]  # (outputs, expected) -> Outcome


# ---------------------------------------------------------------------------- config validation


def _setting_error(name: str, problem: str) -> InvalidField:
    return InvalidField(f"heuristic.{name}", problem)


def _path(config: dict[str, Any], name: str, kind: str, example: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _setting_error(name, f'is required: name the {kind} field to compare, e.g. "{example}"')
    if any(not part for part in value.split(".")):
        raise _setting_error(name, f'"{value}" has an empty segment; use dotted names like "{example}"')
    return value


def _flag(config: dict[str, Any], name: str, default: bool) -> bool:
    value = config.get(name, default)
    if not isinstance(value, bool):
        raise _setting_error(name, "must be true or false")
    return value


def _number(config: dict[str, Any], name: str, default: float, maximum: float = math.inf) -> float:
    value = config.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _setting_error(name, "must be a number")
    if not 0 <= value <= maximum:
        bound = "zero or more" if maximum == math.inf else f"between 0 and {maximum:g}"
        raise _setting_error(name, f"must be {bound}, got {value:g}")
    return value


def _text(config: dict[str, Any], name: str, what: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value:
        raise _setting_error(name, f"is required: give {what} as a non-empty string")
    return value


def _exact_match(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "expectedField": _path(config, "expectedField", "expected", "answer"),
        "caseSensitive": _flag(config, "caseSensitive", True),
        "trimWhitespace": _flag(config, "trimWhitespace", True),
    }


def _contains(config: dict[str, Any]) -> dict[str, Any]:
    has_value, has_field = "value" in config, "expectedField" in config
    if has_value == has_field:
        problem = (
            "conflicts with `heuristic.expectedField`; give only one"
            if has_value
            else (
                "or `heuristic.expectedField` is required: give the fixed text the output must contain, "
                "or name the expected field holding it"
            )
        )
        raise _setting_error("value", problem)
    source = (
        {"value": _text(config, "value", "the text the output must contain")}
        if has_value
        else {"expectedField": _path(config, "expectedField", "expected", "answer")}
    )
    return {**source, "caseSensitive": _flag(config, "caseSensitive", True)}


def _regex(config: dict[str, Any]) -> dict[str, Any]:
    normalised: dict[str, Any] = {
        "pattern": _text(config, "pattern", 'a regular expression such as "^\\\\d+$"'),
        "caseSensitive": _flag(config, "caseSensitive", True),
        "fullMatch": _flag(config, "fullMatch", False),
    }
    try:
        re.compile(normalised["pattern"])
    except re.error as exc:
        raise _setting_error("pattern", f"is not a valid regular expression: {exc}") from None
    return normalised


def _valid_json(config: dict[str, Any]) -> dict[str, Any]:
    return {}


def _json_schema(config: dict[str, Any]) -> dict[str, Any]:
    schema = config.get("schema")
    if not isinstance(schema, (dict, bool)):
        raise _setting_error("schema", 'is required: give a JSON Schema object, e.g. {"type": "object"}')
    try:
        # types-jsonschema's Validator protocol takes only dict schemas, but true and false are
        # JSON Schemas too, and every validator class checks them.
        validator_for(schema).check_schema(schema)  # type: ignore[arg-type]
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        raise _setting_error(
            "schema", f"is not a valid JSON Schema{f' at /{where}' if where else ''}: {exc.message}"
        ) from None
    return {"schema": schema, "parseStrings": _flag(config, "parseStrings", True)}


def _numeric(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "expectedField": _path(config, "expectedField", "expected", "total"),
        "tolerance": _number(config, "tolerance", 0),
        "relative": _flag(config, "relative", False),
    }


def _similarity(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "expectedField": _path(config, "expectedField", "expected", "answer"),
        "threshold": _number(config, "threshold", DEFAULT_SIMILARITY_THRESHOLD, maximum=1),
        "caseSensitive": _flag(config, "caseSensitive", True),
    }


def validate_config(config: Any, output_type: str) -> dict[str, Any]:
    """The normalised config (defaults filled in), or InvalidField naming the bad setting."""
    if config is None:
        raise InvalidField(
            "heuristic",
            "is required for a heuristic metric: give e.g. "
            '{"type": "exact_match", "outputField": "answer", '
            '"expectedField": "answer"}',
        )
    if not isinstance(config, dict):
        raise InvalidField("heuristic", "must be a JSON object with at least `type` and `outputField`")
    if output_type not in SCORE_KEYS:
        raise InvalidField("outputType", f"must be one of {', '.join(SCORE_KEYS)}")
    kind = config.get("type")
    if kind not in HEURISTICS:
        raise _setting_error("type", f"must be one of {', '.join(HEURISTICS)}, got {json.dumps(kind)}")
    normalised = {
        "type": kind,
        "outputField": _path(config, "outputField", "output", "answer"),
        **HEURISTICS[kind].settings(config),
    }
    unknown = sorted(set(config) - set(normalised))
    if unknown:
        known = ", ".join(k for k in normalised if k != "type")
        raise _setting_error(unknown[0], f"is not a setting of {kind}; its settings are: {known}")
    return normalised


# ---------------------------------------------------------------------------- scoring


def score(config: Any, output_type: str, inputs: Any, outputs: Any, expected: Any) -> dict[str, Any]:
    """Scorecard's score for one record: binaryScore, floatScore (0..1) or intScore (1..5), with reasoning.

    ``inputs`` is accepted for a uniform scorer signature; no built-in heuristic reads it.
    A bad config raises InvalidField, as validate_config does.
    """
    outcome = _compiled(json.dumps(config, sort_keys=True), output_type)(outputs, expected)
    if output_type == "boolean":
        value: bool | int | float = outcome.passed
    elif output_type == "int":
        value = 1 + round(4 * outcome.value)  # 0..1 onto Scorecard's 1..5
    else:
        value = round(outcome.value, 4)
    return {SCORE_KEYS[output_type]: value, "reasoning": outcome.reasoning}


@lru_cache(maxsize=256)
def _compiled(config_json: str, output_type: str) -> Check:
    config = validate_config(json.loads(config_json), output_type)
    return HEURISTICS[config["type"]].build(config, _Field("outputs", config["outputField"]))


class _Field:
    """A dotted path into a record's outputs or expected, e.g. outputs.result.items.0.name."""

    def __init__(self, root: str, path: str):
        self.label = f"{root}.{path}"
        self.parts = path.split(".")

    def get(self, document: Any) -> Any:
        for part in self.parts:
            if isinstance(document, dict) and part in document:
                document = document[part]
            elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
                document = document[int(part)]
            else:
                return _MISSING
        return document


def _missing(field: _Field) -> Outcome:
    return Outcome(0.0, False, f"{field.label} is missing")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _clip(text: str, limit: int = REASON_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any) -> str:
    """A short quoted rendering of a value for reasoning."""
    return json.dumps(_clip(_as_text(value)), ensure_ascii=False)


def _case_fold(case_sensitive: bool) -> Callable[[str], str]:
    return (lambda text: text) if case_sensitive else str.casefold


def _compare_fields(config: dict[str, Any], output: _Field, compare: Callable[[Any, Any, str, str], Outcome]) -> Check:
    """A check of outputs.<outputField> against expected.<expectedField>; missing either fails."""
    wanted = _Field("expected", config["expectedField"])

    def check(outputs: Any, expected: Any) -> Outcome:
        got, want = output.get(outputs), wanted.get(expected)
        if got is _MISSING:
            return _missing(output)
        if want is _MISSING:
            return _missing(wanted)
        return compare(got, want, output.label, wanted.label)

    return check


def _build_exact_match(config: dict[str, Any], output: _Field) -> Check:
    fold = _case_fold(config["caseSensitive"])
    trim = str.strip if config["trimWhitespace"] else (lambda text: text)
    case = "" if config["caseSensitive"] else " (ignoring case)"

    def compare(got: Any, want: Any, got_label: str, want_label: str) -> Outcome:
        passed = fold(trim(_as_text(got))) == fold(trim(_as_text(want)))
        verb = "matches" if passed else "does not match"
        return Outcome(float(passed), passed, f"{got_label} {_show(got)} {verb} {want_label} {_show(want)}{case}")

    return _compare_fields(config, output, compare)


def _build_contains(config: dict[str, Any], output: _Field) -> Check:
    fold = _case_fold(config["caseSensitive"])
    case = "" if config["caseSensitive"] else " (ignoring case)"

    def compare(got: Any, want: Any, got_label: str, want_label: str) -> Outcome:
        passed = fold(_as_text(want)) in fold(_as_text(got))
        verb = "contains" if passed else "does not contain"
        source = f" ({want_label})" if want_label else ""
        return Outcome(float(passed), passed, f"{got_label} {_show(got)} {verb} {_show(want)}{source}{case}")

    if "expectedField" in config:
        return _compare_fields(config, output, compare)
    fixed = config["value"]

    def check(outputs: Any, _expected: Any) -> Outcome:
        got = output.get(outputs)
        return _missing(output) if got is _MISSING else compare(got, fixed, output.label, "")

    return check


def _build_regex(config: dict[str, Any], output: _Field) -> Check:
    pattern = re.compile(config["pattern"], 0 if config["caseSensitive"] else re.IGNORECASE)
    find = pattern.fullmatch if config["fullMatch"] else pattern.search
    shown = f"/{_clip(config['pattern'])}/"

    def check(outputs: Any, _expected: Any) -> Outcome:
        got = output.get(outputs)
        if got is _MISSING:
            return _missing(output)
        passed = find(_as_text(got)) is not None
        verb = (
            ("fully matches" if passed else "does not fully match")
            if config["fullMatch"]
            else ("matches" if passed else "does not match")
        )
        return Outcome(float(passed), passed, f"{output.label} {_show(got)} {verb} pattern {shown}")

    return check


def _build_valid_json(config: dict[str, Any], output: _Field) -> Check:
    def check(outputs: Any, _expected: Any) -> Outcome:
        got = output.get(outputs)
        if got is _MISSING:
            return _missing(output)
        if not isinstance(got, str):
            return Outcome(1.0, True, f"{output.label} is already a JSON value ({type(got).__name__})")
        try:
            json.loads(got)
        except ValueError as exc:
            return Outcome(0.0, False, f"{output.label} {_show(got)} is not valid JSON: {exc}")
        return Outcome(1.0, True, f"{output.label} is valid JSON")

    return check


def _build_json_schema(config: dict[str, Any], output: _Field) -> Check:
    schema = config["schema"]
    cls = validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)

    def check(outputs: Any, _expected: Any) -> Outcome:
        got = output.get(outputs)
        if got is _MISSING:
            return _missing(output)
        if isinstance(got, str) and config["parseStrings"]:
            try:
                got = json.loads(got)
            except ValueError as exc:
                return Outcome(0.0, False, f"{output.label} is not JSON, so cannot match the schema: {exc}")
        try:
            error = best_match(validator.iter_errors(got))
        except Unresolvable as exc:
            return Outcome(0.0, False, f"the schema has a $ref that cannot be resolved: {exc}")
        if error is None:
            return Outcome(1.0, True, f"{output.label} conforms to the schema")
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        message = _clip(error.message, 2 * REASON_VALUE_CHARS)
        return Outcome(0.0, False, f"{output.label} violates the schema at {where}: {message}")

    return check


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, (int, float, str)) else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _build_numeric(config: dict[str, Any], output: _Field) -> Check:
    tolerance, relative = config["tolerance"], config["relative"]

    def compare(got: Any, want: Any, got_label: str, want_label: str) -> Outcome:
        got_number, want_number = _as_number(got), _as_number(want)
        if got_number is None or want_number is None:
            raw, label = (got, got_label) if got_number is None else (want, want_label)
            return Outcome(0.0, False, f"{label} {_show(raw)} is not a number")
        allowed = tolerance * abs(want_number) if relative else tolerance
        distance = abs(got_number - want_number)
        passed = distance <= allowed
        limit = f"{tolerance:g} x |expected| = {allowed:g}" if relative else f"{allowed:g}"
        verb = "within" if passed else "outside"
        return Outcome(
            float(passed),
            passed,
            f"{got_label} {got_number:g} differs from {want_label} "
            f"{want_number:g} by {distance:g}, {verb} tolerance {limit}",
        )

    return _compare_fields(config, output, compare)


def _build_similarity(config: dict[str, Any], output: _Field) -> Check:
    fold = _case_fold(config["caseSensitive"])
    threshold = config["threshold"]

    def compare(got: Any, want: Any, got_label: str, want_label: str) -> Outcome:
        a, b = fold(_as_text(got)), fold(_as_text(want))
        ratio = Levenshtein.normalized_similarity(a, b)
        passed = ratio >= threshold
        return Outcome(
            ratio,
            passed,
            f"{got_label} {_show(got)} is {ratio:.2f} similar to {want_label} {_show(want)} (threshold {threshold:g})",
        )

    return _compare_fields(config, output, compare)


class Heuristic(NamedTuple):
    settings: Callable[[dict[str, Any]], dict[str, Any]]  # normalises the type's own settings
    build: Callable[[dict[str, Any], _Field], Check]  # compiles a normalised config into a check


HEURISTICS: dict[str, Heuristic] = {
    "exact_match": Heuristic(_exact_match, _build_exact_match),
    "contains": Heuristic(_contains, _build_contains),
    "regex": Heuristic(_regex, _build_regex),
    "valid_json": Heuristic(_valid_json, _build_valid_json),
    "json_schema": Heuristic(_json_schema, _build_json_schema),
    "numeric": Heuristic(_numeric, _build_numeric),
    "similarity": Heuristic(_similarity, _build_similarity),
}
