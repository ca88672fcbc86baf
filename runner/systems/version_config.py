"""A system version's config (JSON the server stores) parsed once into the system the server runs
for it: `PromptConfig` (a chat model) or `EndpointConfig` (an HTTP API).

`parse_system_config` is the one place that reads that JSON. Every problem is an `InvalidField`
naming the field (``config.messages[1].content``), so the server can refuse a bad version with a
400 before a run starts instead of failing each of its calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scorecard_core.errors import InvalidField

from .templates import check_template

KINDS = ("prompt", "endpoint")
ROLES = ("system", "user", "assistant")
RESPONSE_FORMATS = ("text", "json")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BODYLESS_METHODS = ("GET", "DELETE")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110's token
POINTER_ESCAPE = re.compile(r"~(?![01])")  # in a JSON pointer, ~ is only ever ~0 or ~1


@dataclass(frozen=True)
class Secret:
    """A header value that is sent but never shown: it stays out of reprs, errors and logs."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "***"


@dataclass(frozen=True)
class Message:
    role: str
    content: str  # a template over `inputs` (and `all.inputs`)


@dataclass(frozen=True)
class PromptConfig:
    model: str
    messages: tuple[Message, ...]
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: str = "text"
    base_url: str | None = None  # overrides the server's OpenAI-compatible base URL


@dataclass(frozen=True)
class JsonPointer:
    text: str  # as written, for messages
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class EndpointConfig:
    url: str
    method: str = "POST"
    headers: Mapping[str, str | Secret] = field(default_factory=dict)
    body: str | None = None  # a template rendering JSON; None sends the inputs (nothing for GET/DELETE)
    response_path: JsonPointer | None = None  # None: the whole answer

    @property
    def secrets(self) -> list[str]:
        return [value.value for value in self.headers.values() if isinstance(value, Secret) and value.value]


SystemConfig = PromptConfig | EndpointConfig


def parse_system_config(config: Any) -> SystemConfig:
    """The system a version's config describes; raises `InvalidField` naming the first bad field."""
    if not isinstance(config, dict):
        raise InvalidField("config", "must be a JSON object")
    kind = config.get("kind")
    if kind == "prompt":
        return _prompt(config)
    if kind == "endpoint":
        return _endpoint(config)
    raise InvalidField("config.kind", "must be prompt or endpoint")


def parse_json_pointer(text: str) -> JsonPointer | None:
    """RFC 6901: ``/a/0/b`` with ``~1`` for ``/`` and ``~0`` for ``~``; None when it is not one."""
    if not text.startswith("/") or POINTER_ESCAPE.search(text):
        return None
    tokens = tuple(token.replace("~1", "/").replace("~0", "~") for token in text[1:].split("/"))
    return JsonPointer(text, tokens)


def _prompt(config: dict) -> PromptConfig:
    messages = config.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidField("config.messages", "must be a non-empty list of {role, content} objects")
    temperature = config.get("temperature")
    if temperature is not None and not (_is_number(temperature) and 0 <= temperature <= 2):
        raise InvalidField("config.temperature", "must be a number from 0 to 2")
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and not (_is_number(max_tokens) and isinstance(max_tokens, int) and max_tokens >= 1):
        raise InvalidField("config.maxTokens", "must be a positive integer")
    response_format = config.get("responseFormat") or "text"
    if response_format not in RESPONSE_FORMATS:
        raise InvalidField("config.responseFormat", "must be text or json")
    base_url = config.get("baseUrl")
    return PromptConfig(
        model=_required_string(config, "model"),
        messages=tuple(_message(message, f"config.messages[{index}]") for index, message in enumerate(messages)),
        temperature=temperature,
        max_tokens=max_tokens,
        response_format=response_format,
        base_url=None if base_url is None else _http_url(base_url, "config.baseUrl"),
    )


def _message(message: Any, where: str) -> Message:
    if not isinstance(message, dict):
        raise InvalidField(where, "must be an object with a role and a content")
    if message.get("role") not in ROLES:
        raise InvalidField(f"{where}.role", "must be system, user or assistant")
    return Message(message["role"], _template(message.get("content"), f"{where}.content"))


def _endpoint(config: dict) -> EndpointConfig:
    method = config.get("method") or "POST"
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise InvalidField("config.method", f"must be one of {', '.join(METHODS)}")
    headers = config.get("headers") or {}
    if not isinstance(headers, dict):
        raise InvalidField("config.headers", "must be an object of header names and values")
    body = config.get("body")
    response_path = config.get("responsePath") or None
    pointer = parse_json_pointer(response_path) if isinstance(response_path, str) else None
    if response_path is not None and pointer is None:
        raise InvalidField("config.responsePath", "must be a JSON pointer like /a/0/b")
    return EndpointConfig(
        url=_http_url(config.get("url"), "config.url"),
        method=method.upper(),
        headers={name: _header_value(name, value) for name, value in headers.items()},
        body=None if body is None else _template(body, "config.body"),
        response_path=pointer,
    )


def _header_value(name: str, value: Any) -> str | Secret:
    where = f"config.headers.{name}"
    if not HEADER_NAME.fullmatch(name):
        raise InvalidField(where, "is not a valid header name")
    secret = isinstance(value, dict) and set(value) == {"secret"}
    text = value["secret"] if secret else value
    if not isinstance(text, str):
        raise InvalidField(where, 'must be a string or {"secret": "<value>"}')
    if "\r" in text or "\n" in text:
        raise InvalidField(where, "must be on one line")
    return Secret(text) if secret else text


def _template(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidField(where, "must be a string")
    problem = check_template(value)
    if problem:
        raise InvalidField(where, f"has a template error: {problem}")
    return value


def _http_url(value: Any, where: str) -> str:
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        host = parts.hostname if parts else None
    except ValueError:  # a malformed IPv6 literal or port
        host = parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise InvalidField(where, "must be an http(s) URL")
    return value


def _required_string(config: dict, name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(f"config.{name}", "must be a non-empty string")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
