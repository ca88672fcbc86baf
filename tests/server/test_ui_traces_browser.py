"""The Traces pages in a real browser (Chromium): filtering by service, opening a trace, clicking
a span to see its messages and tokens, timing bars drawn by the page's script, and both pages at
390 px without sideways scrolling; no console errors (the fixtures check). Screenshots of both
pages at 1280 and 390 px go to the test's temporary directory."""

from __future__ import annotations

import pytest

from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page and phone_page)
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)
from tests.support.trace_world import trace_id

from .test_ui import data_dir  # noqa: F401  (the UI's secret key per test)
from .test_ui_traces import project  # noqa: F401  (a fixture)


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The browser sees the same pages on either database: SQLite keeps these tests fast."""
    return sqlite_url


def shown_traces(tab) -> list[str]:
    return [
        href.rsplit("/", 1)[1]
        for href in tab.locator(".traces-table tbody a").evaluate_all("l => l.map(a => a.pathname)")
    ]


def test_filter_open_a_trace_and_a_span(page, server, api_key, project, tmp_path):
    tab = signed_in(page, server, api_key)
    tab.goto(f"{server.url}/projects/{project['id']}")
    tab.click("nav.project-nav a:text('Traces')")
    assert shown_traces(tab) == [trace_id(3), trace_id(2), trace_id(1)]
    tab.screenshot(path=tmp_path / "traces-1280.png", full_page=True)

    tab.select_option("select[name=service]", "checkout")
    tab.click("button:text('Filter')")
    tab.wait_for_url("**service=checkout**")
    assert shown_traces(tab) == [trace_id(1)]

    tab.click(".traces-table tbody a")
    tab.wait_for_url(f"**/traces/{trace_id(1)}")
    bars = tab.locator(".timing-bar")
    assert tab.locator(".timing").first.is_visible()
    assert [bars.nth(i).evaluate("b => b.style.left") for i in range(2)] == ["0%", "10%"]
    tab.click(".span-tree a:text('openai.chat')")
    tab.wait_for_url("**span=0000000000000002**")
    details = tab.locator("#span-details")
    assert "What is 2+2?" in details.inner_text() and "12 input · 3 output" in details.inner_text()
    assert "openai.chat" in tab.locator(".span-row.selected").inner_text()
    tab.screenshot(path=tmp_path / "trace-1280.png", full_page=True)
    print(tmp_path)


def test_both_pages_fit_a_phone(phone_page, server, api_key, project, tmp_path):
    tab = signed_in(phone_page, server, api_key)
    tab.goto(f"{server.url}/projects/{project['id']}/traces")
    assert not overflows_horizontally(tab)
    tab.screenshot(path=tmp_path / "traces-390.png", full_page=True)
    for trace, span in ((1, "0000000000000002"), (3, "0000000000000001")):
        tab.goto(f"{server.url}/projects/{project['id']}/traces/{trace_id(trace)}?span={span}")
        assert not overflows_horizontally(tab)
        tab.screenshot(path=tmp_path / f"trace-{trace}-390.png", full_page=True)
    print(tmp_path)
