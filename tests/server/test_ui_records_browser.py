"""The Records page in a real browser (Chromium): search, adding and removing a pill, a histogram
bar filtering to its period, the bulk re-score flow, the CSV link, and the page at 390 px without
sideways scrolling; no console errors (the fixtures check). Screenshots go to the test's temporary
directory."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page and phone_page)
    console_errors,
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)

from .test_ui import data_dir  # noqa: F401  (the UI's secret key per test)
from .test_ui_records_page import records_project  # noqa: F401  (a fixture)


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The browser sees the same pages on either database: SQLite keeps these tests fast."""
    return sqlite_url


def shown_ids(page) -> set[int]:
    return {int(text.lstrip("#")) for text in page.locator(".records-table tbody td:nth-child(2) a").all_inner_texts()}


def test_search_pills_histogram_rescore_and_csv(page, server, api_key, records_project, tmp_path):
    p = records_project
    url = p.url(server)
    signed_in(page, server, api_key).goto(url)
    assert shown_ids(page) == p.every
    page.screenshot(path=tmp_path / "records-1280.png", full_page=True)
    print(tmp_path)

    page.fill("input[name=q]", "zebra")
    page.click("button:text('Search')")
    page.wait_for_url("**q=zebra**")
    assert shown_ids(page) == {p.a[1], p.b[1]}

    # A pill typed and followed by a space becomes a chip; Search applies it; × removes it.
    page.fill("input[name=q]", "")
    page.locator("input[name=pills]").type("source:github ")
    assert page.locator("[data-pills] .pill-text").all_inner_texts() == ["source:github"]
    page.click("button:text('Search')")
    page.wait_for_url("**filter=source%3Agithub**")
    assert shown_ids(page) == set(p.b)
    page.click("[aria-label='Remove filter source:github']")
    page.wait_for_function("!location.search.includes('source')")
    assert shown_ids(page) == p.every

    # A bad pill: the page says which, with status 400.
    response = page.goto(f"{url}?filter=colour:red")
    assert response.status == 400 and "colour" in page.locator("[role=alert]").inner_text()
    console_errors(page).clear()  # the browser logs the 400 it was sent on purpose

    # A histogram bar adds the period's created pills.
    page.goto(url)
    bars = page.locator(".records-histogram a.bar-link")
    assert bars.count() == 30
    bars.last.click()
    page.wait_for_url("**created%3E%3A**")
    pills = page.locator("[data-pills] .pill-text").all_inner_texts()
    assert [pill.split(":")[0] for pill in pills] == ["created>", "created<"]
    assert shown_ids(page) and shown_ids(page) <= p.every

    # Bulk re-score of two ticked records.
    page.goto(url)
    for record_id in (p.a[0], p.a[4]):
        page.check(f"input[name=record_id][value='{record_id}']")
    page.click("button:text('Re-score ticked records')")
    page.wait_for_load_state()
    assert "Queued 2 score(s) of 2 record(s) across 1 run(s)" in page.locator(".flash.ok").inner_text()

    # The CSV link downloads the filtered set.
    page.goto(f"{url}?filter=source:api")
    with page.expect_download() as download:
        page.click("a:text('Export as CSV')")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert {int(r["recordId"]) for r in rows} == set(p.a)


def test_records_page_fits_a_phone(phone_page, server, api_key, records_project, tmp_path):
    url = f"{records_project.url(server)}?columns_set=1&column=inputs.question&column=outputs.answer"
    signed_in(phone_page, server, api_key).goto(url)
    phone_page.locator("details.columns-picker summary").click()
    assert phone_page.locator(".records-table").is_visible()
    assert not overflows_horizontally(phone_page), f"the records page scrolls sideways at {phone_page.viewport_size}"
    phone_page.screenshot(path=tmp_path / "records-390.png", full_page=True)
