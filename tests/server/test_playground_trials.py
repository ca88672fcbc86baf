"""The playground's trial store: bounded (the oldest trial dropped and stopped), each trial reached
only by its own session and project; re-scoring keeps the scores of unchanged metrics."""

from __future__ import annotations

from runner.systems import SystemCall
from scorecard_core.scoring.one_record import Scored
from server.playground_trials import Case, Trial, TrialMetric, TrialStore

KIND = TrialMetric("1", "Kind", "boolean", None, {"eval_type": "ai", "guidelines": "be kind"})
EXACT = TrialMetric("2", "Exact", "boolean", None, {"eval_type": "heuristic", "heuristic": {"type": "exact_match"}})


def trial(owner: str = "me", project_id: int = 1) -> Trial:
    return Trial(owner, project_id, {}, [Case("Testcase #1", {"q": 1}, {})], [KIND, EXACT])


def test_the_store_keeps_the_newest_trials_and_stops_the_dropped_ones():
    store = TrialStore(limit=2)
    first, second, third = trial(), trial(), trial()
    for each in (first, second, third):
        store.add(each)
    assert store.get(first.id, "me", 1) is None and first.dropped.is_set()
    assert store.get(third.id, "me", 1) is third and not third.dropped.is_set()


def test_a_trial_is_reached_only_by_its_session_and_project():
    store = TrialStore()
    mine = trial()
    store.add(mine)
    assert store.get(mine.id, "someone else", 1) is None
    assert store.get(mine.id, "me", 2) is None
    assert store.get("guessed", "me", 1) is None


def test_rescoring_keeps_unchanged_scores_and_drops_results_for_old_guidelines():
    one = trial()
    one.record_call(0, SystemCall({"response": "hi"}, None, 0.1))
    _case, wanted = one.claim(0)
    assert wanted == [KIND, EXACT]
    for metric in wanted:
        one.record_score(0, metric, Scored({"binaryScore": True, "reasoning": metric.name}))
    assert one.snapshot()[2]  # done

    kinder = TrialMetric("1", "Kind", "boolean", None, {"eval_type": "ai", "guidelines": "be kinder"})
    one.change_metrics([kinder, EXACT])
    cases, _metrics, done = one.snapshot()
    assert not done and set(cases[0].scores) == {"2"}
    one.record_score(0, KIND, Scored({"binaryScore": False}))  # judged with the old guidelines: dropped
    assert "1" not in one.snapshot()[0][0].scores
    assert one.claim(0)[1] == [kinder] and one.claim(0)[1] == []  # claimed once


def test_an_output_too_large_to_keep_is_cut():
    one = trial()
    one.record_call(0, SystemCall({"response": "x" * 50_000}, None, 0.1))
    case = one.snapshot()[0][0]
    assert case.outputs_cut and len(case.outputs["response"]) == 20_000


def test_giving_up_ends_every_call_and_score_still_waited_for():
    one = Trial("me", 1, {}, [Case("a", {}, {}), Case("b", {}, {})], [KIND])
    one.record_call(0, SystemCall({"response": "hi"}, None, 0.1))
    one.give_up("no API key")
    cases, _metrics, done = one.snapshot()
    assert done and cases[1].error == "no API key" and cases[0].scores["1"].error == "no API key"
