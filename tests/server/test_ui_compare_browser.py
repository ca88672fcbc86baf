"""Comparing runs and reading their history in a real browser (Chromium): two runs ticked in the
runs list open their comparison, its filters narrow the testcases, the history charts (uPlot)
move their cursors together and name the hovered run's value of every metric, the metric picker
keeps the runs list's filters, and both pages fit a phone without sideways scrolling. Screenshots
go to the test's temporary directory, for a person to look at when the layout changes."""

from __future__ import annotations

import re

import pytest

from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric, upload
from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page and phone_page)
    console_errors,
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)

from .test_ui import HOSTILE, SIMILAR, data_dir  # noqa: F401  (data_dir: the UI's secret key per test)
from .test_ui_compare import compare_url, two_runs  # noqa: F401  (two_runs: a fixture)


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The browser sees the same pages on either database: SQLite keeps these tests fast."""
    return sqlite_url


@pytest.fixture
def history(client):
    """Three completed runs scored by a boolean and an int metric: 100%, 50%, 0% right."""
    project, testset, testcases = make_project(client, cases=4)
    exact = metric(
        client, project, name=f"Exact {HOSTILE}", evalType="heuristic", outputType="boolean", heuristic=EXACT
    )
    similar = metric(client, project, name="Similar", evalType="heuristic", outputType="int", heuristic=SIMILAR)
    runs = []
    for right in (4, 2, 0):
        run = client.post(
            f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"], similar["id"]]}
        )
        upload(
            client, run, testcases, answer=lambda tc, r=right: tc["expected"]["answer"] if tc in testcases[:r] else "x"
        )
        runs.append(wait_for_run(client, run["id"]))
    return project, exact, similar, runs


def test_ticking_two_runs_opens_the_comparison_and_its_filters(page, server, api_key, two_runs, tmp_path):
    project, _testcases, baseline, current = two_runs
    signed_in(page, server, api_key).goto(f"{server.url}/projects/{project['id']}")
    page.check(f"input[name=run][value='{current['id']}']")
    page.click("#compare-runs button")
    assert "Tick exactly two runs to compare (you ticked 1)." in page.inner_text(".flash.error")

    page.check(f"input[name=run][value='{current['id']}']")
    page.check(f"input[name=run][value='{baseline['id']}']")
    page.click("#compare-runs button")
    page.wait_for_url(f"{compare_url(server, project)}?run={current['id']}&baseline={baseline['id']}")
    assert page.locator("#metrics .verdict").first.is_visible()
    assert page.locator("tr.testcase").count() == 25
    page.screenshot(path=tmp_path / "compare-1280.png", full_page=True)

    page.click("a[data-show=regressed]")
    page.wait_for_url(re.compile(r"show=regressed"))
    assert page.locator("tr.testcase.regressed").count() == 15 == page.locator("tr.testcase").count()
    page.click("a[data-show=improved]")
    page.wait_for_url(re.compile(r"show=improved"))
    assert page.locator("tr.testcase.improved").count() == 5 == page.locator("tr.testcase").count()
    assert page.locator("a[data-show=improved]").get_attribute("aria-current") == "page"
    assert console_errors(page) == []


def test_the_comparison_fits_a_phone(phone_page, server, api_key, two_runs, tmp_path):
    project, _testcases, baseline, current = two_runs
    signed_in(phone_page, server, api_key).goto(
        f"{compare_url(server, project)}?run={current['id']}&baseline={baseline['id']}"
    )
    assert not overflows_horizontally(phone_page), f"the compare page scrolls sideways at {phone_page.viewport_size}"
    phone_page.screenshot(path=tmp_path / "compare-390.png", full_page=False)
    phone_page.locator("#testcases").screenshot(path=tmp_path / "compare-testcases-390.png")
    assert console_errors(phone_page) == []


def hover_run(page, chart_index: int, run_index: int, runs: int) -> None:
    """Moves the mouse over one chart's plot, above the run_index'th run (x spans -0.5 to runs - 0.5)."""
    box = page.locator(".uplot .u-over").nth(chart_index).bounding_box()
    page.mouse.move(box["x"] + box["width"] * (run_index + 0.5) / runs, box["y"] + box["height"] / 2)


def test_history_charts_move_their_cursors_together(page, server, api_key, history, tmp_path):
    project, exact, similar, runs = history
    signed_in(page, server, api_key).goto(f"{server.url}/projects/{project['id']}")
    page.wait_for_selector(".uplot")
    assert page.locator(".uplot").count() == 2 and page.locator(".chart svg").first.is_hidden()

    hover_run(page, 0, 1, len(runs))
    readout = page.locator(".history-readout")
    readout.wait_for(state="visible")
    text = readout.inner_text()
    assert text.startswith(f"Run #{runs[1]['id']} · ") and f"Exact {HOSTILE} 50%" in text and "Similar " in text
    # The other chart's cursor stands at the same run, and its legend shows that run's value.
    cursors, plots = page.locator(".uplot .u-cursor-x"), page.locator(".uplot .u-over")
    at = [cursors.nth(i).bounding_box()["x"] - plots.nth(i).bounding_box()["x"] for i in range(2)]
    assert abs(at[0] - at[1]) < 1.5 and at[0] > 0
    assert page.locator(".uplot").nth(1).locator(".u-legend .u-value").nth(0).inner_text() == f"#{runs[1]['id']}"
    page.screenshot(path=tmp_path / "history-hover-1280.png")

    hover_run(page, 1, 2, len(runs))
    assert page.locator(".history-readout").inner_text().startswith(f"Run #{runs[2]['id']} · ")
    assert f"Exact {HOSTILE} 0%" in page.locator(".history-readout").inner_text()
    assert page.locator(".uplot").nth(0).locator(".u-legend .u-value").nth(1).inner_text() == "0%"

    title = page.locator(".chart-title").first
    assert title.get_attribute("href") == f"/projects/{project['id']}/metrics/{exact['id']}"
    assert console_errors(page) == []


def test_the_metric_picker_keeps_the_filters_and_fits_a_phone(phone_page, server, api_key, history, tmp_path):
    project, _exact, similar, _runs = history
    page = signed_in(phone_page, server, api_key)
    page.goto(f"{server.url}/projects/{project['id']}?source=api&status=completed")
    page.wait_for_selector(".uplot")
    assert not overflows_horizontally(page), f"the project page scrolls sideways at {page.viewport_size}"
    page.click(".metric-picker summary")
    page.uncheck(".metric-picker input[name=metric] >> nth=0")
    page.screenshot(path=tmp_path / "picker-390.png")
    page.click(".metric-picker button")
    page.wait_for_url(re.compile(r"metric="))
    url = page.url
    assert "source=api" in url and "status=completed" in url and f"metric={similar['id']}" in url
    page.wait_for_selector(".uplot")
    assert page.locator(".uplot").count() == 1 and "Similar" in page.inner_text(".chart figcaption")
    assert page.locator("select[name=source]").input_value() == "api"
    assert not overflows_horizontally(page)
    page.screenshot(path=tmp_path / "project-390.png", full_page=True)
    assert console_errors(page) == []
