"""The judge cache on a real database (both engines): what makes a judgement cacheable, what its
key depends on, and that errors are never kept, ``fresh`` asks again and replaces the entry, and
workers storing the same key at once all keep their scores."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlmodel import Session, func, select

from scorecard_core.metrics import metric_config
from scorecard_core.models import JudgeCacheEntry, Metric
from scorecard_core.scoring.judge import JudgeResult, usage_of
from scorecard_core.scoring.judge_cache import JudgeCache, cache_key, judgement_of

AI = {
    "name": "Judge",
    "eval_type": "ai",
    "output_type": "int",
    "guidelines": "be right",
    "prompt_template": "A: {{ outputs.answer }}",
    "eval_model_name": "judge-model",
    "temperature": 0.0,
    "heuristic": None,
}
RECORD = {"inputs": {"question": "q"}, "outputs": {"answer": "a"}, "expected": {}}


class CountingJudge:
    """A judge that answers from a list, counting the calls."""

    def __init__(self, *answers: JudgeResult):
        self.answers = list(answers)
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, config, *, inputs, outputs, expected) -> JudgeResult:
        with self._lock:
            self.calls += 1
            return self.answers[min(self.calls, len(self.answers)) - 1]


def scored(value: int, tokens: int = 10) -> JudgeResult:
    return JudgeResult({"intScore": value, "reasoning": "r"}, usage=usage_of("judge-model", tokens, 2))


def test_the_key_is_what_the_judge_is_asked_not_which_metric_asks():
    judgement = judgement_of(AI, **RECORD)
    assert judgement is not None
    renamed = judgement_of({**AI, "name": "Other", "description": "d", "passing_threshold": 3}, **RECORD)
    assert cache_key(judgement) == cache_key(renamed)
    assert cache_key(judgement) == cache_key(replace(judgement, temperature=0))  # 0 and 0.0 are one
    for changed in (
        {"model": "other"},
        {"prompt": "A: b"},
        {"system_prompt": "judge kindly"},
        {"output_type": "float"},
        {"temperature": 0.5},
    ):
        assert cache_key(replace(judgement, **changed)) != cache_key(judgement), changed


@pytest.mark.parametrize(
    "config",
    [
        {**AI, "temperature": 0.2},
        {**AI, "judge_cache": False},
        {**AI, "prompt_template": "{{ 1 / 0 }}"},
        {**AI, "output_type": "words"},
        {**AI, "eval_type": "heuristic", "heuristic": {"type": "exact_match"}},
    ],
)
def test_not_cacheable_above_temperature_0_when_turned_off_or_when_nothing_can_be_asked(config):
    assert judgement_of(config, **RECORD) is None


def test_temperature_none_counts_as_0():
    assert judgement_of({**AI, "temperature": None}, **RECORD) is not None


def test_the_flag_enters_a_metric_version_only_when_off_so_existing_versions_keep_their_hash():
    metric = Metric(name="m", eval_type="ai", output_type="boolean")
    assert "judge_cache" not in metric_config(metric)
    metric.judge_cache = False
    assert metric_config(metric)["judge_cache"] is False


def test_a_judgement_is_asked_once_and_then_answered_with_its_original_usage(engine):
    judge = CountingJudge(scored(4, tokens=30))
    cached = JudgeCache(engine).judging(judge)
    first = cached(AI, **RECORD)
    again = cached(AI, **RECORD)
    assert judge.calls == 1
    assert first.usage == usage_of("judge-model", 30, 2)
    assert again.score == first.score and again.usage == {**usage_of("judge-model", 30, 2), "cached": True}


def test_errors_are_not_kept(engine):
    judge = CountingJudge(
        JudgeResult(None, "the judge is down"), JudgeResult(None, "no usable score", raw="?"), scored(3)
    )
    cached = JudgeCache(engine).judging(judge)
    assert [cached(AI, **RECORD).error for _ in range(3)] == ["the judge is down", "no usable score", None]
    assert cached(AI, **RECORD).usage["cached"] is True and judge.calls == 3


def test_fresh_asks_again_and_replaces_the_entry(engine):
    cache = JudgeCache(engine)
    judge = CountingJudge(scored(2), scored(5))
    cache.judging(judge)(AI, **RECORD)
    assert cache.judging(judge, fresh=True)(AI, **RECORD).score["intScore"] == 5
    assert cache.judging(judge)(AI, **RECORD).score["intScore"] == 5 and judge.calls == 2


def test_uncacheable_judgements_always_go_to_the_judge(engine):
    judge = CountingJudge(scored(1))
    cached = JudgeCache(engine).judging(judge)
    for _ in range(2):
        cached({**AI, "temperature": 1.0}, **RECORD)
        cached({**AI, "judge_cache": False}, **RECORD)
    assert judge.calls == 4
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(JudgeCacheEntry)).one() == 0


def test_workers_storing_the_same_key_at_once_all_keep_their_scores(engine, caplog):
    workers = 8
    together = threading.Barrier(workers, timeout=10)

    def at_once(config, **record) -> JudgeResult:
        together.wait()  # every worker has missed the cache before any stores
        return scored(4)

    cache = JudgeCache(engine)
    results: list[JudgeResult] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.judging(at_once)(AI, **RECORD))) for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(results) == workers and all(r.score == {"intScore": 4, "reasoning": "r"} for r in results)
    assert "judge cache" not in caplog.text  # the unique key's conflict was expected, not a failure
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(JudgeCacheEntry)).one() == 1
