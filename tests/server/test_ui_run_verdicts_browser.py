"""The run page's comparison in a real browser (Chromium): the plain sentence and the verdict are
visible, "Compare with" switches the baseline, the page fits a phone without sideways scrolling
and logs no errors. Screenshots at both widths go to the test's temporary directory, for a person
to look at when the layout changes."""

from __future__ import annotations

import pytest

from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page and phone_page)
    console_errors,
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)

from .test_ui import HOSTILE, data_dir  # noqa: F401  (data_dir: the UI's secret key per test)
from .test_ui_run_verdicts import compared, run_url  # noqa: F401  (compared: a fixture)


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The browser sees the same pages on either database: SQLite keeps these tests fast."""
    return sqlite_url


def test_the_verdict_shows_and_compare_with_switches_the_baseline(page, server, api_key, compared, tmp_path):
    project, _testset, _exact, baseline, current = compared
    signed_in(page, server, api_key).goto(run_url(server, project, current))
    sentence = page.locator(".sentence")
    assert sentence.is_visible() and sentence.inner_text().startswith(f"Regression in Exact {HOSTILE}")
    verdict = page.locator(".verdict.regressed")
    assert verdict.is_visible() and "regressed (p " in verdict.inner_text()
    page.screenshot(path=tmp_path / "run-compared-1280.png", full_page=True)

    # The baseline's own page, compared with the later run through the select: an improvement.
    page.goto(run_url(server, project, baseline))
    assert "No baseline: no earlier run of this testset has completed." in page.inner_text("#comparison")
    page.select_option("select[name=baseline]", str(current["id"]))
    page.click("button:text('Compare')")
    page.wait_for_url(f"{run_url(server, project, baseline)}?baseline={current['id']}")
    assert page.locator(".verdict.improved").is_visible()
    assert page.locator(".sentence").inner_text().startswith(f"Improvement in Exact {HOSTILE}")
    assert console_errors(page) == []


def test_the_compared_run_page_fits_a_phone(phone_page, server, api_key, compared, tmp_path):
    project, _testset, _exact, _baseline, current = compared
    signed_in(phone_page, server, api_key).goto(run_url(server, project, current))
    assert phone_page.locator(".sentence").is_visible()
    assert not overflows_horizontally(phone_page), f"the run page scrolls sideways at {phone_page.viewport_size}"
    phone_page.screenshot(path=tmp_path / "run-compared-390.png", full_page=True)
    for panel in ("metrics", "comparison", "usage"):  # a full phone page is too tall to read at once
        phone_page.locator(f"#{panel}").screenshot(path=tmp_path / f"run-{panel}-390.png")
    assert console_errors(phone_page) == []
