"""The run page says how sure its figures are, over real HTTP on both databases: each metric's
result with its 95% interval and the comparison with a baseline worded exactly as the PR comment
words them (the same figures from the API's listing, through ``scorecard_core.wording``); a bad
``?baseline=`` is a message on a page that still shows everything; no baseline is said plainly;
latency, tokens and cost beside the baseline's; re-scoring can ask the judge again."""

from __future__ import annotations

import html
import re

import pytest

from scorecard_core import wording
from scorecard_core.comparison import DEFAULT_ALPHA, compare_summaries
from scorecard_core.report_wire import summarize_wire
from tests.conftest import wait_for_run
from tests.server.test_judge_cache_api import PROMPT
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric, upload
from tests.server.test_ui import HOSTILE, browser, csrf_token, data_dir  # noqa: F401 (fixtures)

CASES = 12
RIGHT_NOW = 2  # the current run answers only the first two testcases right: a clear regression


@pytest.fixture
def compared(client):
    """A project with a baseline run answering every testcase right and a later run answering
    most of them wrong, both scored by an exact-match metric whose name is hostile HTML."""
    project, testset, testcases = make_project(client, cases=CASES)
    exact = metric(
        client, project, name=f"Exact {HOSTILE}", evalType="heuristic", outputType="boolean", heuristic=EXACT
    )

    def scored_run(answer, **extra) -> dict:
        run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
        upload(client, run, testcases, answer=answer, **extra)
        return wait_for_run(client, run["id"])

    baseline = scored_run(lambda tc: tc["expected"]["answer"], durationMs=400)
    usage = {"model": "model-x", "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}
    current = scored_run(
        lambda tc: tc["expected"]["answer"] if tc in testcases[:RIGHT_NOW] else "wrong",
        durationMs=1500,
        metadata=usage,
    )
    return project, testset, exact, baseline, current


def run_url(server, project: dict, run: dict) -> str:
    return f"{server.url}/projects/{project['id']}/runs/{run['id']}"


def wire_summary(client, run: dict):
    """The run's figures as the PR comment computes them: from the API's records listing."""
    run = client.get(f"/runs/{run['id']}")
    metrics = {str(m): client.get(f"/metrics/{m}") for m in run["metricIds"]}
    return summarize_wire(run, metrics, list(client.paginate(f"/runs/{run['id']}/records")))


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_results_and_the_verdict_are_worded_as_the_pr_comment_words_them(server, browser, client, compared):
    project, _testset, _exact, baseline, current = compared
    page = browser.get(run_url(server, project, current))
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text  # the metric's name is shown as text
    shown = text_of(page.text)

    now, then = wire_summary(client, current), wire_summary(client, baseline)
    (figures,) = now.metrics
    assert wording.metric_result(figures) in shown  # "16.7% (4.7-44.8%)"
    assert f"Overall pass rate {wording.rate_with_interval(now.pass_rate, now.pass_rate_estimate)}" in shown
    comparison = compare_summaries(now, then, DEFAULT_ALPHA, baseline_label=f"run {baseline['id']}")
    (entry,) = comparison["metrics"]
    assert entry["verdict"] == "regressed"
    assert f'<span class="verdict regressed">{html.escape(wording.change(entry))}</span>' in page.text
    assert "regressed (p " in shown
    assert comparison["sentence"] in shown and comparison["sentence"].startswith(f"Regression in Exact {HOSTILE}")
    assert f"Compared with run #{baseline['id']}" in shown
    assert f'href="/projects/{project["id"]}/runs/{baseline["id"]}"' in page.text
    assert "The latest earlier completed run of the same testset" in shown
    assert "Intervals are 95% for the figures and 98% for the changes" in shown
    detectable = wording.detectable(entry, entry["detectableChange"])
    assert f"Smallest change this run could detect (80% power, α = 0.01): Exact {HOSTILE} {detectable}." in shown

    # Latency and tokens beside the baseline's; a model without a price is never $0.
    assert re.search(r"Latency p50 1\.50 s 400 ms \+1\.10 s", shown)
    assert "System tokens 1,440 0" in shown
    assert "Estimated cost unknown (no price for model-x) unknown (no token usage reported)" in shown


def test_a_baseline_can_be_picked_and_a_bad_one_is_a_message_on_a_full_page(server, browser, client, compared):
    project, testset, exact, baseline, current = compared
    url = run_url(server, project, current)
    # The baseline page itself: picking the later run as its baseline shows an improvement.
    picked = browser.get(run_url(server, project, baseline), params={"baseline": current["id"]})
    assert picked.status_code == 200
    assert '<span class="verdict improved">' in picked.text and "The baseline you picked" in picked.text
    assert f'<option value="{current["id"]}" selected>' in picked.text

    other_project, _, _ = make_project(client, cases=1)
    elsewhere = client.post(f"/projects/{other_project['id']}/runs", {"metricIds": []})
    for given, message in (
        ("abc", "“abc” is not a run ID"),
        (str(elsewhere["id"]), f"Run {elsewhere['id']} is not a run of this project."),
        ("99999999", "Run 99999999 is not a run of this project."),
        (str(current["id"]), "A run cannot be its own baseline."),
    ):
        page = browser.get(url, params={"baseline": given})
        assert page.status_code == 200, given
        shown = text_of(page.text)
        assert message in shown and "Pick a run under “Compare with”" in shown
        # Nothing lost: the figures, the records and the automatic baseline are all there.
        assert f"Compared with run #{baseline['id']}" in shown and "Overall pass rate" in shown
        assert page.text.count('class="data"') == 3 * CASES


def test_no_baseline_is_said_plainly(server, browser, client):
    project, testset, testcases = make_project(client, cases=2)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    upload(client, run, testcases)
    wait_for_run(client, run["id"])
    shown = text_of(browser.get(run_url(server, project, run)).text)
    assert "No baseline: this is the only run of its testset in this project" in shown
    assert "100.0% (" in shown and "Compare with" not in shown
    assert "Nothing reported: the records carry no durations or token usage" in shown

    later = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    assert f"Compared with run #{run['id']}" in text_of(browser.get(run_url(server, project, later)).text)
    first_shown = text_of(browser.get(run_url(server, project, run)).text)
    assert "No baseline: no earlier run of this testset has completed." in first_shown
    assert "Compare with" in first_shown


def test_rescore_can_ask_the_judge_again(server, browser, client, fake_openai):
    project, testset, testcases = make_project(client, cases=3)
    judge = metric(client, project, name="Judge", evalType="ai", outputType="boolean", promptTemplate=PROMPT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [judge["id"]]})
    upload(client, run, testcases)
    wait_for_run(client, run["id"])
    url = run_url(server, project, run)
    page = browser.get(url).text
    assert '<input type="checkbox" name="fresh" value="1">' in page
    assert "Ask the judge again (skip the judge cache)" in page

    fake_openai.reset()
    cached = browser.post(f"{url}/rescore", data={"metric_id": judge["id"], "csrf_token": csrf_token(page)})
    assert "Re-scoring started with 1 metric(s): Judge." in html.unescape(cached.text)
    assert wait_for_run(client, run["id"])["statusDetail"]["judgeCacheHits"] == 3 and fake_openai.requests == []

    fresh = browser.post(
        f"{url}/rescore", data={"metric_id": judge["id"], "fresh": "1", "csrf_token": csrf_token(page)}
    )
    assert "Re-scoring started with 1 metric(s), asking the judge again: Judge." in html.unescape(fresh.text)
    done = wait_for_run(client, run["id"])
    assert done["statusDetail"]["judgeCacheHits"] == 0 and len(fake_openai.requests) == 3
    assert "Judge cache hits 0" in text_of(browser.get(url).text)

    refused = browser.post(f"{url}/rescore", data={"fresh": "1", "csrf_token": csrf_token(page)})
    assert refused.status_code == 400 and 'name="fresh" value="1" checked' in refused.text


def test_trials_show_pass_all_trials_and_the_flaky_testcases(server, browser, client):
    project, testset, testcases = make_project(client, cases=14)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    # Two trials of each testcase in one batch: every first trial right, the second right for two
    # testcases and wrong for twelve (flaky ones).
    trials = [(tc, 0, tc["expected"]["answer"]) for tc in testcases]
    trials += [(tc, 1, tc["expected"]["answer"] if tc in testcases[:2] else "wrong") for tc in testcases]
    items = [
        {
            "testcaseId": tc["id"],
            "trial": trial,
            "inputs": tc["inputs"],
            "expected": tc["expected"],
            "outputs": {"answer": answer},
        }
        for tc, trial, answer in trials
    ]
    client.post(f"/runs/{run['id']}/records/batch", {"items": items})
    wait_for_run(client, run["id"])
    page = browser.get(run_url(server, project, run)).text
    shown = text_of(page)
    (figures,) = wire_summary(client, run).metrics
    assert figures.trials == 2 and wording.metric_result(figures) in shown and "pass^2 14.3%" in shown
    flaky = figures.flaky_testcase_ids
    listed = ", ".join(f"<code>{html.escape(i)}</code>" for i in flaky[:10])
    assert f"Exact: {listed} and 2 more" in re.sub(r"\s+", " ", page)
