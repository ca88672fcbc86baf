"""The testset page in a real browser: a CSV with a bad row imported through the file picker
reports that row's line and imports the rest; the Kickoff Run dialog opens from the page; editing
a testcase; and at a phone's width neither page scrolls sideways. The fixtures fail a test on any
console error (CSP violations included)."""
# ruff: noqa: F811  (tests take the imported fixtures as parameters of the same names)

from __future__ import annotations

import pytest

from tests.server.test_ui import data_dir  # noqa: F401
from tests.server.test_ui_testsets import HOSTILE, SeededTestset, stored
from tests.server.test_ui_testsets import testset as testset  # noqa: F401  (the fixture)
from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page and phone_page)
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)

CSV_WITH_A_BAD_ROW = (
    "question,answer,difficulty,strict\n"
    "Capital of Spain?,Madrid,2,true\n"
    f"{HOSTILE} Capital of Italy?,Rome,very hard,false\n"
    "Capital of Chile?,Santiago,3,false\n"
).encode()


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The pages are the same on either database; test_ui_testsets covers both."""
    return sqlite_url


def import_file(page, name: str, content: bytes) -> None:
    page.set_input_files("input[name=file]", {"name": name, "mimeType": "text/csv", "buffer": content})
    page.click("button:text('Import')")
    page.wait_for_selector(".ts-result")


def test_importing_a_file_with_a_bad_row_reports_its_line(page, server, api_key, client, testset, tmp_path):
    signed_in(page, server, api_key)
    page.goto(f"{server.url}/projects/{testset.project_id}/testsets")
    page.click("a:text('capitals')")
    page.wait_for_url(f"{server.url}{testset.path()}")
    page.screenshot(path=str(tmp_path / "testset-1280.png"), full_page=True)

    import_file(page, "capitals.csv", CSV_WITH_A_BAD_ROW)
    result = page.inner_text(".ts-result")
    assert "capitals.csv: imported 2 testcases; 1 row not imported" in result
    assert 'Line 3: column difficulty: "very hard" is not an integer, as the schema requires' in result
    assert len(stored(client, testset)) == 4
    assert page.locator("script:text('alert(1)')").count() == 0
    page.screenshot(path=str(tmp_path / "import-1280.png"), full_page=True)

    page.click("a.button:text('Kickoff Run')")
    dialog = page.locator("#kickoff-dialog")
    dialog.wait_for(state="visible")
    assert dialog.locator("select[name=testset_id]").input_value() == testset.id
    page.screenshot(path=str(tmp_path / "kickoff-1280.png"))


def test_editing_a_testcase_shows_its_validation_errors(page, server, api_key, client, testset: SeededTestset):
    signed_in(page, server, api_key)
    invalid = testset.testcases[1]
    page.goto(f"{server.url}{testset.path()}")
    page.click(f"a[href$='/testcases/{invalid['id']}']:text('Edit')")
    assert "'answer' is a required property" in page.inner_text(".ts-invalid")
    page.fill("#json-data", '{"question": "Capital of Peru?", "answer": "Lima", "difficulty": 2}')
    page.click("button:text('Save')")
    page.wait_for_url(f"{server.url}{testset.path()}")
    assert f"Testcase #{invalid['id']} saved." in page.inner_text(".flash")
    assert "validationErrors" not in client.get(f"/testcases/{invalid['id']}")


def test_no_sideways_scroll_at_390_px(phone_page, server, api_key, client, testset, tmp_path):
    signed_in(phone_page, server, api_key)
    long_value = "word " * 80 + "x" * 300
    client.post(f"/testsets/{testset.id}/testcases", {"items": [{"jsonData": {"question": long_value}}]})
    phone_page.goto(f"{server.url}{testset.path()}")
    import_file(phone_page, "capitals.csv", CSV_WITH_A_BAD_ROW)
    assert not overflows_horizontally(phone_page)
    phone_page.screenshot(path=str(tmp_path / "testset-390.png"), full_page=True)

    phone_page.click("a:text('Edit') >> nth=0")
    phone_page.wait_for_selector("#json-data")
    assert not overflows_horizontally(phone_page)
    phone_page.screenshot(path=str(tmp_path / "testcase-390.png"), full_page=True)

    phone_page.goto(f"{server.url}/projects/{testset.project_id}/testsets")
    assert not overflows_horizontally(phone_page)
