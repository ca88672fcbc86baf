"""The metrics pages in a real browser (Chromium): editing a metric shows the change as its next
version, which a run then makes current; the form shows only the fields of the chosen type; the
pages fit a phone without sideways scrolling and log no errors. Screenshots at both widths go to
the test's temporary directory, for a person to look at when the layout changes."""

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
from .test_ui_metrics import new_run, project  # noqa: F401  (project: a fixture)


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The browser sees the same pages on either database: SQLite keeps these tests fast."""
    return sqlite_url


def test_an_edit_shows_as_the_next_version_and_a_run_makes_it_current(page, server, api_key, client, project, tmp_path):
    new_run(client, project, project.polite)
    metric_url = f"{server.url}/projects/{project.id}/metrics/{project.polite['id']}"
    signed_in(page, server, api_key).goto(f"{server.url}/projects/{project.id}/metrics")
    page.click(f"a:text('Polite {HOSTILE}')")
    page.wait_for_url(metric_url)
    assert not page.locator("textarea[name=guidelines]").is_visible(), "the form opens on Edit"

    page.click("summary:text('Edit')")
    page.fill("textarea[name=guidelines]", "Be kind.\nBe brief.")
    page.fill("input[name=passingThreshold]", "3")
    page.click("button:text('Save changes')")
    page.wait_for_url(metric_url)
    assert "These settings become version 2 when the next run" in page.inner_text(".flash.ok")
    newest = page.locator("li.version").first
    assert newest.locator(".badge").inner_text() == "next"
    assert "+ Be brief." in newest.locator("pre.diff").inner_text()
    assert "4\n→\n3" in newest.inner_text() or "4 → 3" in newest.inner_text()
    page.screenshot(path=tmp_path / "metric-edited-1280.png", full_page=True)

    run = new_run(client, project, project.polite)
    page.reload()
    assert page.locator("li.version").first.locator(".badge").inner_text() == "current"
    assert page.locator("#runs tbody tr").first.inner_text().startswith(f"Run #{run['id']}")
    assert console_errors(page) == []


def test_the_form_shows_the_fields_of_the_chosen_type(page, server, api_key, project):
    signed_in(page, server, api_key).goto(f"{server.url}/projects/{project.id}/metrics")
    page.click("summary:text('New metric')")
    form = page.locator("#new-metric")
    assert form.locator("textarea[name=promptTemplate]").is_visible()
    assert not form.locator("textarea[name=heuristic]").is_visible()
    assert not form.locator("input[name=passingThreshold]").is_visible(), "a boolean metric has no threshold"
    form.locator("select[name=evalType]").select_option("heuristic")
    form.locator("select[name=outputType]").select_option("int")
    assert form.locator("textarea[name=heuristic]").is_visible()
    assert not form.locator("textarea[name=promptTemplate]").is_visible()
    assert form.locator("input[name=passingThreshold]").is_visible()

    form.locator("input[name=name]").fill("Close enough")
    form.locator("textarea[name=heuristic]").fill(
        '{"type": "similarity", "outputField": "answer", "expectedField": "a"}'
    )
    form.locator("input[name=passingThreshold]").fill("7")
    page.click("button:text('Create metric')")
    # Refused: the form is open again with what was typed, the field marked, the message naming it.
    assert "Passing threshold must be between 1 and 5" in page.inner_text(".flash.error")
    assert page.locator("#new-metric input[name=passingThreshold][aria-invalid=true]").is_visible()
    assert page.locator("#new-metric input[name=name]").input_value() == "Close enough"
    console_errors(page).clear()  # the refusal's 400, on purpose
    page.locator("#new-metric input[name=passingThreshold]").fill("4")
    page.click("button:text('Create metric')")
    assert page.locator("h1").inner_text().startswith("Close enough")
    assert console_errors(page) == []


def test_the_metrics_pages_fit_a_phone(phone_page, server, api_key, client, project, tmp_path):
    client.post(f"/projects/{project.id}/metric-groups", {"name": "Core", "metricIds": [project.polite["id"]]})
    new_run(client, project, project.polite)
    client.patch(f"/metrics/{project.polite['id']}", {"evalType": "ai", "outputType": "int", "guidelines": "x " * 200})
    signed_in(phone_page, server, api_key).goto(f"{server.url}/projects/{project.id}/metrics")
    phone_page.click("summary:text('New metric')")
    phone_page.click("#groups summary:text('Edit')")
    assert not overflows_horizontally(phone_page), "the metrics list scrolls sideways at 390 px"
    phone_page.screenshot(path=tmp_path / "metrics-390.png", full_page=True)

    phone_page.goto(f"{server.url}/projects/{project.id}/metrics/{project.polite['id']}")
    phone_page.click("summary:text('Edit')")
    assert not overflows_horizontally(phone_page), "the metric page scrolls sideways at 390 px"
    phone_page.screenshot(path=tmp_path / "metric-390.png", full_page=True)
    phone_page.locator("#versions").screenshot(path=tmp_path / "metric-versions-390.png")
    assert console_errors(phone_page) == []
