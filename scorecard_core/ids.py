"""Integer IDs as clients send them: strings of ASCII digits that a 64-bit key column can hold.

Anything else (negative, fractional, non-ASCII digits such as "²", or above 2^63-1) names no
row, so callers answer 404 for a path and 400 naming the field for a body or query parameter,
before any database sees a value it would overflow on.
"""

from __future__ import annotations

from typing import Any

MAX_ID = 2**63 - 1  # the largest BIGINT (PostgreSQL) and SQLite INTEGER
MAX_ID_DIGITS = len(str(MAX_ID))
ID_PROBLEM = f'must be a numeric ID from 0 to {MAX_ID}, such as "123"'


def parse_id(value: Any) -> int | None:
    """The ID ``value`` spells (a digit string, or an int), or None when no key could hold it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= MAX_ID else None
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS):
        return None  # the length check comes first: int() of a huge string is slow, then refused
    number = int(value)
    return number if number <= MAX_ID else None


def _at_most(bound: str) -> str:
    """A regular expression for digit strings of ``len(bound)`` digits whose value is <= bound."""
    choices = []
    for position, digit in enumerate(bound):
        if digit != "0":
            rest = len(bound) - position - 1
            lower = "0" if digit == "1" else f"[0-{int(digit) - 1}]"
            choices.append(bound[:position] + lower + (f"[0-9]{{{rest}}}" if rest else ""))
    return "|".join([*choices, bound])


# The JSON Schema pattern of exactly the strings ``parse_id`` accepts (for the OpenAPI document).
ID_PATTERN = f"^(?:[0-9]{{1,{MAX_ID_DIGITS - 1}}}|{_at_most(str(MAX_ID))})$"
