"""Importing testcases from CSV and JSONL: cells converted by the schema's types, refused rows
reported by line with the reason, whole files refused when they are not what they claim, and the
export read back unchanged."""

from __future__ import annotations

import pytest

from scorecard_core.errors import InvalidField
from scorecard_core.testcase_export import csv_text, jsonl_text, neutralized, restore_cell
from scorecard_core.testcase_import import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, file_format, import_rows

SCHEMA = {
    "type": "object",
    "properties": {
        "question": {"type": "string"},
        "count": {"type": "integer"},
        "weight": {"type": "number"},
        "strict": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "extra": {"type": "object"},
        "note": {"type": ["string", "null"]},
        "free": {},
    },
    "required": ["question"],
}


def imported(text: str, filename: str = "cases.csv", schema: dict = SCHEMA, chosen: str = ""):
    return import_rows(text.encode(), filename, chosen, schema)


def reasons(result) -> dict[int, str]:
    return {p.line: p.reason for p in result.problems}


def test_csv_cells_take_the_schema_types():
    result = imported(
        "question,count,weight,strict,tags,extra,note,free\n"
        'What?,3,2.5,TRUE,"[""a"", ""b""]","{""k"": 1}",null,42\n'
        "Why?,-7,4,false,,,text,\n"
    )
    assert result.problems == []
    assert [row.data for row in result.rows] == [
        {
            "question": "What?",
            "count": 3,
            "weight": 2.5,
            "strict": True,
            "tags": ["a", "b"],
            "extra": {"k": 1},
            "note": None,
            "free": "42",  # a column without a type stays text
        },
        {"question": "Why?", "count": -7, "weight": 4, "strict": False, "note": "text"},
    ]
    assert [row.line for row in result.rows] == [2, 3]


def test_csv_rows_that_do_not_fit_are_reported_by_line_and_the_rest_imported():
    result = imported(
        "question,count,strict\n"
        "ok one,1,true\n"
        "\n"  # a blank line still counts as a line
        "bad count,many,true\n"
        '"spans\ntwo lines",2,true\n'
        ",3,true\n"
        "bad bool,4,maybe\n"
        "short row,5\n"
        "ok two,6,false\n"
    )
    assert [row.line for row in result.rows] == [2, 5, 10]
    assert result.rows[1].data["question"] == "spans\ntwo lines"
    found = reasons(result)
    assert set(found) == {4, 7, 8, 9}
    assert found[4] == 'column count: "many" is not an integer, as the schema requires'
    assert "'question' is a required property" in found[7]
    assert found[8] == 'column strict: "maybe" is not a boolean (true or false), as the schema requires'
    assert found[9] == "has 2 cells but the header names 3 columns"


def test_jsonl_rows_are_reported_by_line():
    result = imported(
        '{"question": "a", "count": 1}\n'
        "[1, 2]\n"
        "{not json\n"
        "\n"
        '{"question": 5}\n'
        '{"question": "b", "weight": NaN}\n'
        '{"question": "c", "weight": 1e999}\n'
        '{"question": "d", "tags": ["x"]}\n',
        "cases.jsonl",
    )
    assert [(row.line, row.data) for row in result.rows] == [
        (1, {"question": "a", "count": 1}),
        (8, {"question": "d", "tags": ["x"]}),
    ]
    found = reasons(result)
    assert found[2] == "is a JSON array; each line must be a JSON object"
    assert found[3].startswith("is not valid JSON (")
    assert found[5] == "does not match the schema (/question: 5 is not of type 'string')"
    assert "NaN is not a JSON value" in found[6]
    assert "too large to store" in found[7]


@pytest.mark.parametrize(
    ("content", "filename", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "picture.csv", "is not UTF-8 text (byte 0"),
        (b"  \n\n", "cases.csv", "is empty"),
        (b"name,age\nAda,36\n", "people.csv", "names none of the schema's fields (question, count"),
        (b'{"question": "a json file"}\n', "cases.csv", "names none of the schema's fields"),
        (b'question,count\n"never closed,1\n', "cases.csv", "is not valid CSV at line 2"),
        (b"question,question\na,b\n", "cases.csv", "names the column question twice"),
        (b"question,,count\na,b,1\n", "cases.csv", "has a column without a name (column 2"),
        (b"question,count\nWhat?,1\n", "cases.jsonl", "is not JSONL: no line is JSON"),
    ],
)
def test_a_malformed_file_is_refused_whole(content, filename, says):
    with pytest.raises(InvalidField) as refused:
        import_rows(content, filename, "", SCHEMA)
    assert refused.value.field == "file"
    assert says in refused.value.message
    assert refused.value.message.endswith("Nothing was imported.")


def test_size_and_row_limits_refuse_the_file():
    with pytest.raises(InvalidField, match="files up to 5 MB"):
        import_rows(b"q" * (MAX_IMPORT_BYTES + 1), "big.csv", "", SCHEMA)
    many = "question\n" + "a\n" * (MAX_IMPORT_ROWS + 1)
    with pytest.raises(InvalidField, match="more than 10,000 rows"):
        imported(many)
    assert len(imported("question\n" + "a\n" * MAX_IMPORT_ROWS).rows) == MAX_IMPORT_ROWS


def test_the_format_comes_from_the_choice_then_the_name_then_the_content():
    assert file_format("x.txt", "csv", "{") == "csv"
    assert file_format("x.CSV", "", "{") == "csv"
    assert file_format("x.ndjson", "", "a,b") == "jsonl"
    assert file_format("upload", "", '  {"a": 1}') == "jsonl"
    assert file_format("upload", "", "a,b") == "csv"
    with pytest.raises(InvalidField, match="`format` must be one of csv, jsonl"):
        file_format("x.csv", "xlsx", "")


def test_a_bom_and_windows_line_ends_are_read():
    result = imported("\ufeffquestion,count\r\nWhat?,1\r\n")
    assert [row.data for row in result.rows] == [{"question": "What?", "count": 1}]


def test_nul_characters_are_made_storable():
    result = imported('{"question": "a\\u0000b"}\n', "cases.jsonl")
    assert result.rows[0].data == {"question": "a\ufffdb"}


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-x", "@me", "\tTab", "'=already", "''+two", "'plain", "plain"])
def test_formula_neutralizing_round_trips(text):
    cell = neutralized(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restore_cell(cell) == text


def test_the_csv_and_jsonl_exports_import_back_unchanged():
    testcases = [
        {
            "question": '=HYPERLINK("http://x")',
            "count": -3,
            "weight": 0.25,
            "strict": True,
            "tags": ["a,b", 'q"'],
            "extra": {"nested": [1, None]},
            "note": None,
        },
        {"question": "line\nbreak, comma", "count": 0, "strict": False, "note": "n"},
        {"question": "'@quoted", "weight": -1.5},
    ]
    csv_file = "".join(csv_text(list(SCHEMA["properties"]), testcases))
    assert "\n\"'=HYPERLINK" in csv_file  # neutralized for spreadsheets
    assert [row.data for row in imported(csv_file).rows] == testcases
    jsonl_file = "".join(jsonl_text(testcases))
    assert [row.data for row in imported(jsonl_file, "cases.jsonl").rows] == testcases


def test_a_schema_without_properties_takes_any_columns_as_text():
    result = imported("a,b\n1,true\n", schema={"type": "object"})
    assert [row.data for row in result.rows] == [{"a": "1", "b": "true"}]
