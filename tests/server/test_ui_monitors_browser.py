"""The monitors pages in a real browser (Chromium): a monitor made from the Traces page's link with
its filters, run now, its cycle row filled in as the page follows the run's scoring, with the
run's pass rate and interval; the list, the form and a monitor's page fit a phone without sideways
scrolling; no console errors (the fixtures check). Screenshots of the three pages at 1280 and
390 px go to the test's temporary directory."""

from __future__ import annotations

import re

import pytest

from scorecard_core.models import utcnow
from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page and phone_page)
    console_errors,
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)
from tests.support.chat_spans import chat_row, store_rows

from .test_ui import data_dir  # noqa: F401  (the UI's secret key per test)
from .test_ui_monitors import POLITE, project  # noqa: F401  (project: a fixture)

INTERVAL = re.compile(r"\d+\.\d% \(\d+\.\d-\d+\.\d%\)")


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The browser sees the same pages on either database: SQLite keeps these tests fast."""
    return sqlite_url


@pytest.fixture
def chats(server, project) -> None:
    """Three chats of chat-app and one of another service, received just now."""
    rows = [chat_row(int(project.id), n, utcnow()) for n in range(1, 4)]
    rows.append(chat_row(int(project.id), 9, utcnow(), service="other-app"))
    store_rows(server.app.extensions["scorecard.engine"], rows)


def test_a_monitor_from_the_traces_page_run_now_shows_its_runs_pass_rate(
    page, server, api_key, project, chats, tmp_path
):
    tab = signed_in(page, server, api_key)
    tab.goto(f"{server.url}/projects/{project.id}/traces")
    tab.select_option("select[name=service]", "chat-app")
    tab.click("button:text('Filter')")
    tab.wait_for_url("**service=chat-app**")
    tab.click("a:text('Monitor these traces')")
    tab.wait_for_url("**/monitors/new?service=chat-app")
    assert tab.input_value("input[name=service_name]") == "chat-app"
    tab.fill("input[name=description]", "chat-app answers")
    tab.fill("textarea[name=new_metrics]", POLITE)
    tab.select_option("select[name=frequency_minutes]", "5")
    tab.fill("input[name=sample_rate]", "100")
    tab.fill("input[name=span_name]", "chat(")
    tab.click("button:text('Create monitor')")
    problem = tab.locator("#problem-span_name")
    assert "Span name is not a valid regular expression" in problem.inner_text()
    assert tab.input_value("textarea[name=new_metrics]") == POLITE, "what was typed is kept"
    tab.screenshot(path=tmp_path / "monitor-form-refused-1280.png", full_page=True)
    errors = console_errors(tab)
    assert [e for e in errors if "status of 400" in e] == errors != []
    errors.clear()  # the refused form's page is a 400, on purpose
    tab.fill("input[name=span_name]", "^chat")
    tab.click("button:text('Create monitor')")
    tab.wait_for_url(re.compile(r".*/monitors/\d+$"))
    assert "Monitor created" in tab.inner_text(".flash.ok")

    tab.fill("input[name=lookback_minutes]", "10")
    tab.click("button:text('Run now')")
    tab.locator(".flash.ok", has_text="3 matching spans, 3 sampled").wait_for()
    row = tab.locator("table.cycles tbody tr").first
    # The page follows the run until it is scored: the row fills in without a reload.
    row.locator(".badge.completed").wait_for(timeout=20_000)
    assert INTERVAL.search(row.locator(".pass-rate").inner_text())
    assert POLITE in row.inner_text() and INTERVAL.search(row.locator(".metric-results").inner_text())
    tab.screenshot(path=tmp_path / "monitor-1280.png", full_page=True)

    row.locator("a:text('Run #')").click()
    tab.wait_for_url(re.compile(r".*/runs/\d+$"))
    assert tab.inner_text("h1").startswith("Run #")
    tab.click("nav.project-nav a:text('Monitors')")
    assert INTERVAL.search(tab.locator(".monitor-card .pass-rate").inner_text())
    tab.screenshot(path=tmp_path / "monitors-1280.png", full_page=True)
    print(tmp_path)


def test_the_pages_fit_a_phone(phone_page, server, api_key, client, project, chats, tmp_path):
    base = f"{server.url}/projects/{project.id}/monitors"
    tab = signed_in(phone_page, server, api_key)
    tab.goto(base)
    assert not overflows_horizontally(tab)
    tab.screenshot(path=tmp_path / "monitors-empty-390.png", full_page=True)
    monitor = client.put(
        f"/projects/{project.id}/monitors",
        {
            "description": "A long description of what this monitor watches, in production, every hour",
            "metrics": [POLITE, project.exact["id"]],
            "filter": {"serviceName": "chat-app", "spanName": r"^chat\b", "search": "question"},
            "sampleRate": 100,
        },
    )
    client.post(f"/monitors/{monitor['id']}/run", {"lookbackMinutes": 10})
    for path, name in (("", "monitors"), ("/new", "monitor-form"), (f"/{monitor['id']}", "monitor")):
        tab.goto(base + path)
        assert not overflows_horizontally(tab), name
        tab.screenshot(path=tmp_path / f"{name}-390.png", full_page=True)
    print(tmp_path)
