"""The LLM judge: scores one record with an AI metric through any OpenAI-compatible endpoint.

Nothing the model or the endpoint does makes :func:`judge_record` raise: rate limits and server
errors are retried by the HTTP client (which honours Retry-After, see ``chat_http``), bodies it
cannot read (cut short, not JSON) are retried here the same way, unusable answers are re-asked, and
whatever still fails comes back as a :class:`JudgeResult` with an ``error`` that says why. Every
text that comes back is storable (see ``storable``): a NUL in an answer cannot poison the write
that stores it.

The calls run on one event loop per process (``loop_thread``), whichever thread asks, and send
with aiohttp: at 256 in flight a call costs ~0.5 ms of CPU, against ~2.8 ms with the blocking
openai client in each thread (bench/scale_judge.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
import openai
from jinja2.sandbox import SandboxedEnvironment

from ..errors import ScorecardError
from ..metrics import DEFAULT_EVAL_MODEL
from ..model_errors import WHERE_SETTINGS, describe_model_error
from ..storable import storable_json, storable_text
from . import loop_thread
from .chat_http import ChatEndpoint, backoff
from .judge_answer import MalformedAnswer, parse_score
from .prompts import DEFAULT_PROMPT_TEMPLATE, correction_prompt, system_prompt

# Transport retries (429, 408, 409, 5xx, connection errors), done by the HTTP client with
# exponential backoff, or exactly the server's Retry-After when it sends one.
MAX_RETRIES = 4
REQUEST_TIMEOUT_SECONDS = 60.0
COMPLETIONS_PATH = "chat/completions"
BODY_EXCERPT_CHARS = 200
# Answers that are not a usable score are re-asked this many more times.
MALFORMED_ANSWER_RETRIES = 2

LOOP_STOPPED = "the judge's event loop was stopped before the judge answered"
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
    ``openai_api_key``). ``max_retries`` bounds the transport retries. Safe to call from any
    number of threads; the request runs on this process's judge loop (``loop_thread``).
    """
    judgement = _judgement_to_ask(metric, inputs, outputs, expected, api_key)
    if isinstance(judgement, JudgeResult):
        return judgement
    try:
        return loop_thread.run(_ask_until_usable(base_url, str(api_key), max_retries, judgement))
    except concurrent.futures.CancelledError:
        return JudgeResult(None, LOOP_STOPPED)


def _judgement_to_ask(
    metric: Mapping[str, Any],
    inputs: Mapping[str, Any] | None,
    outputs: Mapping[str, Any] | None,
    expected: Mapping[str, Any] | None,
    api_key: str | None,
) -> Judgement | JudgeResult:
    judgement = prepare(metric, inputs=inputs, outputs=outputs, expected=expected)
    if isinstance(judgement, Judgement) and not api_key:
        return JudgeResult(None, NO_API_KEY)
    return judgement


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


async def _ask_until_usable(base_url: str, api_key: str, max_retries: int, judgement: Judgement) -> JudgeResult:
    try:
        client = client_for(base_url, api_key, max_retries)
    except ValueError as exc:  # a base URL that is no http(s) URL
        return JudgeResult(None, f"the judge's {exc}; {WHERE_SETTINGS}")
    model, output_type = judgement.model, judgement.output_type
    messages = [{"role": "system", "content": judgement.system_prompt}, {"role": "user", "content": judgement.prompt}]
    correction: list[dict[str, str]] = []
    problem = raw = ""
    prompt_tokens = completion_tokens = 0
    attempts = 1 + MALFORMED_ANSWER_RETRIES
    for attempt in range(attempts):
        try:
            completion = await _complete(
                client,
                {
                    "model": model,
                    "temperature": judgement.temperature,
                    "messages": messages + correction,
                    "response_format": response_format(output_type),
                },
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


def _tokens(completion: dict[str, Any], field: str) -> int:
    """Tokens the endpoint reports (0 when it reports none, as some OpenAI-compatible servers do)."""
    usage = completion.get("usage")
    value = usage.get(field) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# -- the endpoint ------------------------------------------------------------------------------

# One endpoint (and connection pool) per event loop, base URL, key and retries; a loop's entry
# goes with the loop.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, int], ChatEndpoint]] = (
    weakref.WeakKeyDictionary()
)
_clients_lock = threading.Lock()


def _forget_parents_lock() -> None:
    global _clients_lock  # a thread of the parent may have held it at the fork
    _clients_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_parents_lock)


def client_for(base_url: str, api_key: str, max_retries: int = MAX_RETRIES) -> ChatEndpoint:
    """The endpoint client of the running event loop (outside one: of this process's judge loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = loop_thread.loop()
    key = (base_url, api_key, max_retries)
    with _clients_lock:
        clients = _clients.setdefault(loop, {})
        client = clients.get(key)
        if client is None:
            client = clients[key] = ChatEndpoint(
                base_url, api_key, max_retries=max_retries, timeout=REQUEST_TIMEOUT_SECONDS
            )
        return client


async def close_clients() -> None:
    """Close the connections the running loop's endpoint clients keep open."""
    with _clients_lock:
        clients = list(_clients.pop(asyncio.get_running_loop(), {}).values())
    for client in clients:
        await client.aclose()


def stop_loop() -> None:
    """Close this process's judge loop and its connections (a worker shutting down, a test); the
    next :func:`judge_record` starts a new one. Calls still waiting get ``LOOP_STOPPED``."""
    loop_thread.stop(before=close_clients())


async def _complete(client: ChatEndpoint, request: dict[str, Any]) -> dict[str, Any]:
    """One chat completion's JSON. A 200 whose body is no chat completion (a proxy cut it short,
    an HTML error page) is transient too, so it is retried with the client's backoff before it
    becomes an error."""
    tries = 1 + client.max_retries
    for attempt in range(tries):
        if attempt:
            await asyncio.sleep(backoff(attempt - 1))
        reply = await client.post(COMPLETIONS_PATH, request)
        content_type = reply.headers.get("content-type", "")
        try:
            completion = json.loads(reply.body)
        except ValueError as exc:  # json.JSONDecodeError: the body is not (complete) JSON
            json_promised = "json" in content_type
            problem = f"its body is not JSON ({exc})" if json_promised else None
        else:
            if isinstance(completion, dict) and isinstance(completion.get("choices"), list):
                return completion
            problem = None
        problem = problem or f"its body is no chat completion (Content-Type {content_type!r})"
        status, body = reply.status, reply.text[:BODY_EXCERPT_CHARS]
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


def describe_api_error(exc: openai.OpenAIError, client: ChatEndpoint, model: str) -> str:
    return describe_model_error(
        exc,
        where=f"the judge at {client.base_url}",
        tries=1 + client.max_retries,
        model=model,
        timeout=REQUEST_TIMEOUT_SECONDS,
        hints=STATUS_HINTS,
    )


def _answer_text(completion: dict[str, Any]) -> str:
    choice = completion["choices"][0] if completion["choices"] else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        return ""
    text = message.get("content") or message.get("refusal")
    return text if isinstance(text, str) else ""


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
