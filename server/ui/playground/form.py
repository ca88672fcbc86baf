"""The playground's form: what it holds (read from a post, a saved version or a trial) and the
prompt version config it stands for, checked as a version's config is (`check_system_config`),
so a problem names the config's field as the API would."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from flask import request

from runner.systems import check_system_config
from scorecard_core.errors import InvalidField

ROLES = ("system", "user", "assistant")
RESPONSE_FORMATS = ("text", "json")
MAX_MESSAGES = 20
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_SYSTEM_MESSAGE = "You are a helpful assistant."


@dataclass
class Message:
    role: str = "user"
    content: str = ""


@dataclass
class PlaygroundForm:
    testset_id: str = ""
    testcase_ids: list[str] = field(default_factory=list)
    adhoc_inputs: str = ""
    adhoc_expected: str = ""
    messages: list[Message] = field(default_factory=list)
    model: str = DEFAULT_MODEL
    temperature: str = ""
    max_tokens: str = ""
    response_format: str = "text"
    metric_ids: list[str] = field(default_factory=list)
    guidelines: dict[str, str] = field(default_factory=dict)  # AI metrics' guidelines as edited, by id
    system_id: str = ""  # where Save version stores it; empty: a new system named system_name
    system_name: str = ""
    version_name: str = ""

    @classmethod
    def posted(cls) -> PlaygroundForm:
        values = request.form
        messages = [
            Message(_choice(values.get(f"role_{i}"), ROLES, "user"), _text(values.get(f"content_{i}")))
            for i in range(MAX_MESSAGES)
            if f"content_{i}" in values
        ]
        return cls(
            testset_id=values.get("testset_id", "").strip(),
            testcase_ids=values.getlist("testcase_id"),
            adhoc_inputs=_text(values.get("adhoc_inputs")),
            adhoc_expected=_text(values.get("adhoc_expected")),
            messages=[m for m in messages if m.content.strip()],
            model=values.get("model", "").strip(),
            temperature=values.get("temperature", "").strip(),
            max_tokens=values.get("max_tokens", "").strip(),
            response_format=_choice(values.get("response_format"), RESPONSE_FORMATS, "text"),
            metric_ids=values.getlist("metric_id"),
            guidelines={
                name.removeprefix("guidelines_"): _text(value)
                for name, value in values.items()
                if name.startswith("guidelines_")
            },
            system_id=values.get("system_id", "").strip(),
            system_name=values.get("system_name", "").strip(),
            version_name=values.get("version_name", "").strip(),
        )

    @classmethod
    def starting(cls, testset_id: str, input_fields: list[str], config: dict[str, Any] | None) -> PlaygroundForm:
        """A fresh form: a saved prompt version's settings, or a prompt that shows the inputs."""
        if config and config.get("kind") == "prompt":
            return cls(
                testset_id=testset_id,
                messages=[Message(str(m.get("role")), str(m.get("content"))) for m in config.get("messages") or []],
                model=str(config.get("model") or ""),
                temperature=_shown(config.get("temperature")),
                max_tokens=_shown(config.get("maxTokens")),
                response_format=_choice(config.get("responseFormat"), RESPONSE_FORMATS, "text"),
            )
        shown = "\n".join(f"{name}: {{{{ {_reference(name)} }}}}" for name in input_fields)
        return cls(
            testset_id=testset_id,
            messages=[Message("system", DEFAULT_SYSTEM_MESSAGE), Message("user", shown or "{{ inputs }}")],
        )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PlaygroundForm:
        return cls(**{**values, "messages": [Message(**m) for m in values.get("messages", [])]})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self) -> list[Message]:
        """The message rows to show: the messages and one blank row for another."""
        return [*self.messages, Message("user" if not self.messages else "assistant", "")][:MAX_MESSAGES]

    def prompt_config(self) -> dict[str, Any]:
        """The prompt version's config; raises `InvalidField` naming the config's bad field."""
        config: dict[str, Any] = {
            "kind": "prompt",
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
            "responseFormat": self.response_format,
        }
        if self.temperature:
            config["temperature"] = _number(
                self.temperature, float, "config.temperature", "must be a number from 0 to 2"
            )
        if self.max_tokens:
            config["maxTokens"] = _number(self.max_tokens, int, "config.maxTokens", "must be a positive integer")
        check_system_config(config)
        return config

    def adhoc_case(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The typed input (and expected output), or None when none was typed."""
        if not self.adhoc_inputs.strip():
            return None
        return _json_object(self.adhoc_inputs, "ad-hoc inputs"), _json_object(
            self.adhoc_expected or "{}", "ad-hoc expected"
        )


def _reference(name: str) -> str:
    """How a template names an input: ``inputs.question``, or ``inputs["two words"]``."""
    return f"inputs.{name}" if name.isidentifier() else f"inputs[{json.dumps(name)}]"


def _text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n")


def _choice(value: Any, allowed: tuple[str, ...], default: str) -> str:
    return value if value in allowed else default


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def _number(text: str, kind: type, name: str, problem: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise InvalidField(name, problem) from None


def _json_object(text: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidField(name, f"must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidField(name, 'must be a JSON object, like {"question": "..."}')
    return value
