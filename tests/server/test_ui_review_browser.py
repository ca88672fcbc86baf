"""Human review from the keyboard in a real browser (Chromium): the first awaiting score has the
focus, p/f (or 1/0) choose pass or fail, Enter saves, Ctrl+Enter saves from the reasoning, and
each save opens the record still awaiting review."""

from __future__ import annotations

import pytest

from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page)
    page,  # noqa: F401
    signed_in,
)

from .test_ui import data_dir  # noqa: F401  (the UI's secret key per test)
from .test_ui_review import scores_of, seed_review


@pytest.fixture
def database_url(sqlite_url) -> str:
    return sqlite_url


def focused(tab) -> str:
    """The focused element as name=value (or its tag)."""
    return tab.evaluate(
        "(() => { const e = document.activeElement; return e.name ? e.name + '=' + e.value : e.tagName; })()"
    )


def test_a_reviewer_scores_records_from_the_keyboard(page, server, api_key, client):
    review = seed_review(client, records=2)
    tab = signed_in(page, server, api_key)
    tab.goto(f"{server.url}{review.record_path(0)}")
    assert focused(tab) == "value=pass"  # Polite, the first score awaiting review
    tab.keyboard.press("f")
    assert tab.is_checked("input[value=fail]") and focused(tab) == "value=fail"
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    assert tab.url == f"{server.url}{review.record_path(0)}"  # Helpful and Faithful still await
    assert "Saved the score of Polite" in tab.inner_text("main")
    assert focused(tab) == "value="  # Helpful's number field
    tab.keyboard.type("5")
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    tab.keyboard.type("0.8")
    tab.keyboard.press("Tab")  # into Faithful's reasoning
    tab.keyboard.type("close to the source")
    with tab.expect_navigation():
        tab.keyboard.press("Control+Enter")
    assert tab.url == f"{server.url}{review.record_path(1)}"  # the next record awaiting review
    assert focused(tab) == "value=pass"
    tab.keyboard.press("1")
    assert tab.is_checked(f"form[action$='{review.versions['Polite']}'] input[value=pass]")
    stored = scores_of(client, review, 0)
    assert stored["Polite"]["score"] == {"binaryScore": False}
    assert stored["Helpful"]["score"] == {"intScore": 5}
    assert stored["Faithful"]["score"] == {"floatScore": 0.8, "reasoning": "close to the source"}
    assert stored["Polite"]["userId"] == "test"
