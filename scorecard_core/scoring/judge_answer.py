"""The judge's answer read defensively: Scorecard's score from whatever text the model sent."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..errors import ScorecardError
from .shapes import SCORE_KEYS

TRUE_WORDS = {"true", "yes", "pass", "passed"}
FALSE_WORDS = {"false", "no", "fail", "failed"}
CODE_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)


class MalformedAnswer(ScorecardError):
    """The judge's answer holds no usable score; the message says what was wrong."""

    code = "MALFORMED_JUDGE_ANSWER"


def parse_score(text: str, output_type: str) -> dict[str, Any]:
    """Scorecard's score from the judge's answer, tolerating code fences, prose around the JSON
    and scores written as strings; raises :class:`MalformedAnswer` saying what is wrong."""
    if not text.strip():
        raise MalformedAnswer("the answer was empty")
    answer = _find_score_object(text, SCORE_KEYS[output_type])
    if answer is None:
        raise MalformedAnswer('the answer held no JSON object with a "score"')
    value = answer.get("score", answer.get(SCORE_KEYS[output_type]))
    reasoning = answer.get("reasoning")
    if not isinstance(reasoning, str):
        reasoning = "" if reasoning is None else json.dumps(reasoning)
    return {SCORE_KEYS[output_type]: _coerce_score(value, output_type), "reasoning": reasoning}


def _find_score_object(text: str, scorecard_key: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    for candidate in [*CODE_FENCE.findall(text), text]:
        for start in (i for i, char in enumerate(candidate) if char == "{"):
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except ValueError:
                continue
            if isinstance(value, dict) and ("score" in value or scorecard_key in value):
                return value
    return None


def _coerce_score(value: Any, output_type: str) -> bool | int | float:
    if output_type == "boolean":
        if isinstance(value, bool):
            return value
        word = value.strip().lower() if isinstance(value, str) else None
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise MalformedAnswer(f"score {value!r} is not true or false")
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise MalformedAnswer(f"score {value!r} is not a number") from None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
        raise MalformedAnswer(f"score {value!r} is not a number")
    if output_type == "int":
        if number != int(number) or not 1 <= number <= 5:
            raise MalformedAnswer(f"score {value!r} is not an integer from 1 to 5")
        return int(number)
    if not 0 <= number <= 1:
        raise MalformedAnswer(f"score {value!r} is not a number from 0 to 1")
    return float(number)
