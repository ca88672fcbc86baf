"""Built-in heuristics: each passes, fails and rejects bad config with a message naming the setting."""

from __future__ import annotations

import random
import time

import pytest

from scorecard_core.errors import InvalidField
from scorecard_core.scoring.heuristics import HEURISTICS, score, validate_config

PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name"],
}

EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}
CONTAINS_FIELD = {"type": "contains", "outputField": "answer", "expectedField": "city"}
CONTAINS_VALUE = {"type": "contains", "outputField": "answer", "value": "Paris", "caseSensitive": False}
REGEX = {"type": "regex", "outputField": "answer", "pattern": r"^\d{3}-\d{4}$"}
VALID_JSON = {"type": "valid_json", "outputField": "raw"}
SCHEMA = {"type": "json_schema", "outputField": "raw", "schema": PERSON_SCHEMA}
NUMERIC = {"type": "numeric", "outputField": "total", "expectedField": "total", "tolerance": 0.5}
RELATIVE = {**NUMERIC, "tolerance": 0.1, "relative": True}
SIMILAR = {"type": "similarity", "outputField": "answer", "expectedField": "answer", "threshold": 0.8}

# (config, outputs, expected, passes, words the reasoning must contain)
CASES = [
    (EXACT, {"answer": " Paris "}, {"answer": "Paris"}, True, "matches expected.answer"),
    (EXACT, {"answer": "paris"}, {"answer": "Paris"}, False, "does not match"),
    ({**EXACT, "caseSensitive": False}, {"answer": "paris"}, {"answer": "Paris"}, True, "ignoring case"),
    ({**EXACT, "trimWhitespace": False}, {"answer": "Paris "}, {"answer": "Paris"}, False, "does not match"),
    (EXACT, {"answer": 42}, {"answer": "42"}, True, "matches"),
    (
        {**EXACT, "outputField": "result.items.1.name"},
        {"result": {"items": [{}, {"name": "b"}]}},
        {"answer": "b"},
        True,
        "outputs.result.items.1.name",
    ),
    (CONTAINS_FIELD, {"answer": "It is Paris."}, {"city": "Paris"}, True, 'contains "Paris" (expected.city)'),
    (CONTAINS_FIELD, {"answer": "It is Lyon."}, {"city": "Paris"}, False, "does not contain"),
    (CONTAINS_VALUE, {"answer": "PARIS, France"}, {}, True, 'contains "Paris"'),
    (CONTAINS_VALUE, {"answer": "Lyon"}, {}, False, "does not contain"),
    (REGEX, {"answer": "555-1234"}, {}, True, "matches pattern /^\\d{3}-\\d{4}$/"),
    (REGEX, {"answer": "call 555-1234"}, {}, False, "does not match"),
    ({**REGEX, "pattern": "paris", "caseSensitive": False}, {"answer": "In PARIS"}, {}, True, "matches"),
    ({**REGEX, "pattern": "a+", "fullMatch": True}, {"answer": "aab"}, {}, False, "does not fully match"),
    (VALID_JSON, {"raw": '{"a": [1, 2]}'}, {}, True, "is valid JSON"),
    (VALID_JSON, {"raw": "{'a': 1}"}, {}, False, "is not valid JSON"),
    (VALID_JSON, {"raw": {"a": 1}}, {}, True, "already a JSON value"),
    (SCHEMA, {"raw": '{"name": "Ada", "age": 36}'}, {}, True, "conforms to the schema"),
    (SCHEMA, {"raw": {"name": "Ada", "age": -1}}, {}, False, "violates the schema at /age"),
    (SCHEMA, {"raw": '{"age": 3}'}, {}, False, "'name' is a required property"),
    (SCHEMA, {"raw": "not json"}, {}, False, "is not JSON"),
    ({**SCHEMA, "schema": {"type": "string"}, "parseStrings": False}, {"raw": "hi"}, {}, True, "conforms"),
    ({**SCHEMA, "schema": {"$ref": "#/$defs/missing"}}, {"raw": {}}, {}, False, "cannot be resolved"),
    (NUMERIC, {"total": "10.4"}, {"total": 10}, True, "by 0.4, within tolerance 0.5"),
    (NUMERIC, {"total": 11}, {"total": 10}, False, "outside tolerance"),
    (NUMERIC, {"total": "ten"}, {"total": 10}, False, 'outputs.total "ten" is not a number'),
    (NUMERIC, {"total": True}, {"total": 1}, False, "is not a number"),
    (RELATIVE, {"total": 1090}, {"total": 1000}, True, "within tolerance 0.1 x |expected| = 100"),
    (RELATIVE, {"total": 1200}, {"total": 1000}, False, "outside tolerance"),
    (SIMILAR, {"answer": "The capital is Paris"}, {"answer": "The capital is Paris."}, True, "threshold 0.8"),
    (SIMILAR, {"answer": "Lyon"}, {"answer": "The capital is Paris."}, False, "similar to expected.answer"),
    ({**SIMILAR, "caseSensitive": False}, {"answer": "PARIS"}, {"answer": "paris"}, True, "is 1.00 similar"),
]


@pytest.mark.parametrize("config, outputs, expected, passes, reason", CASES)
def test_heuristic_passes_or_fails_with_reasoning(config, outputs, expected, passes, reason):
    result = score(config, "boolean", {}, outputs, expected)
    assert result["binaryScore"] is passes
    assert reason in result["reasoning"]


def test_every_heuristic_has_passing_and_failing_cases():
    outcomes = {(config["type"], passes) for config, _o, _e, passes, _r in CASES}
    assert outcomes == {(kind, passes) for kind in HEURISTICS for passes in (True, False)}


@pytest.mark.parametrize("config", [EXACT, CONTAINS_VALUE, REGEX, VALID_JSON, SCHEMA, NUMERIC, SIMILAR])
def test_missing_output_field_is_a_failing_score(config):
    assert score(config, "boolean", {}, {"other": 1}, {"answer": "x", "total": 1}) == {
        "binaryScore": False,
        "reasoning": f"outputs.{config['outputField']} is missing",
    }
    assert score(config, "int", {}, None, None)["intScore"] == 1


@pytest.mark.parametrize("config", [EXACT, CONTAINS_FIELD, NUMERIC, SIMILAR])
def test_missing_expected_field_is_a_failing_score(config):
    outputs = {"answer": "x", "total": 1}
    result = score(config, "float", {}, outputs, {"unrelated": 1})
    assert result == {"floatScore": 0.0, "reasoning": f"expected.{config['expectedField']} is missing"}


def test_output_types_shape_the_score():
    outputs, expected = {"answer": "abcd"}, {"answer": "abce"}
    assert score(SIMILAR, "float", {}, outputs, expected)["floatScore"] == 0.75
    assert score(SIMILAR, "boolean", {}, outputs, expected)["binaryScore"] is False
    assert score(SIMILAR, "int", {}, outputs, expected)["intScore"] == 4  # 1 + 4 * (1 - 1/4)
    assert score(EXACT, "int", {}, outputs, outputs)["intScore"] == 5
    assert score(EXACT, "float", {}, outputs, expected)["floatScore"] == 0.0


def _textbook_similarity(a: str, b: str) -> float:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return 1 - previous[-1] / max(len(a), len(b), 1)


def test_similarity_is_one_minus_normalised_edit_distance():
    rng = random.Random(7)
    pairs = [("kitten", "sitting"), ("abc", "abd"), ("flaw", "lawn"), ("a" * 300, "ab" * 40), ("é✓", "e✓")]
    for _ in range(200):
        pairs.append(tuple("".join(rng.choice("abcd") for _ in range(rng.randint(1, 70))) for _ in "ab"))
    for a, b in pairs:
        got = score(SIMILAR, "float", {}, {"answer": a}, {"answer": b})["floatScore"]
        assert got == round(_textbook_similarity(a, b), 4), (a, b)


def test_long_values_are_truncated_in_reasoning():
    long_text = "x" * 5000
    reasoning = score(EXACT, "boolean", {}, {"answer": long_text}, {"answer": "y"})["reasoning"]
    assert len(reasoning) < 200 and "..." in reasoning


def test_validate_config_fills_defaults():
    assert validate_config({"type": "similarity", "outputField": "a", "expectedField": "b"}, "float") == {
        "type": "similarity",
        "outputField": "a",
        "expectedField": "b",
        "threshold": 0.8,
        "caseSensitive": True,
    }
    assert validate_config(CONTAINS_VALUE, "boolean") == CONTAINS_VALUE
    assert validate_config(VALID_JSON, "int") == VALID_JSON


# (config, field named in the error, words the message must contain)
BAD_CONFIGS = [
    (None, "heuristic", "is required for a heuristic metric"),
    (["exact_match"], "heuristic", "must be a JSON object"),
    ({"outputField": "a"}, "heuristic.type", "must be one of exact_match, contains, regex"),
    ({"type": "levenshtein", "outputField": "a"}, "heuristic.type", 'got "levenshtein"'),
    ({"type": "valid_json"}, "heuristic.outputField", "is required"),
    ({"type": "valid_json", "outputField": "a..b"}, "heuristic.outputField", "empty segment"),
    ({"type": "valid_json", "outputField": "a", "pattern": "x"}, "heuristic.pattern", "not a setting of valid_json"),
    ({**EXACT, "expectedField": None}, "heuristic.expectedField", "is required"),
    ({**EXACT, "casesensitive": False}, "heuristic.casesensitive", "caseSensitive"),
    ({**EXACT, "caseSensitive": "no"}, "heuristic.caseSensitive", "must be true or false"),
    ({"type": "contains", "outputField": "a"}, "heuristic.value", "or `heuristic.expectedField` is required"),
    ({**CONTAINS_FIELD, "value": "x"}, "heuristic.value", "give only one"),
    ({**CONTAINS_VALUE, "value": ""}, "heuristic.value", "non-empty string"),
    ({**REGEX, "pattern": "(unclosed"}, "heuristic.pattern", "not a valid regular expression"),
    ({"type": "regex", "outputField": "a"}, "heuristic.pattern", "is required"),
    ({**REGEX, "fullMatch": 1}, "heuristic.fullMatch", "must be true or false"),
    ({"type": "json_schema", "outputField": "a"}, "heuristic.schema", "is required"),
    ({**SCHEMA, "schema": {"type": "strng"}}, "heuristic.schema", "not a valid JSON Schema at /type"),
    ({**SCHEMA, "schema": "object"}, "heuristic.schema", "is required"),
    ({**NUMERIC, "tolerance": -1}, "heuristic.tolerance", "must be zero or more"),
    ({**NUMERIC, "tolerance": "0.5"}, "heuristic.tolerance", "must be a number"),
    ({**NUMERIC, "expectedField": ""}, "heuristic.expectedField", "is required"),
    ({**SIMILAR, "threshold": 1.5}, "heuristic.threshold", "between 0 and 1"),
    ({**SIMILAR, "expectedField": 3}, "heuristic.expectedField", "is required"),
]


@pytest.mark.parametrize("config, field, problem", BAD_CONFIGS)
def test_bad_config_names_the_setting(config, field, problem):
    with pytest.raises(InvalidField) as caught:
        validate_config(config, "boolean")
    assert caught.value.field == field
    assert problem in caught.value.message


def test_every_heuristic_has_bad_config_cases():
    named = {
        config["type"]
        for config, field, _p in BAD_CONFIGS
        if isinstance(config, dict) and "type" in config and field not in ("heuristic.type", "heuristic.outputField")
    }
    assert named == set(HEURISTICS)


def test_unknown_output_type_is_rejected():
    with pytest.raises(InvalidField) as caught:
        validate_config(EXACT, "text")
    assert caught.value.field == "outputType"


def test_score_rejects_a_bad_stored_config():
    with pytest.raises(InvalidField, match="heuristic.pattern"):
        score({**REGEX, "pattern": "["}, "boolean", {}, {"answer": "x"}, {})


def test_throughput(capsys):
    """Thousands of records per run: print each heuristic's rate (no assertion; the machine is shared)."""
    samples = {config["type"]: (config, outputs, expected) for config, outputs, expected, *_ in CASES}
    answer = "The capital of France is Paris, which sits on the Seine and has about two million residents."
    samples["similarity, 2x95 chars"] = (SIMILAR, {"answer": answer}, {"answer": answer.replace("two", "2.1")})
    rates = {}
    for kind, (config, outputs, expected) in samples.items():
        count, started = 2000, time.perf_counter()
        for _ in range(count):
            score(config, "float", {}, outputs, expected)
        rates[kind] = count / (time.perf_counter() - started)
    with capsys.disabled():
        print("\nheuristic scores/s: " + ", ".join(f"{kind} {rate:,.0f}" for kind, rate in rates.items()))
