"""A prompt as the system, as Scorecard's playground runs one: the server renders a version's
messages over each testcase's inputs and asks a chat model at any OpenAI-compatible endpoint.

The output is ``{"response": "<the answer's text>"}``, or the answer parsed as JSON when the
version's ``responseFormat`` is ``json``. The token usage and the model that answered are kept as
the call's metadata. Rate limits, server errors and dropped connections are retried by the HTTP
client (``scorecard_core.scoring.chat_http``, the judge's, on aiohttp), which honours Retry-After:
the openai client spent ~1-2 ms of CPU per call with many calls in flight, this one ~0.2 ms.

Each system has its own client for its base URL and key, opened by ``start()``, shared by all its
calls and closed by ``close()``: a client's session pools connections on the event loop it first
runs on, so one kept across runs (each with its own loop) would hand later runs dead connections.
"""

from __future__ import annotations

import json
import re
from typing import Any

import openai

from scorecard_core.model_errors import describe_model_error
from scorecard_core.scoring.chat_http import ChatEndpoint, Reply

from .base import Answer, BoundedSystem, SystemCallFailed, SystemStartError, as_outputs, snippet
from .templates import TemplateFailed, render, system_context
from .version_config import PromptConfig

MAX_RETRIES = 4
# Per try, as the openai client's default; the run's timeout per call usually ends a call first.
TRY_TIMEOUT_SECONDS = 600.0
CHAT_COMPLETIONS = "chat/completions"
NO_API_KEY = (
    "a prompt system needs an API key for its model endpoint: set OPENAI_API_KEY "
    "(any value for a server that needs none, such as Ollama)"
)
WHOLE_CODE_FENCE = re.compile(r"\s*```[A-Za-z]*\s*(.*?)\s*```\s*", re.DOTALL)


class PromptSystem(BoundedSystem):
    """A version's prompt sent to a chat model; the answer's text (or JSON) is the output."""

    def __init__(
        self,
        config: PromptConfig,
        *,
        concurrency: int,
        base_url: str,
        api_key: str | None,
        all_inputs: list[dict] | None = None,
    ):
        super().__init__(concurrency)
        self.config = config
        self.base_url = config.base_url or base_url
        self.api_key = api_key
        self.all_inputs = all_inputs
        self._client: ChatEndpoint | None = None

    async def start(self) -> None:
        if not self.api_key:
            raise SystemStartError(NO_API_KEY)
        try:
            self._client = ChatEndpoint(
                self.base_url, self.api_key, max_retries=MAX_RETRIES, timeout=TRY_TIMEOUT_SECONDS
            )
        except ValueError as exc:
            raise SystemStartError(f"the prompt system's model endpoint: {exc}") from None

    async def _invoke(self, inputs: dict, system_config: dict | None) -> Answer:
        """``system_config`` is unused: the version's config is the system itself."""
        assert self._client is not None, "start() the system before calling it"
        config = self.config
        request: dict[str, Any] = {"model": config.model, "messages": self._messages(inputs)}
        if config.temperature is not None:
            request["temperature"] = config.temperature
        if config.max_tokens is not None:
            request["max_tokens"] = config.max_tokens
        if config.response_format == "json":
            request["response_format"] = {"type": "json_object"}
        try:
            response = await self._client.post(CHAT_COMPLETIONS, request)
        except openai.OpenAIError as exc:
            raise SystemCallFailed(self._describe(exc)) from None
        completion = self._completion(response)
        message = completion["choices"][0].get("message") or {}
        text = message.get("content") or message.get("refusal") or ""
        outputs = self._json_outputs(text) if config.response_format == "json" else {"response": text}
        return Answer(outputs, {"model": completion.get("model"), "usage": _usage(completion)})

    def _completion(self, response: Reply) -> dict[str, Any]:
        """The answer as a chat completion's JSON; anything else is a call error saying what came."""
        body: Any = None
        if "json" in response.headers.get("content-type", ""):
            try:
                body = json.loads(response.body)
            except ValueError as exc:  # JSON cut short (a dropped connection behind a proxy)
                raise SystemCallFailed(
                    f"the model endpoint at {self.base_url} answered something not JSON ({exc}): "
                    f"{snippet(response.text) or '(empty)'}"
                ) from None
        choices = body.get("choices") if isinstance(body, dict) else None  # a proxy's error page has none
        if not isinstance(choices, list):
            raise SystemCallFailed(
                f"the model endpoint at {self.base_url} answered something that is not a chat completion: "
                f"{snippet(response.text) or '(empty)'}"
            )
        if not choices or not isinstance(choices[0], dict):
            raise SystemCallFailed(f"the model endpoint at {self.base_url} answered a completion without choices")
        return body

    def _messages(self, inputs: dict) -> list[dict[str, str]]:
        context = system_context(inputs, self.all_inputs)
        messages = []
        for index, message in enumerate(self.config.messages):
            try:
                messages.append({"role": message.role, "content": render(message.content, context)})
            except TemplateFailed as exc:
                raise SystemCallFailed(f"config.messages[{index}].content could not be rendered: {exc}") from None
        return messages

    def _json_outputs(self, text: str) -> dict:
        fenced = WHOLE_CODE_FENCE.fullmatch(text)  # some models wrap JSON in ``` even when asked not to
        try:
            return as_outputs(json.loads(fenced.group(1) if fenced else text))
        except ValueError as exc:
            raise SystemCallFailed(
                f"responseFormat is json but the model's answer is not JSON ({exc}): {snippet(text) or '(empty)'}"
            ) from None

    def _describe(self, exc: openai.OpenAIError) -> str:
        where = f"the model endpoint at {self.base_url}"
        return describe_model_error(exc, where=where, tries=1 + MAX_RETRIES, model=self.config.model)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _usage(completion: dict[str, Any]) -> dict[str, Any] | None:
    usage = completion.get("usage")
    if not isinstance(usage, dict):
        return None
    return {key: usage.get(key) for key in ("prompt_tokens", "completion_tokens", "total_tokens")}
