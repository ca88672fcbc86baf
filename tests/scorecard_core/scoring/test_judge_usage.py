"""The judge's usage: the model asked and the tokens the endpoint reports, summed over the
re-asks of an unusable answer, through the real openai client against the fake OpenAI server."""

from __future__ import annotations

from tests.scorecard_core.scoring.test_judge import ai_metric, judge


def prompt_tokens(request: dict) -> int:
    """As the fake OpenAI server counts them: the words of every message."""
    return sum(len(str(m["content"]).split()) for m in request["messages"])


def test_a_usable_answer_reports_the_model_and_its_tokens(fake_openai):
    result = judge(fake_openai, ai_metric(), "4")
    [request] = fake_openai.requests
    usage = result.usage
    assert usage is not None and usage["model"] == "gpt-4o-mini" and usage["cached"] is False
    assert usage["promptTokens"] == prompt_tokens(request)
    assert usage["completionTokens"] > 0
    assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"]


def test_tokens_are_summed_over_the_re_asks_of_unusable_answers(fake_openai):
    fake_openai.malformed_next(text="no score in these five words")
    result = judge(fake_openai, ai_metric(), "4")
    first, second = fake_openai.requests
    assert result.score is not None
    assert result.usage["promptTokens"] == prompt_tokens(first) + prompt_tokens(second)
    assert result.usage["completionTokens"] > 6  # the unusable answer's six words, then the usable one


def test_answers_paid_for_are_reported_even_when_none_was_usable(fake_openai):
    fake_openai.malformed_next(times=3, text="still no score")
    result = judge(fake_openai, ai_metric(), "4")
    assert result.score is None and result.usage["completionTokens"] == 9


def test_a_judge_never_reached_reports_no_usage(fake_openai):
    fake_openai.fail_next(status=400)
    assert judge(fake_openai, ai_metric(), "4").usage is None
