"""Regular expressions users give to match span names (the Traces page's filter, a monitor's
``spanName``): checked before any is run, since Python's ``re`` and SQLite's matcher backtrack."""

from __future__ import annotations

import re

from .errors import InvalidField

MAX_PATTERN_CHARS = 200


def check_name_pattern(pattern: str, field: str) -> None:
    """Refuse, naming ``field``, a pattern too long, invalid, or that could match for ever."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InvalidField(field, f"is longer than {MAX_PATTERN_CHARS} characters; shorten the pattern")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise InvalidField(
            field, f"is not a valid regular expression ({exc}); `^chat` matches names starting with chat"
        ) from None
    if _nests_repetition(pattern):
        raise InvalidField(
            field, "repeats a group that itself repeats (like `(a+)+`), which can take forever to match; simplify it"
        )


def _nests_repetition(pattern: str) -> bool:
    """Whether a repeated group holds a repetition: the shape that makes a backtracking matcher
    (SQLite's, Python's ``re``) take exponential time on a span name that almost matches."""
    repeats = [False]  # per open group (and the whole pattern): whether it holds a repetition
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 1
        elif char == "[":  # a class: its * + { are literal
            index = pattern.find("]", index + 2)
            index = len(pattern) if index < 0 else index
        elif char == "(":
            repeats.append(False)
        elif char == ")" and len(repeats) > 1:
            inner = repeats.pop()
            if pattern[index + 1 : index + 2] in ("*", "+", "{"):
                if inner:
                    return True
                repeats[-1] = True
            repeats[-1] = repeats[-1] or inner
        elif char in "*+{":
            repeats[-1] = True
        index += 1
    return False
