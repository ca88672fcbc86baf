"""Every page of the web UI on a phone (390 px, Chromium): none scrolls sideways (tables scroll in
their own containers, the header wraps) and a project's pages carry its section navigation.

The pages are the UI's own GET routes, read from the app, with IDs from seeded data: a page added
later is checked too, as long as its URL takes only the IDs seeded here."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind the tabs)
    console_errors,
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)

from .test_ui import HOSTILE, Seeded, data_dir, seeded  # noqa: F401  (fixtures)
from .test_ui_review import seed_review

DOWNLOADS = (".csv", ".jsonl", ".json")
SECTIONS = ["Runs", "Records", "Metrics", "Testsets", "Playground", "Traces", "Monitors"]


@pytest.fixture
def database_url(sqlite_url) -> str:
    return sqlite_url


def ui_pages(server, ids: dict[str, str]) -> list[str]:
    """The UI's GET pages whose every URL argument is one of ``ids``."""
    found = []
    for rule in server.app.url_map.iter_rules():
        if not rule.endpoint.startswith("ui.") or "GET" not in rule.methods or rule.endpoint == "ui.static":
            continue
        if set(rule.arguments) <= set(ids) and not rule.rule.endswith(DOWNLOADS):
            found.append(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: ids[m.group(1)], rule.rule))
    return sorted(set(found))


def test_no_page_scrolls_sideways_on_a_phone(phone_page, server, api_key, client, seeded, tmp_path):
    review = seed_review(client, records=1)  # a record with review forms
    record = seeded.records[0]
    ids = {
        "project_id": seeded.project["id"],
        "run_id": seeded.run["id"],
        "record_id": record["id"],
        "testset_id": seeded.run["testsetId"],
        "testcase_id": record["testcaseId"],
        "metric_id": seeded.exact["id"],
    }
    tab = signed_in(phone_page, server, api_key)
    pages = ui_pages(server, ids) + [review.record_path(0)]
    checked = []
    for path in pages:
        response = tab.goto(f"{server.url}{path}")
        assert response is not None
        if response.status != 200:  # e.g. a page that needs query arguments: not a page on its own
            console_errors(tab).clear()
            continue
        tab.screenshot(path=tmp_path / f"{len(checked):02d}.png", full_page=True)
        assert not overflows_horizontally(tab), f"{path} scrolls sideways at 390 px"
        assert console_errors(tab) == [], path
        checked.append(path)
    project = f"/projects/{seeded.project['id']}"
    run = f"{project}/runs/{seeded.run['id']}"
    for expected in [
        "/",
        project,
        run,
        f"{run}/records/{record['id']}",
        f"{project}/testsets",
        f"{project}/playground",
    ]:
        assert expected in checked
    tab.goto(f"{server.url}/sign-in")
    assert not overflows_horizontally(tab)


def test_project_pages_carry_the_section_navigation(page, server, api_key, seeded):
    tab = signed_in(page, server, api_key)
    project = f"/projects/{seeded.project['id']}"
    assert tab.locator("nav.project-nav").count() == 0  # the projects list belongs to no project
    for path, current in [
        (project, "Runs"),
        (f"{project}/runs/{seeded.run['id']}", "Runs"),
        (f"{project}/testsets", "Testsets"),
    ]:
        tab.goto(f"{server.url}{path}")
        links = tab.locator("nav.project-nav a")
        assert links.all_inner_texts() == SECTIONS
        assert tab.locator("nav.project-nav a[aria-current=page]").inner_text() == current
        hrefs = [links.nth(i).get_attribute("href") for i in range(len(SECTIONS))]
        assert hrefs[:4] == [project, f"{project}/records", f"{project}/metrics", f"{project}/testsets"]
        assert hrefs[4] == f"{project}/playground"
    assert HOSTILE not in tab.inner_html("nav.project-nav")  # names stay in the crumbs, escaped
