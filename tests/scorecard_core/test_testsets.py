"""Testsets: schema checks, the fieldMapping split, and testcase validation errors by JSON pointer."""

from __future__ import annotations

import pytest

from scorecard_core.errors import InvalidField
from scorecard_core.testsets import TestcaseValidator, check_schema, normalize_field_mapping, split
from tests.scorecard_core.conftest import SCHEMA


def test_an_invalid_schema_is_refused_naming_the_field():
    check_schema(SCHEMA)
    with pytest.raises(InvalidField) as refused:
        check_schema({"type": "text"}, field="testset.jsonSchema")
    assert refused.value.field == "testset.jsonSchema"
    assert "is not a valid JSON Schema" in refused.value.message


def test_every_role_is_present_and_unnamed_properties_become_metadata():
    mapping = normalize_field_mapping({"inputs": ["question", "question"], "expected": ["answer"]}, SCHEMA)
    assert mapping == {"inputs": ["question"], "expected": ["answer"], "metadata": ["topic"]}
    assert normalize_field_mapping(None, {}) == {"inputs": [], "expected": [], "metadata": []}


@pytest.mark.parametrize("names", ["question", [1], {"a": "b"}])
def test_a_role_must_list_field_names(names):
    with pytest.raises(InvalidField) as refused:
        normalize_field_mapping({"expected": names}, SCHEMA)
    assert refused.value.field == "fieldMapping.expected"


def test_split_takes_inputs_and_expected_by_the_mapping_and_skips_missing_fields():
    mapping = {"inputs": ["question", "context"], "expected": ["answer"], "metadata": ["topic"]}
    data = {"question": "q", "answer": "a", "topic": "t"}
    assert split(mapping, data) == ({"question": "q"}, {"answer": "a"})


def test_a_valid_testcase_has_no_errors():
    assert TestcaseValidator(SCHEMA).errors({"question": "q", "answer": "a"}) is None


def test_errors_point_at_the_offending_value_in_path_order():
    schema = {
        "type": "object",
        "properties": {"a/b": {"type": "integer"}, "items": {"type": "array", "items": {"type": "string"}}},
        "required": ["must"],
    }
    errors = TestcaseValidator(schema).errors({"a/b": "x", "items": ["ok", 3]})
    assert [e["path"] for e in errors] == ["", "/a~1b", "/items/1"]
    assert "'must' is a required property" in errors[0]["message"]
    assert "'x' is not of type 'integer'" in errors[1]["message"]


def test_a_ref_that_cannot_be_resolved_blames_the_testsets_schema():
    validator = TestcaseValidator({"properties": {"x": {"$ref": "#/$defs/missing"}}})
    assert validator.errors({}) is None  # the $ref is only followed when data reaches it
    with pytest.raises(InvalidField) as refused:
        validator.errors({"x": 1})
    assert refused.value.field == "jsonSchema"
    assert "cannot be resolved" in refused.value.message
