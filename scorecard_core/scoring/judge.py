"""The LLM judge: scores one record with an AI metric through any OpenAI-compatible endpoint.

Nothing the model or the endpoint does makes :func:`judge_record` raise: rate limits and server
errors are retried by the openai client (which honours Retry-After), bodies it cannot read (cut
short, not JSON) are retried here the same way, unusable answers are re-asked, and whatever still
fails comes back as a :class:`JudgeResult` with an ``error`` that says why. Every text that comes
back is storable (see ``storable``): a NUL in an answer cannot poison the write that stores it.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
import openai
from jinja2.sandbox import SandboxedEnvironment
from openai.types.chat import ChatCompletion

from ..errors import ScorecardError
from ..metrics import DEFAULT_EVAL_MODEL
from ..model_errors import describe_model_error
from ..storable import storable_json, storable_text
from .prompts import DEFAULT_PROMPT_TEMPLATE, correction_prompt, system_prompt
from .shapes import SCORE_KEYS

# Transport retries (429, 408, 409, 5xx, connection errors), done by the openai client with
# exponential backoff, or exactly the server's Retry-After when it sends one.
MAX_RETRIES = 4
REQUEST_TIMEOUT_SECONDS = 60.0
# The openai client's backoff, for the retries of unreadable bodies done here.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
BODY_EXCERPT_CHARS = 200
# Answers that are not a usable score are re-asked this many more times.
MALFORMED_ANSWER_RETRIES = 2

NO_API_KEY = "no API key for the judge: set OPENAI_API_KEY (any value for a server that needs none, such as Ollama)"
STATUS_HINTS = {
    401: " Check OPENAI_API_KEY.",
    403: " Check that OPENAI_API_KEY may use this model.",
    404: " Check the metric's evalModelName and SCORECARD_OPENAI_BASE_URL / OPENAI_BASE_URL.",
}

SCORE_SCHEMAS: dict[str, dict[str, Any]] = {
    "boolean": {"type": "boolean"},
    "int": {"type": "integer", "minimum": 1, "maximum": 5},
    "float": {"type": "number", "minimum": 0, "maximum": 1},
}
TRUE_WORDS = {"true", "yes", "pass", "passed"}
FALSE_WORDS = {"false", "no", "fail", "failed"}
CODE_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class JudgeResult:
    """``score`` in Scorecard's shape ({"binaryScore"|"intScore"|"floatScore": v, "reasoning": str})
    or ``error``; ``raw`` keeps the judge's last answer text when it could not be used. ``usage``
    is what the judge was paid for, summed over re-asks (see :func:`usage_of`); None when it was
    never asked."""

    score: dict[str, Any] | None
    error: str | None = None
    raw: str | None = None
    usage: dict[str, Any] | None = None


@dataclass(frozen=True)
class Judgement:
    """What the judge is asked for one record: everything that determines its answer."""

    model: str
    temperature: float
    output_type: str
    system_prompt: str
    prompt: str


def usage_of(model: str, prompt_tokens: int = 0, completion_tokens: int = 0, cached: bool = False) -> dict[str, Any]:
    """A score's usage on the wire: the model asked and its tokens; ``cached`` when the judgement
    came from the judge cache (the tokens are then those the first asking paid for)."""
    return {
        "model": model,
        "promptTokens": prompt_tokens,
        "completionTokens": completion_tokens,
        "totalTokens": prompt_tokens + completion_tokens,
        "cached": cached,
    }


class MalformedAnswer(ScorecardError):
    """The judge's answer holds no usable score; the message says what was wrong."""

    code = "MALFORMED_JUDGE_ANSWER"


class UnreadableBody(ScorecardError):
    """The endpoint answered with success but a body that is no chat completion, on every try."""

    code = "UNREADABLE_JUDGE_ANSWER"


def judge_record(
    metric: Mapping[str, Any],
    *,
    inputs: Mapping[str, Any] | None,
    outputs: Mapping[str, Any] | None,
    expected: Mapping[str, Any] | None,
    base_url: str,
    api_key: str | None,
    max_retries: int = MAX_RETRIES,
) -> JudgeResult:
    """Score one record with an AI metric (a config dict as built by ``metrics.metric_config``)
    at the OpenAI-compatible ``base_url`` (the settings' ``openai_base_url`` and
    ``openai_api_key``). ``max_retries`` bounds the transport retries.
    """
    judgement = prepare(metric, inputs=inputs, outputs=outputs, expected=expected)
    if isinstance(judgement, JudgeResult):
        return judgement
    if not api_key:
        return JudgeResult(None, NO_API_KEY)
    return _ask_until_usable(client_for(base_url, api_key, max_retries), judgement)


def prepare(
    metric: Mapping[str, Any],
    *,
    inputs: Mapping[str, Any] | None,
    outputs: Mapping[str, Any] | None,
    expected: Mapping[str, Any] | None,
) -> Judgement | JudgeResult:
    """The judgement to ask for, or a result with the error that prevents asking."""
    name = metric.get("name")
    output_type = metric.get("output_type")
    if output_type not in SCORE_SCHEMAS:
        return JudgeResult(None, f"metric {name!r} has outputType {output_type!r}; expected boolean, int or float")
    try:
        prompt = render_prompt(
            metric.get("prompt_template") or DEFAULT_PROMPT_TEMPLATE,
            inputs=inputs,
            outputs=outputs,
            expected=expected,
            guidelines=metric.get("guidelines"),
        )
    except Exception as exc:  # noqa: BLE001  (user-written template code can raise anything)
        return JudgeResult(None, f"promptTemplate of metric {name!r} could not be rendered: {exc}")
    temperature = metric.get("temperature")
    return Judgement(
        model=metric.get("eval_model_name") or DEFAULT_EVAL_MODEL,
        temperature=0.0 if temperature is None else temperature,
        output_type=output_type,
        system_prompt=system_prompt(output_type),
        prompt=prompt,
    )


def _ask_until_usable(client: openai.OpenAI, judgement: Judgement) -> JudgeResult:
    model, output_type = judgement.model, judgement.output_type
    messages = [{"role": "system", "content": judgement.system_prompt}, {"role": "user", "content": judgement.prompt}]
    correction: list[dict[str, str]] = []
    problem = raw = ""
    prompt_tokens = completion_tokens = 0
    attempts = 1 + MALFORMED_ANSWER_RETRIES
    for attempt in range(attempts):
        try:
            completion = _complete(
                client,
                model=model,
                temperature=judgement.temperature,
                messages=messages + correction,
                response_format=response_format(output_type),
            )
        except (openai.OpenAIError, UnreadableBody) as exc:
            error = describe_api_error(exc, client, model) if isinstance(exc, openai.OpenAIError) else str(exc)
            # Earlier answers of this score were paid for even though none was usable.
            paid = usage_of(model, prompt_tokens, completion_tokens) if attempt else None
            return JudgeResult(None, storable_text(error), usage=paid)
        prompt_tokens += _tokens(completion, "prompt_tokens")
        completion_tokens += _tokens(completion, "completion_tokens")
        usage = usage_of(model, prompt_tokens, completion_tokens)
        raw = storable_text(_answer_text(completion))
        try:
            # The answer's JSON can spell a NUL or a lone surrogate as an escape (\u0000).
            return JudgeResult(storable_json(parse_score(raw, output_type)), usage=usage)
        except MalformedAnswer as exc:
            problem = str(exc)
            correction = [
                {"role": "assistant", "content": raw},
                {"role": "user", "content": correction_prompt(output_type, problem)},
            ]
    error = f"the judge ({model}) gave no usable {output_type} score in {attempts} answers; last problem: {problem}"
    return JudgeResult(None, error, raw, usage)


def _tokens(completion: ChatCompletion, field: str) -> int:
    """Tokens the endpoint reports (0 when it reports none, as some OpenAI-compatible servers do)."""
    value = getattr(completion.usage, field, None) if completion.usage is not None else None
    return value if isinstance(value, int) else 0


# -- the openai client -----------------------------------------------------------------------

_clients: dict[tuple[str, str, int], openai.OpenAI] = {}
_clients_lock = threading.Lock()


def client_for(base_url: str, api_key: str, max_retries: int = MAX_RETRIES) -> openai.OpenAI:
    """One client per endpoint and key: it is thread-safe and pools connections across threads."""
    key = (base_url, api_key, max_retries)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = openai.OpenAI(
                base_url=base_url, api_key=api_key, max_retries=max_retries, timeout=REQUEST_TIMEOUT_SECONDS
            )
            _clients[key] = client
        return client


def _complete(client: openai.OpenAI, **request: Any) -> ChatCompletion:
    """One chat completion. The openai client retries transport faults but raises on a 200 whose
    body it cannot read (a proxy cut it short, an HTML error page): those are transient too, so
    they are retried with the client's backoff before they become an error."""
    tries = 1 + client.max_retries
    for attempt in range(tries):
        if attempt:
            delay = min(INITIAL_RETRY_DELAY * 2 ** (attempt - 1), MAX_RETRY_DELAY)
            time.sleep(delay * (1 - 0.25 * random.random()))
        response = client.chat.completions.with_raw_response.create(**request)
        try:
            completion = response.parse()
        except ValueError as exc:  # json.JSONDecodeError: the body is not (complete) JSON
            problem = f"its body is not JSON ({exc})"
        else:
            if isinstance(completion, ChatCompletion) and isinstance(getattr(completion, "choices", None), list):
                return completion
            problem = f"its body is no chat completion (Content-Type {response.headers.get('content-type')!r})"
        status, body = response.status_code, response.text[:BODY_EXCERPT_CHARS]
    raise UnreadableBody(
        f"the judge at {client.base_url} answered HTTP {status} but {problem} (tried {tries} times); "
        f"the body began: {body!r}"
    )


def response_format(output_type: str) -> dict[str, Any]:
    """Structured output: reasoning first, so the model explains before it commits to a score."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": f"{output_type}_score",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"reasoning": {"type": "string"}, "score": SCORE_SCHEMAS[output_type]},
                "required": ["reasoning", "score"],
                "additionalProperties": False,
            },
        },
    }


def describe_api_error(exc: openai.OpenAIError, client: openai.OpenAI, model: str) -> str:
    return describe_model_error(
        exc,
        where=f"the judge at {client.base_url}",
        tries=1 + client.max_retries,
        model=model,
        timeout=REQUEST_TIMEOUT_SECONDS,
        hints=STATUS_HINTS,
    )


def _answer_text(completion: Any) -> str:
    if not completion.choices:
        return ""
    message = completion.choices[0].message
    return message.content or getattr(message, "refusal", None) or ""


# -- the prompt ------------------------------------------------------------------------------


def _prompt_value(value: Any) -> Any:
    """How a ``{{ ... }}`` value appears in a prompt: structures and booleans as JSON, null as nothing."""
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return value


# Sandboxed (templates are user-written); a missing field renders empty, even when chained.
_ENVIRONMENT = SandboxedEnvironment(
    autoescape=False, undefined=jinja2.ChainableUndefined, finalize=_prompt_value, keep_trailing_newline=True
)


@lru_cache(maxsize=256)
def _compiled(template: str) -> jinja2.Template:
    return _ENVIRONMENT.from_string(template)


def render_prompt(
    template: str,
    *,
    inputs: Mapping[str, Any] | None,
    outputs: Mapping[str, Any] | None,
    expected: Mapping[str, Any] | None,
    guidelines: str | None,
) -> str:
    return _compiled(template).render(
        inputs=inputs or {}, outputs=outputs or {}, expected=expected or {}, guidelines=guidelines or ""
    )


# -- the answer ------------------------------------------------------------------------------


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
