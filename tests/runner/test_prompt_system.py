"""Prompt systems (a version's messages sent to a chat model) against the fake OpenAI server on
loopback, through the real openai client; and the sandboxed templates they are written in."""

from __future__ import annotations

import asyncio
import time

import pytest

from runner.systems import SystemCall, SystemStartError, check_system_config, system_from_config
from runner.systems.templates import TemplateFailed, check_template, render
from scorecard_core.errors import InvalidField
from tests.fakes.openai_server import FakeOpenAI

QUESTION = {"question": "What is the capital of France?"}


def prompt_config(**overrides) -> dict:
    return {
        "kind": "prompt",
        "model": "gpt-4o-mini",
        "temperature": 0,
        "maxTokens": 512,
        "messages": [
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "{{ inputs.question }}"},
        ],
        **overrides,
    }


def ask(
    fake: FakeOpenAI, config: dict, inputs_list: list[dict], concurrency: int = 4, **options
) -> tuple[float, list[SystemCall]]:
    """Seconds for all the calls, made at once, and their results."""
    system = system_from_config(
        config, concurrency=concurrency, openai_base_url=fake.url, openai_api_key="sk-test", **options
    )

    async def scenario() -> tuple[float, list[SystemCall]]:
        await system.start()
        try:
            started = time.perf_counter()
            calls = await asyncio.gather(*(system.call(inputs, None, 10) for inputs in inputs_list))
            return time.perf_counter() - started, calls
        finally:
            await system.close()

    return asyncio.run(scenario())


def ask_one(fake: FakeOpenAI, config: dict, inputs: dict = QUESTION, **options) -> SystemCall:
    return ask(fake, config, [inputs], **options)[1][0]


def test_the_rendered_messages_and_settings_reach_the_model(fake_openai):
    fake_openai.malformed_next(text="Paris")
    call = ask_one(fake_openai, prompt_config())

    assert call.error is None
    assert call.outputs == {"response": "Paris"}
    [request] = fake_openai.requests
    assert request["model"] == "gpt-4o-mini"
    assert request["temperature"] == 0
    assert request["max_tokens"] == 512
    assert "response_format" not in request
    assert request["messages"] == [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "What is the capital of France?"},
    ]


def test_token_usage_and_the_model_are_kept_with_the_call(fake_openai):
    fake_openai.malformed_next(text="Paris is the capital")
    call = ask_one(fake_openai, prompt_config())

    # The fake counts words: 4 in the system message and the question, 4 in the answer.
    assert call.metadata == {
        "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14},
    }


def test_templates_see_every_testcase_of_the_batch_when_given(fake_openai):
    batch = [{"question": "first"}, {"question": "second"}]
    config = prompt_config(
        messages=[
            {
                "role": "user",
                "content": "{{ inputs.question }} of {{ all.inputs | map(attribute='question') | join(',') }}",
            }
        ]
    )
    ask(fake_openai, config, batch, concurrency=1, all_inputs=batch)

    assert [r["messages"][0]["content"] for r in fake_openai.requests] == [
        "first of first,second",
        "second of first,second",
    ]


@pytest.mark.parametrize(
    ("answer", "outputs"),
    [
        ('{"city": "Paris", "confidence": 0.9}', {"city": "Paris", "confidence": 0.9}),
        ('```json\n{"city": "Paris"}\n```', {"city": "Paris"}),
        ("[1, 2]", {"output": [1, 2]}),
    ],
)
def test_a_json_response_format_parses_the_answer(fake_openai, answer, outputs):
    fake_openai.malformed_next(text=answer)
    call = ask_one(fake_openai, prompt_config(responseFormat="json"))

    assert call.error is None
    assert call.outputs == outputs
    assert fake_openai.requests[0]["response_format"] == {"type": "json_object"}


def test_an_answer_that_is_not_json_is_a_call_error_naming_the_problem(fake_openai):
    fake_openai.malformed_next(text="Paris, I think")
    call = ask_one(fake_openai, prompt_config(responseFormat="json"))

    assert call.outputs is None
    assert "responseFormat is json but the model's answer is not JSON" in call.error
    assert "Paris, I think" in call.error


def test_a_rate_limit_is_retried_after_the_time_the_endpoint_asks(fake_openai):
    fake_openai.fail_next(429, retry_after=0.3)
    fake_openai.malformed_next(text="Paris")
    seconds, [call] = ask(fake_openai, prompt_config(), [QUESTION])

    assert call.outputs == {"response": "Paris"}
    assert len(fake_openai.requests) == 2
    assert seconds >= 0.3


def test_an_error_the_endpoint_will_not_fix_by_retrying_fails_the_call_at_once(fake_openai):
    fake_openai.fail_next(400)
    call = ask_one(fake_openai, prompt_config())

    assert call.outputs is None
    assert f"the model endpoint at {fake_openai.url} answered HTTP 400 for model 'gpt-4o-mini'" in call.error
    assert "scripted failure" in call.error
    assert len(fake_openai.requests) == 1


def test_a_proxys_error_page_or_a_cut_body_is_a_call_error_saying_so(fake_openai):
    fake_openai.not_json_next()
    fake_openai.truncated_next()
    _, calls = ask(fake_openai, prompt_config(), [QUESTION, QUESTION], concurrency=1)

    where = f"the model endpoint at {fake_openai.url} answered"
    assert (
        calls[0].error == f"{where} something that is not a chat completion: <html><body>502 Bad Gateway</body></html>"
    )
    assert calls[1].error.startswith(f"{where} something not JSON (Unterminated string")


def test_the_versions_base_url_overrides_the_servers(fake_openai):
    system = system_from_config(
        prompt_config(baseUrl=fake_openai.url),
        concurrency=1,
        openai_base_url="http://127.0.0.1:9/v1",  # nothing listens there
        openai_api_key="sk-test",
    )

    async def scenario() -> SystemCall:
        await system.start()
        try:
            return await system.call(QUESTION, None, 10)
        finally:
            await system.close()

    assert asyncio.run(scenario()).error is None
    assert len(fake_openai.requests) == 1


def test_an_input_the_template_needs_but_the_testcase_lacks_fails_only_that_call(fake_openai):
    _, calls = ask(fake_openai, prompt_config(), [QUESTION, {"query": "typo"}])

    assert calls[0].error is None
    assert calls[1].error == (
        "config.messages[1].content could not be rendered: it uses an undefined value: "
        "'dict object' has no attribute 'question'"
    )
    assert len(fake_openai.requests) == 1


def test_calls_run_concurrently_up_to_the_limit(fake_openai):
    fake_openai.delay = 0.2
    seconds, calls = ask(fake_openai, prompt_config(), [QUESTION] * 8, concurrency=4)

    assert all(call.error is None for call in calls)
    assert fake_openai.max_in_flight == 4
    assert 0.4 <= seconds < 1.2  # two waves of four (0.4 s), not eight calls in a row (1.6 s)


def test_a_prompt_system_without_an_api_key_does_not_start():
    system = system_from_config(
        prompt_config(), concurrency=1, openai_base_url="http://127.0.0.1:9/v1", openai_api_key=None
    )
    with pytest.raises(SystemStartError, match="OPENAI_API_KEY"):
        asyncio.run(system.start())


@pytest.mark.parametrize(
    ("config", "field", "problem"),
    [
        ({"kind": "agent"}, "config.kind", "must be prompt or endpoint"),
        ([], "config", "must be a JSON object"),
        (prompt_config(model=""), "config.model", "must be a non-empty string"),
        (prompt_config(messages=[]), "config.messages", "must be a non-empty list"),
        (prompt_config(messages=[{"role": "robot", "content": "hi"}]), "config.messages[0].role", "must be system"),
        (prompt_config(messages=[{"role": "user", "content": 3}]), "config.messages[0].content", "must be a string"),
        (
            prompt_config(messages=[{"role": "user", "content": "ok"}, {"role": "user", "content": "{{ inputs.q "}]),
            "config.messages[1].content",
            "has a template error: line 1: unexpected end of template",
        ),
        (prompt_config(responseFormat="xml"), "config.responseFormat", "must be text or json"),
        (prompt_config(temperature="hot"), "config.temperature", "must be a number from 0 to 2"),
        (prompt_config(maxTokens=0), "config.maxTokens", "must be a positive integer"),
        (prompt_config(baseUrl="localhost:11434"), "config.baseUrl", "must be an http(s) URL"),
    ],
)
def test_a_bad_prompt_config_is_refused_naming_the_field(config, field, problem):
    with pytest.raises(InvalidField) as raised:
        check_system_config(config)
    assert raised.value.field == field
    assert problem in raised.value.problem


def test_a_good_prompt_config_passes_the_check():
    check_system_config(prompt_config(responseFormat="json", baseUrl="http://127.0.0.1:11434/v1"))


# --- the templates -------------------------------------------------------------------------------


def test_templates_show_structures_as_json_and_escape_with_tojson():
    inputs = {"question": 'say "hi"\nnow', "tags": ["a", "b"], "missing": None}

    assert render("{{ inputs.tags }}|{{ inputs.missing }}|", {"inputs": inputs}) == '["a", "b"]||'
    assert render("{{ inputs.question | tojson }}", {"inputs": inputs}) == '"say \\"hi\\"\\nnow"'
    assert render("{{ '<&>' | tojson }}", {}) == '"<&>"'  # not HTML-escaped: bodies are JSON, not HTML


def test_templates_are_sandboxed_and_name_what_went_wrong():
    with pytest.raises(TemplateFailed, match="SecurityError: access to attribute '__class__'"):
        render("{{ inputs.__class__.__mro__ }}", {"inputs": {}})
    assert check_template("{% if %}") == "line 1: Expected an expression, got 'end of statement block'"
    assert check_template("{{ inputs.question }}") is None
