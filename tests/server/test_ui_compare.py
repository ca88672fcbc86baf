"""Comparing two runs over real HTTP, on both databases: the metrics side by side worded exactly
as ``scorecard_core.wording`` words the same data, the per-testcase table's filters and pages
matching the comparison's own lists, runs of different testsets refused naming both, two runs
ticked in the runs list, the run page's way in, the history charts' data and headline, and the
vendored uPlot being the files its README pins."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import pytest

from scorecard_core import wording
from scorecard_core.comparison import DEFAULT_ALPHA, compare_summaries
from scorecard_core.report import natural_order
from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric, upload
from tests.server.test_ui import HOSTILE, browser, data_dir, text_of  # noqa: F401 (fixtures)
from tests.server.test_ui_run_verdicts import wire_summary

UPLOT = Path(__file__).parents[2] / "server/ui/static/vendor/uplot"
CASES = 30  # more than a page of testcases (25)
BASELINE_RIGHT = range(0, 20)
CURRENT_RIGHT = set(range(0, 5)) | set(range(20, 25))


@pytest.fixture
def two_runs(client):
    """A baseline right on testcases 0-19 and a run right on 0-4 and 20-24: 15 testcases
    regressed, 5 improved, 10 unchanged, under an exact-match metric with a hostile name."""
    project, testset, testcases = make_project(client, cases=CASES)
    exact = metric(
        client, project, name=f"Exact {HOSTILE}", evalType="heuristic", outputType="boolean", heuristic=EXACT
    )

    def scored_run(right) -> dict:
        run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
        upload(
            client, run, testcases, answer=lambda tc: tc["expected"]["answer"] if tc in right else f"wrong {HOSTILE}"
        )
        return wait_for_run(client, run["id"])

    baseline = scored_run([testcases[i] for i in BASELINE_RIGHT])
    current = scored_run([testcases[i] for i in CURRENT_RIGHT])
    return project, testcases, baseline, current


def compare_url(server, project: dict) -> str:
    return f"{server.url}/projects/{project['id']}/compare"


def listed_testcases(page: str) -> list[str]:
    return re.findall(r'<tr class="testcase \w+">\s*<td><code>([^<]+)</code>', page)


def test_metrics_side_by_side_are_worded_as_wording_words_them(server, browser, client, two_runs):
    project, _testcases, baseline, current = two_runs
    page = browser.get(compare_url(server, project), params={"run": current["id"], "baseline": baseline["id"]})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    shown = text_of(page.text)

    now, then = wire_summary(client, current), wire_summary(client, baseline)
    comparison = compare_summaries(now, then, DEFAULT_ALPHA, baseline_label=f"run {baseline['id']}")
    (entry,) = comparison["metrics"]
    assert f'<span class="verdict {entry["verdict"]}">{html.escape(wording.change(entry))}</span>' in page.text
    assert comparison["sentence"] in shown
    (run_metric,), (base_metric,) = now.metrics, then.metrics
    assert f"Exact {HOSTILE} {wording.metric_result(run_metric)} {wording.metric_result(base_metric)}" in shown
    assert wording.rate_with_interval(now.pass_rate, now.pass_rate_estimate) in shown
    assert wording.levels_note(comparison) in shown
    assert "Nothing reported: neither run's records carry durations or token usage" in shown


def test_the_testcase_filters_and_pages_match_the_comparison(server, browser, client, two_runs):
    project, testcases, baseline, current = two_runs
    ids = [str(tc["id"]) for tc in testcases]
    expected = {
        "regressed": ids[5:20],
        "improved": ids[20:25],
        "unchanged": ids[0:5] + ids[25:30],
    }
    comparison = compare_summaries(wire_summary(client, current), wire_summary(client, baseline))
    (entry,) = comparison["metrics"]
    assert entry["regressedTestcaseIds"] == expected["regressed"]  # the page's lists are the comparison's
    assert entry["improvedTestcaseIds"] == expected["improved"]

    url = compare_url(server, project)
    base_params = {"run": current["id"], "baseline": baseline["id"]}
    first = browser.get(url, params=base_params).text
    assert "All (30)" in first and "Regressed (15)" in first and "Improved (5)" in first and "Unchanged (10)" in first
    assert listed_testcases(first) == sorted(ids, key=natural_order)[:25] and "Page 1 of 2" in first
    next_link = html.unescape(re.search(r'href="([^"]+)">Next →', first).group(1))
    second = browser.get(f"{server.url}{next_link}").text
    assert listed_testcases(second) == sorted(ids, key=natural_order)[25:] and "← Previous" in second

    for status, wanted in expected.items():
        link = html.unescape(re.search(rf'href="([^"]+)" data-show="{status}"', first).group(1))
        filtered = browser.get(f"{server.url}{link}")
        assert filtered.status_code == 200, status
        assert listed_testcases(filtered.text) == wanted, status
        assert filtered.text.count(f'<tr class="testcase {status}">') == len(wanted)

    # Both runs' outputs and scores, side by side, for a regressed testcase.
    regressed = browser.get(url, params={**base_params, "show": "regressed"}).text
    row = regressed.split(f"<code>{ids[5]}</code>")[1].split("</tr>")[0]
    assert html.escape(f"wrong {HOSTILE}") in row and "a5" in row
    assert row.index('class="score fail"') < row.index('class="score pass"')  # run first, baseline second

    odd = browser.get(url, params={**base_params, "show": "sideways"})
    assert odd.status_code == 200 and "Unknown show &#39;sideways&#39;" in odd.text and "All (30)" in odd.text
    bad_page = browser.get(url, params={**base_params, "page": "zero"})
    assert bad_page.status_code == 400 and "page" in text_of(bad_page.text)


def test_runs_of_different_testsets_are_refused_naming_both(server, browser, client, two_runs):
    project, _testcases, baseline, _current = two_runs
    other = client.post(
        f"/projects/{project['id']}/testsets",
        {"name": f"other {HOSTILE}", "jsonSchema": {"type": "object"}, "fieldMapping": {"inputs": [], "expected": []}},
    )
    elsewhere = client.post(f"/projects/{project['id']}/runs", {"testsetId": other["id"], "metricIds": []})
    page = browser.get(compare_url(server, project), params={"run": elsewhere["id"], "baseline": baseline["id"]})
    assert page.status_code == 400
    shown = text_of(page.text)
    assert f"run #{elsewhere['id']} is on testset “other {HOSTILE}” (#{other['id']})" in shown
    assert f"run #{baseline['id']} is on testset “t”" in shown and "pick two runs of one testset" in shown
    assert "<script>alert(1)</script>" not in page.text

    itself = browser.get(compare_url(server, project), params={"run": baseline["id"], "baseline": baseline["id"]})
    assert itself.status_code == 400 and "cannot be compared with itself" in itself.text
    missing = browser.get(compare_url(server, project), params={"run": 99999999, "baseline": baseline["id"]})
    assert missing.status_code == 404


def test_ticking_two_runs_in_the_list_opens_their_comparison(server, browser, client, two_runs):
    project, _testcases, baseline, current = two_runs
    project_page = browser.get(f"{server.url}/projects/{project['id']}").text
    assert f'<form id="compare-runs" method="get" action="/projects/{project["id"]}/compare"' in project_page
    for run in (baseline, current):
        assert f'name="run" value="{run["id"]}" form="compare-runs"' in project_page

    ticked = browser.get(
        compare_url(server, project), params=[("run", baseline["id"]), ("run", current["id"])], allow_redirects=False
    )
    assert ticked.status_code == 302
    assert (
        ticked.headers["Location"] == f"/projects/{project['id']}/compare?run={current['id']}&baseline={baseline['id']}"
    )

    for ticks in ([], [("run", current["id"])], [("run", r["id"]) for r in (baseline, current, current)]):
        refused = browser.get(compare_url(server, project), params=ticks)
        assert refused.status_code == 200 and refused.url == f"{server.url}/projects/{project['id']}"
        assert f"Tick exactly two runs to compare (you ticked {len(ticks)})." in refused.text

    run_page = browser.get(f"{server.url}/projects/{project['id']}/runs/{current['id']}").text
    link = f"/projects/{project['id']}/compare?run={current['id']}&amp;baseline={baseline['id']}"
    assert f'<a href="{link}">Open the full comparison</a>' in run_page


def test_history_data_and_the_headline_of_the_latest_completed_run(server, browser, client, two_runs):
    project, testcases, baseline, current = two_runs
    (metric_id,) = (str(m) for m in current["metricIds"])
    # A later run still going (half its testcases uploaded): charted, but not the headline.
    unfinished = client.post(
        f"/projects/{project['id']}/runs", {"testsetId": current["testsetId"], "metricIds": current["metricIds"]}
    )
    upload(client, unfinished, testcases[:3], answer=lambda tc: "wrong")

    page = browser.get(f"{server.url}/projects/{project['id']}").text
    data = json.loads(html.unescape(re.search(r'data-history="([^"]+)"', page).group(1)))
    assert [r["id"] for r in data["runs"]] == [str(baseline["id"]), str(current["id"]), str(unfinished["id"])]
    (series,) = data["metrics"]
    assert series["id"] == metric_id and series["name"] == f"Exact {HOSTILE}" and series["scale"] == [0.0, 1.0]
    assert series["values"][:2] == [20 / 30, 10 / 30]
    assert f'href="/projects/{project["id"]}/metrics/{metric_id}"><strong>Exact' in page
    assert "33%" in page and f"pass rate of run #{current['id']}, the latest completed" in page
    assert "<script>alert(1)</script>" not in page

    # The metric picker keeps the runs list's filters, and the runs list's filter keeps the metrics.
    picked = browser.get(f"{server.url}/projects/{project['id']}", params={"source": "api", "status": "completed"})
    assert '<input type="hidden" name="source" value="api">' in picked.text
    assert '<input type="hidden" name="status" value="completed">' in picked.text
    chosen = browser.get(f"{server.url}/projects/{project['id']}", params={"metric": metric_id}).text
    assert f'<input type="hidden" name="metric" value="{metric_id}">' in chosen


def test_the_vendored_uplot_is_the_files_its_readme_names():
    readme = (UPLOT / "README.md").read_text()
    version = re.search(r"version \*\*([0-9.]+)\*\*", readme).group(1)
    assert (
        (UPLOT / "uPlot.iife.min.js").read_text().startswith(f"/*! https://github.com/leeoniya/uPlot (v{version}) */")
    )
    for name in ("uPlot.iife.min.js", "uPlot.min.css"):
        assert hashlib.sha256((UPLOT / name).read_bytes()).hexdigest() in readme, name
    assert "MIT License" in (UPLOT / "LICENSE").read_text()
