"""Untrusted text made storable by every supported database, at the boundary where it enters.

PostgreSQL refuses NUL in text columns and ``\\u0000`` in JSONB, and no driver can encode an
unpaired UTF-16 surrogate (not valid Unicode, yet Python's JSON parser makes one of ``"\\ud800"``).
One such character fails the whole transaction that holds it, so judge answers, request bodies and
webhook payloads pass through here before they are stored; each character becomes U+FFFD, so the
stored text shows where something was.

Other control characters are kept: both databases store them, they may matter to the text's owner
(tabs, ANSI colours in a system's output), and every place that renders text escapes it there.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
# Python strings hold code points: a surrogate in one is always unpaired (JSON's pairs are joined).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# JSON text can only spell either as an escape: strings may not hold raw control characters, and
# strict UTF-8 decoding refuses an encoded surrogate. (A false alarm only costs a walk.)
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def first_unstorable(text: str) -> str | None:
    """The first character of ``text`` no database can store (NUL or a surrogate), or None."""
    found = _UNSTORABLE.search(text)
    return found.group() if found else None


def storable_text(text: str) -> str:
    """``text`` with NUL and unpaired surrogates replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def storable_json(value: Any) -> Any:
    """A parsed JSON value with every string in it, object keys included, made storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(k) if isinstance(k, str) else k: storable_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_json(item) for item in value]
    return value


def load_json(text: str, **options: Any) -> Any:
    """``json.loads(text, **options)`` made storable; ``text`` must come from strict UTF-8 decoding.
    Text without an escape that could spell NUL or a surrogate is returned as parsed, unwalked:
    request bodies are large and almost never need it."""
    value = json.loads(text, **options)
    return storable_json(value) if _UNSTORABLE_ESCAPE.search(text) else value
