"""Untrusted text is made storable: NUL and unpaired surrogates become U+FFFD, nothing else changes."""

from __future__ import annotations

import json

from scorecard_core.storable import load_json, storable_json, storable_text


def test_nul_and_unpaired_surrogates_become_the_replacement_character():
    assert storable_text("a\x00b\ud800c\udfffd") == "a\ufffdb\ufffdc\ufffdd"
    # A pair written as JSON escapes is one code point, kept; so are tabs, newlines, other controls.
    kept = json.loads('"\\ud83d\\ude00 \\t\\n\\r \\u0001 \\u001b[31m \\u007f caf\\u00e9"')
    assert storable_text(kept) == kept


def test_every_string_in_a_json_value_is_cleaned_keys_included():
    value = json.loads('{"k\\u0000": ["\\ud800", {"deep": "x\\u0000"}], "n": 1.5, "b": true, "none": null}')
    assert storable_json(value) == {"k\ufffd": ["\ufffd", {"deep": "x\ufffd"}], "n": 1.5, "b": True, "none": None}


def test_json_text_is_parsed_and_made_storable():
    clean = '{"caf\\u00e9": ["\\u2603 \\t", 1]}'
    parsed = json.loads(clean)
    assert load_json(clean) == parsed
    assert load_json('{"a\\u0000": "\\uD800", "b": "\\ud83d\\ude00"}') == {"a\ufffd": "\ufffd", "b": "\U0001f600"}
    assert load_json("[1e5]", parse_float=str) == ["1e5"]  # options reach json.loads
