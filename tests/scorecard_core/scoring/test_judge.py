"""The LLM judge through the real openai client against the fake OpenAI server on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scorecard_core.metrics import apply_rules, metric_config
from scorecard_core.models import Metric
from scorecard_core.scoring.judge import MAX_RETRIES, JudgeResult, client_for, judge_record
from scorecard_core.scoring.prompts import DEFAULT_PROMPT_TEMPLATE
from scorecard_core.settings import Settings
from tests.fakes.openai_server import FakeOpenAI

API_KEY = "sk-test"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def ai_metric(output_type: str = "boolean", **overrides: Any) -> dict[str, Any]:
    """A metric config exactly as the scoring engine passes it (``metrics.metric_config``)."""
    metric = Metric(
        project_id=1,
        name="Helpful",
        eval_type="ai",
        output_type=output_type,
        guidelines="The answer must be helpful.",
        prompt_template="Judge this: {{ outputs.answer }}",
        eval_model_name="gpt-4o-mini",
    )
    apply_rules(metric)
    return {**metric_config(metric), **overrides}


def judge(fake: FakeOpenAI, metric: dict[str, Any], answer: str = "", **record: Any) -> JudgeResult:
    return judge_record(
        metric,
        inputs=record.get("inputs", {"question": "What is 2+2?"}),
        outputs=record.get("outputs", {"answer": answer}),
        expected=record.get("expected", {"ideal": "4"}),
        base_url=fake.url,
        api_key=API_KEY,
    )


def last_prompt(fake: FakeOpenAI) -> str:
    return fake.requests[-1]["messages"][-1]["content"]


# -- scores ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "expected"), [("VERDICT: pass", True), ("VERDICT: fail", False)])
def test_boolean_metric(fake_openai, answer, expected):
    result = judge(fake_openai, ai_metric("boolean"), answer)
    assert result.error is None
    assert result.score == {"binaryScore": expected, "reasoning": f"fake judge found {answer}"}


def test_int_metric(fake_openai):
    result = judge(fake_openai, ai_metric("int"), "SCORE: 3")
    assert result.score == {"intScore": 3, "reasoning": "fake judge found SCORE: 3"}


def test_float_metric(fake_openai):
    result = judge(fake_openai, ai_metric("float"), "SCORE: 0.75")
    assert result.score == {"floatScore": 0.75, "reasoning": "fake judge found SCORE: 0.75"}


def test_score_without_marker_is_deterministic(fake_openai):
    first = judge(fake_openai, ai_metric("int"), "plain answer")
    second = judge(fake_openai, ai_metric("int"), "plain answer")
    assert first.score == second.score
    assert 1 <= first.score["intScore"] <= 5


# -- the request -------------------------------------------------------------------------------


def test_prompt_model_temperature_and_schema_reach_the_endpoint(fake_openai):
    metric = ai_metric(
        "int",
        prompt_template=(
            "Q: {{ inputs.question }}\nA: {{ outputs.answer }}\nIdeal: {{ expected.ideal }}\n"
            "Rules: {{ guidelines }}\nMissing: [{{ inputs.nothing.deeper }}]\nAll inputs: {{ inputs }}"
        ),
        eval_model_name="judge-model-7",
        temperature=0.3,
    )
    judge(fake_openai, metric, "SCORE: 5")
    body = fake_openai.requests[0]
    assert body["model"] == "judge-model-7"
    assert body["temperature"] == 0.3
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][-1] == {
        "role": "user",
        "content": (
            "Q: What is 2+2?\nA: SCORE: 5\nIdeal: 4\nRules: The answer must be helpful.\nMissing: []\n"
            'All inputs: {\n  "question": "What is 2+2?"\n}'
        ),
    }
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert schema["properties"]["score"] == {"type": "integer", "minimum": 1, "maximum": 5}
    assert schema["required"] == ["reasoning", "score"]


def test_default_template_when_metric_has_none(fake_openai):
    result = judge(fake_openai, ai_metric("boolean", prompt_template=None), "VERDICT: pass")
    assert result.score["binaryScore"] is True
    prompt = last_prompt(fake_openai)
    assert prompt.startswith("Guidelines:\nThe answer must be helpful.")
    assert '"question": "What is 2+2?"' in prompt
    assert '"answer": "VERDICT: pass"' in prompt
    assert 'Expected output:\n{\n  "ideal": "4"\n}' in prompt
    assert DEFAULT_PROMPT_TEMPLATE.startswith("Guidelines:")


def test_default_template_leaves_out_empty_expected(fake_openai):
    judge(fake_openai, ai_metric("boolean", prompt_template=""), "VERDICT: pass", expected={})
    assert "Expected output" not in last_prompt(fake_openai)


def test_template_that_cannot_render_is_an_error_not_a_request(fake_openai):
    result = judge(fake_openai, ai_metric(prompt_template="{{ outputs.answer "), "VERDICT: pass")
    assert result.score is None
    assert "promptTemplate of metric 'Helpful' could not be rendered" in result.error
    failing = judge(fake_openai, ai_metric(prompt_template="{{ 1 / 0 }}"), "VERDICT: pass")
    assert failing.error == "promptTemplate of metric 'Helpful' could not be rendered: division by zero"
    assert fake_openai.requests == []


def test_template_is_sandboxed(fake_openai):
    judge(fake_openai, ai_metric(prompt_template="[{{ outputs.__class__.__mro__ }}]"), "VERDICT: pass")
    assert last_prompt(fake_openai) == "[]"


# -- transport trouble -------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_honouring_the_header(fake_openai):
    fake_openai.fail_next(status=429, times=2, retry_after=0.1)
    started = time.perf_counter()
    result = judge(fake_openai, ai_metric(), "VERDICT: pass")
    elapsed = time.perf_counter() - started
    assert result.score["binaryScore"] is True
    assert len(fake_openai.requests) == 3
    # Two waits of exactly 0.1 s; the client's own backoff would have waited at least 1.1 s.
    assert 0.2 <= elapsed < 0.9


def test_500_is_retried_with_backoff(fake_openai):
    fake_openai.fail_next(status=500, times=1)
    result = judge(fake_openai, ai_metric("float"), "SCORE: 0.5")
    assert result.score["floatScore"] == 0.5
    assert len(fake_openai.requests) == 2


def test_persistent_rate_limit_ends_as_a_clear_error(fake_openai):
    fake_openai.fail_next(status=429, times=MAX_RETRIES + 1, retry_after=0.01)
    result = judge(fake_openai, ai_metric(), "VERDICT: pass")
    assert result.score is None
    assert f"answered HTTP 429 (tried {MAX_RETRIES + 1} times) for model 'gpt-4o-mini'" in result.error
    assert "scripted failure" in result.error
    assert len(fake_openai.requests) == MAX_RETRIES + 1


def test_client_error_is_not_retried(fake_openai):
    fake_openai.fail_next(status=404)
    result = judge(fake_openai, ai_metric(), "VERDICT: pass")
    assert result.error.endswith("Check the metric's evalModelName and SCORECARD_OPENAI_BASE_URL / OPENAI_BASE_URL.")
    assert "HTTP 404 for model" in result.error
    assert len(fake_openai.requests) == 1


def test_unreachable_endpoint_is_an_error():
    with FakeOpenAI() as fake:
        dead_url = fake.url
    result = judge_record(
        ai_metric(), inputs={}, outputs={}, expected={}, base_url=dead_url, api_key=API_KEY, max_retries=1
    )
    assert result.score is None
    assert result.error == (
        f"could not connect to the judge at {dead_url}/ (tried 2 times); "
        "check SCORECARD_OPENAI_BASE_URL / OPENAI_BASE_URL"
    )


def test_missing_api_key_is_an_error(fake_openai, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = judge_record(ai_metric(), inputs={}, outputs={}, expected={}, base_url=fake_openai.url, api_key=None)
    assert "set OPENAI_API_KEY" in result.error
    assert fake_openai.requests == []


def test_endpoint_and_key_come_from_the_environment(fake_openai, monkeypatch):
    with FakeOpenAI() as unused:
        monkeypatch.setenv("OPENAI_BASE_URL", unused.url)
    monkeypatch.setenv("SCORECARD_OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    settings = Settings()  # as the server reads them once at start-up
    result = judge_record(
        ai_metric(),
        inputs={},
        outputs={"answer": "VERDICT: fail"},
        expected={},
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
    )
    assert result.score["binaryScore"] is False


def test_one_client_per_endpoint_and_key(fake_openai):
    assert client_for(fake_openai.url, API_KEY) is client_for(fake_openai.url, API_KEY)
    assert client_for(fake_openai.url, API_KEY) is not client_for(fake_openai.url, "sk-other")


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        (FakeOpenAI.truncated_next, "its body is not JSON (Unterminated string"),
        (FakeOpenAI.not_json_next, "its body is no chat completion (Content-Type 'text/html')"),
    ],
)
def test_unreadable_bodies_are_retried_like_transient_faults(fake_openai, script, problem):
    script(fake_openai, times=2)
    result = judge(fake_openai, ai_metric("float"), "SCORE: 0.5")
    assert result.error is None and result.score["floatScore"] == 0.5
    assert len(fake_openai.requests) == 3

    fake_openai.reset()
    script(fake_openai, times=2)
    failed = judge_record(
        ai_metric(),
        inputs={},
        outputs={"answer": "VERDICT: pass"},
        expected={},
        base_url=fake_openai.url,
        api_key=API_KEY,
        max_retries=1,
    )
    assert failed.score is None
    assert failed.error.startswith(f"the judge at {fake_openai.url}/ answered HTTP 200 but {problem}")
    assert "(tried 2 times); the body began: " in failed.error
    assert len(fake_openai.requests) == 2


# -- answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output_type", "content", "score"),
    [
        ("boolean", '```json\n{"reasoning": "ok", "score": "true"}\n```', {"binaryScore": True, "reasoning": "ok"}),
        ("boolean", 'Sure! {"reasoning": "no", "score": "FAIL"} Hope so.', {"binaryScore": False, "reasoning": "no"}),
        ("int", '{"reasoning": "ok", "score": "4"}', {"intScore": 4, "reasoning": "ok"}),
        ("int", '{"reasoning": "ok", "score": 5.0}', {"intScore": 5, "reasoning": "ok"}),
        ("float", '{"floatScore": "0.25", "reasoning": "meh"}', {"floatScore": 0.25, "reasoning": "meh"}),
        ("float", '{"score": 1}', {"floatScore": 1.0, "reasoning": ""}),
    ],
)
def test_answers_are_parsed_defensively(fake_openai, output_type, content, score):
    fake_openai.malformed_next(text=content)
    result = judge(fake_openai, ai_metric(output_type), "SCORE: 3")
    assert result.score == score
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize(
    ("output_type", "content", "problem"),
    [
        ("boolean", "not json", 'no JSON object with a "score"'),
        ("boolean", '{"reasoning": "x", "score": "maybe"}', "score 'maybe' is not true or false"),
        ("int", '{"reasoning": "x", "score": 7}', "score 7 is not an integer from 1 to 5"),
        ("int", '{"reasoning": "x", "score": 3.5}', "score 3.5 is not an integer from 1 to 5"),
        ("float", '{"reasoning": "x", "score": 1.5}', "score 1.5 is not a number from 0 to 1"),
        ("float", '{"reasoning": "x", "score": true}', "score True is not a number"),
        ("float", "", "the answer was empty"),
    ],
)
def test_malformed_answer_is_retried_with_a_correction(fake_openai, output_type, content, problem):
    fake_openai.malformed_next(text=content)
    result = judge(fake_openai, ai_metric(output_type), "VERDICT: pass")
    assert result.error is None and result.score is not None
    retry = fake_openai.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": content}
    assert problem in retry[-1]["content"]


def test_persistent_malformed_answers_end_as_an_error_keeping_the_text(fake_openai):
    fake_openai.malformed_next(times=3, text="I refuse to answer in JSON.")
    result = judge(fake_openai, ai_metric("int"), "SCORE: 4")
    assert result.score is None
    assert result.error == (
        "the judge (gpt-4o-mini) gave no usable int score in 3 answers; "
        'last problem: the answer held no JSON object with a "score"'
    )
    assert result.raw == "I refuse to answer in JSON."
    assert len(fake_openai.requests) == 3


@pytest.mark.parametrize(
    "content",
    [
        '{"reasoning": "nul \\u0000 and lone \\ud800 escaped in the JSON", "score": 0.5}',
        '{"reasoning": "nul \u0000 and lone \ud800 as characters", "score": 0.5}',
    ],
)
def test_nul_and_lone_surrogates_in_an_answer_come_back_storable(fake_openai, content):
    fake_openai.malformed_next(text=content)
    result = judge(fake_openai, ai_metric("float"), "SCORE: 0.9")
    assert result.score["floatScore"] == 0.5
    assert result.score["reasoning"].startswith("nul \ufffd and lone \ufffd ")
    assert len(fake_openai.requests) == 1


def test_an_unusable_answer_with_a_nul_is_re_asked_and_kept_storable(fake_openai):
    fake_openai.malformed_next(times=3, text="no score \u0000 here \udc00")
    result = judge(fake_openai, ai_metric("int"), "SCORE: 4")
    assert result.score is None and result.raw == "no score \ufffd here \ufffd"
    # The correction quotes the answer back: it must be sendable, so it is the cleaned text.
    assert fake_openai.requests[1]["messages"][-2] == {"role": "assistant", "content": result.raw}


# -- concurrency -------------------------------------------------------------------------------


def test_32_concurrent_judge_calls_overlap(fake_openai):
    metric = ai_metric("float")
    judge(fake_openai, metric, "warm-up")  # first use builds the client and its connection pool
    fake_openai.reset()
    fake_openai.delay = 0.5
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda i: judge(fake_openai, metric, f"SCORE: {i / 100}"), range(32)))
    elapsed = time.perf_counter() - started
    print(
        f"\n32 concurrent judge calls against a 500 ms judge: {elapsed * 1000:.0f} ms "
        f"(serial: 16000 ms), {fake_openai.max_in_flight} answered at once"
    )
    assert [r.score["floatScore"] for r in results] == [i / 100 for i in range(32)]
    # Typically 32 at once in ~600 ms. The judge answers slowly enough that even a loaded 2-core
    # machine (the whole suite beside it) builds all 32 requests under the GIL before the first answer.
    assert fake_openai.max_in_flight >= 24
    assert elapsed < 2.5
