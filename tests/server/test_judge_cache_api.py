"""The judge's usage per score and the judge cache, over real HTTP on both databases: a second
run with the same outputs asks the fake judge nothing (its requests are counted) and says how
many scores the cache answered; temperature above 0, a metric's `judgeCache: false` and a
`fresh` re-score ask the judge again; a judge error is never kept."""

from __future__ import annotations

import pytest

from scorecard_core.client import ApiError
from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import make_project, metric, scores_by_metric, upload

CASES = 4
PROMPT = "Q: {{ inputs.question }} A: {{ outputs.answer }} VERDICT: pass"


def judged_run(client, project, testset, testcases, judge: dict, answer=lambda tc: tc["expected"]["answer"]) -> dict:
    """A run of the judge metric over the testcases, scored to the end."""
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [judge["id"]]})
    upload(client, run, testcases, answer=answer)
    return wait_for_run(client, run["id"])


def usages(client, run: dict, judge: dict) -> list[dict]:
    return [score["usage"] for score in scores_by_metric(client, run["id"])[judge["id"]]]


@pytest.fixture
def world(client):
    project, testset, testcases = make_project(client, cases=CASES)
    return client, project, testset, testcases


def test_usage_is_stored_per_score_and_a_second_run_of_the_same_outputs_asks_the_judge_nothing(world, fake_openai):
    client, project, testset, testcases = world
    judge = metric(client, project, name="Judge", evalType="ai", outputType="boolean", promptTemplate=PROMPT)
    assert judge["judgeCache"] is True and judge["temperature"] == 0

    first = judged_run(client, project, testset, testcases, judge)
    assert first["status"] == "completed" and first["statusDetail"]["judgeCacheHits"] == 0
    assert len(fake_openai.requests) == CASES
    paid = usages(client, first, judge)
    for usage in paid:
        assert set(usage) == {"model", "promptTokens", "completionTokens", "totalTokens", "cached"}
        assert usage["model"] == "gpt-4o" and usage["cached"] is False
        assert usage["promptTokens"] > 0 and usage["completionTokens"] > 0
        assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"]

    fake_openai.reset()
    second = judged_run(client, project, testset, testcases, judge)
    assert second["status"] == "completed" and second["statusDetail"]["judgeCacheHits"] == CASES
    assert fake_openai.requests == []
    assert {s["score"]["binaryScore"] for s in scores_by_metric(client, second["id"])[judge["id"]]} == {True}
    # The original token counts, so a cost report can say what the cache saved.
    saved = usages(client, second, judge)
    assert sorted(u["totalTokens"] for u in saved) == sorted(u["totalTokens"] for u in paid)
    assert all(u["cached"] for u in saved)

    # One output changed: only its record goes to the judge.
    fake_openai.reset()
    changed = testcases[0]["id"]
    third = judged_run(
        client,
        project,
        testset,
        testcases,
        judge,
        answer=lambda tc: "new" if tc["id"] == changed else tc["expected"]["answer"],
    )
    assert len(fake_openai.requests) == 1 and third["statusDetail"]["judgeCacheHits"] == CASES - 1


def test_above_temperature_0_every_run_asks_the_judge(world, fake_openai):
    client, project, testset, testcases = world
    judge = metric(
        client, project, name="Warm", evalType="ai", outputType="boolean", promptTemplate=PROMPT, temperature=0.7
    )
    judged_run(client, project, testset, testcases, judge)
    second = judged_run(client, project, testset, testcases, judge)
    assert len(fake_openai.requests) == 2 * CASES and second["statusDetail"]["judgeCacheHits"] == 0
    assert not any(u["cached"] for u in usages(client, second, judge))


def test_a_metric_with_judge_cache_off_asks_the_judge_every_time(world, fake_openai):
    client, project, testset, testcases = world
    judge = metric(
        client, project, name="Judge", evalType="ai", outputType="int", promptTemplate=PROMPT, judgeCache=False
    )
    assert client.get(f"/metrics/{judge['id']}")["judgeCache"] is False
    judged_run(client, project, testset, testcases, judge)
    second = judged_run(client, project, testset, testcases, judge)
    assert len(fake_openai.requests) == 2 * CASES and second["statusDetail"]["judgeCacheHits"] == 0

    # Turned on again, the metric's answers from now on are kept and reused.
    assert (
        client.patch(f"/metrics/{judge['id']}", {"evalType": "ai", "outputType": "int", "judgeCache": True})[
            "judgeCache"
        ]
        is True
    )
    judged_run(client, project, testset, testcases, judge)
    fake_openai.reset()
    judged_run(client, project, testset, testcases, judge)
    assert fake_openai.requests == []


def test_a_rescore_reuses_the_cache_unless_asked_fresh(world, fake_openai):
    client, project, testset, testcases = world
    judge = metric(client, project, name="Judge", evalType="ai", outputType="boolean", promptTemplate=PROMPT)
    run = judged_run(client, project, testset, testcases, judge)

    fake_openai.reset()
    client.post(f"/runs/{run['id']}/rescore", {"metricIds": [judge["id"]]})
    again = wait_for_run(client, run["id"])
    assert fake_openai.requests == [] and again["statusDetail"]["judgeCacheHits"] == CASES

    client.post(f"/runs/{run['id']}/rescore", {"metricIds": [judge["id"]], "fresh": True})
    fresh = wait_for_run(client, run["id"])
    assert len(fake_openai.requests) == CASES and fresh["statusDetail"]["judgeCacheHits"] == 0
    assert not any(u["cached"] for u in usages(client, fresh, judge))


def test_a_judge_error_is_not_kept_so_the_next_asking_calls_the_judge_again(world, fake_openai):
    client, project, testset, testcases = world
    judge = metric(client, project, name="Judge", evalType="ai", outputType="boolean", promptTemplate=PROMPT)
    fake_openai.fail_next(status=400, times=CASES)  # not retried: every score of the run fails
    failed = judged_run(client, project, testset, testcases, judge)
    assert failed["status"] == "error" and failed["statusDetail"]["judgeCacheHits"] == 0
    assert len(fake_openai.requests) == CASES

    fake_openai.reset()
    second = judged_run(client, project, testset, testcases, judge)
    assert second["status"] == "completed" and len(fake_openai.requests) == CASES


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/runs/{run}/rescore", {"metricIds": ["{metric}"], "fresh": "yes"}, "fresh"),
        (
            "/projects/{project}/metrics",
            {"name": "m", "evalType": "ai", "outputType": "boolean", "judgeCache": 3},
            "judgeCache",
        ),
    ],
)
def test_a_flag_that_is_not_a_boolean_is_refused_naming_it(world, path, body, field):
    client, project, testset, _testcases = world
    judge = metric(client, project, name="Judge", evalType="ai", outputType="boolean")
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [judge["id"]]})
    ids = {"run": run["id"], "metric": judge["id"], "project": project["id"]}
    body = {k: [v.format(**ids) for v in value] if isinstance(value, list) else value for k, value in body.items()}
    with pytest.raises(ApiError) as refused:
        client.post(path.format(**ids), body)
    assert refused.value.status == 400 and refused.value.details["field"] == field, refused.value
    with pytest.raises(ApiError) as refused:
        client.patch(f"/metrics/{judge['id']}", {"evalType": "ai", "outputType": "boolean", "judgeCache": "no"})
    assert refused.value.status == 400 and refused.value.details["field"] == "judgeCache"
