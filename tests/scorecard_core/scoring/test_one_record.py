"""Scoring one record in memory picks the scorer as the engine does: the judge for AI metrics, the
built-in checks for heuristic ones, nobody for people's metrics; failures come back as errors."""

from __future__ import annotations

from scorecard_core.scoring.judge import JudgeResult
from scorecard_core.scoring.one_record import Scored, scorable, score_record

EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}
HEURISTIC = {"name": "Exact", "eval_type": "heuristic", "output_type": "boolean", "heuristic": EXACT}
AI = {"name": "Judged", "eval_type": "ai", "output_type": "int", "guidelines": "be kind"}
PEOPLE = {"name": "Reviewed", "eval_type": "human", "output_type": "boolean"}


def judge_saying(result: JudgeResult):
    asked = []

    def judge(config, *, inputs, outputs, expected):
        asked.append((config["guidelines"], inputs, outputs, expected))
        return result

    return judge, asked


def test_a_heuristic_metric_is_checked_without_the_judge():
    judge, asked = judge_saying(JudgeResult(None, "not asked"))
    scored = score_record(HEURISTIC, inputs={}, outputs={"answer": "a"}, expected={"answer": "a"}, judge=judge)
    assert scored.score is not None and scored.score["binaryScore"] is True and scored.error is None
    assert asked == []


def test_an_ai_metric_asks_the_judge_and_keeps_its_answer_when_unusable():
    judge, asked = judge_saying(JudgeResult({"intScore": 4, "reasoning": "fine"}))
    assert score_record(AI, inputs={"q": 1}, outputs={"a": 2}, expected={}, judge=judge) == Scored(
        {"intScore": 4, "reasoning": "fine"}
    )
    assert asked == [("be kind", {"q": 1}, {"a": 2}, {})]
    judge, _ = judge_saying(JudgeResult(None, "no usable score", raw="maybe"))
    assert score_record(AI, inputs={}, outputs={}, expected={}, judge=judge).error == (
        "no usable score; the judge's answer: maybe"
    )


def test_a_bad_heuristic_config_and_people_metrics_are_errors_not_exceptions():
    judge, _ = judge_saying(JudgeResult(None, "not asked"))
    broken = {**HEURISTIC, "heuristic": {"type": "no such check"}}
    assert score_record(broken, inputs={}, outputs={}, expected={}, judge=judge).error.startswith("heuristic failed")
    assert "scored by people" in score_record(PEOPLE, inputs={}, outputs={}, expected={}, judge=judge).error
    assert [scorable(c) for c in (HEURISTIC, AI, PEOPLE, {**HEURISTIC, "heuristic": None})] == [
        True,
        True,
        False,
        False,
    ]
