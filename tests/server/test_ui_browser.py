"""The web UI in a real browser (Chromium): signing in through the form, every kind of page at
desktop and phone widths without sideways scrolling or console errors, the CSV download, and htmx
loaded from our own origin under a CSP that allows no inline script and no eval. The vendored htmx
is the file its README names, and it ships in the package."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page and phone_page)
    console_errors,
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)

from .test_ui import HOSTILE, Seeded, data_dir, seeded  # noqa: F401  (data_dir: the UI's secret key per test)

ROOT = Path(__file__).parents[2]
HTMX = ROOT / "server/ui/static/vendor/htmx"
UI_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The browser sees the same pages on either database: SQLite keeps these tests fast."""
    return sqlite_url


def page_paths(seeded: Seeded) -> list[str]:
    record = seeded.records[0]
    return [
        "/",
        f"/projects/{seeded.project['id']}",
        seeded.run_path(),
        f"{seeded.run_path()}/records/{record['id']}",
    ]


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_page_fits_the_window_and_logs_no_errors(width, request, server, api_key, seeded):
    tab = signed_in(request.getfixturevalue("page" if width == "desktop" else "phone_page"), server, api_key)
    dialogs = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in page_paths(seeded):
        response = tab.goto(f"{server.url}{path}")
        assert response is not None and response.status == 200, path
        assert not overflows_horizontally(tab), f"{path} scrolls sideways at {tab.viewport_size}"
        assert console_errors(tab) == [], path
    assert HOSTILE in tab.inner_text("main")  # shown as text, never run
    assert dialogs == []


def test_the_projects_list_links_through_to_a_record(page, server, api_key, seeded):
    signed_in(page, server, api_key)
    page.click(f"a:text-is('Project {HOSTILE}')")
    page.wait_for_url(f"{server.url}/projects/{seeded.project['id']}")
    page.click(f"a:text-is('#{seeded.run['id']}')")
    page.wait_for_url(f"{server.url}{seeded.run_path()}")
    record = seeded.records[0]
    page.click(f"a:text-is('#{record['id']}')")
    page.wait_for_url(f"{server.url}{seeded.run_path()}/records/{record['id']}")


def test_the_csv_export_link_downloads_the_run(page, server, api_key, seeded):
    signed_in(page, server, api_key).goto(f"{server.url}{seeded.run_path()}")
    with page.expect_download() as started:
        page.click("a:text('Export as CSV')")
    download = started.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    assert len(rows) == len(seeded.records)


def test_htmx_loads_from_our_origin_under_a_strict_policy(page, server):
    response = page.goto(f"{server.url}/sign-in")
    assert response is not None and response.headers["content-security-policy"] == UI_POLICY
    page.wait_for_function("window.htmx !== undefined")
    assert page.evaluate("[htmx.version, htmx.config.allowEval, htmx.config.includeIndicatorStyles]") == [
        "2.0.11",
        False,
        False,
    ]
    scripts = page.eval_on_selector_all("script", "all => all.map(s => s.getAttribute('src'))")
    assert scripts == ["/ui/static/vendor/htmx/htmx.min.js"]  # from our origin, none inline
    assert console_errors(page) == []  # no CSP violation


def test_an_inline_script_is_refused_and_the_refusal_reported(page, server):
    """The policy holds in the browser, and the error check sees its violations."""
    page.goto(f"{server.url}/sign-in")
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected") is None
    errors = console_errors(page)
    assert [e for e in errors if "Content Security Policy directive 'script-src 'self''" in e] == errors != []
    errors.clear()  # provoked on purpose


def test_the_vendored_htmx_is_the_file_its_readme_names():
    readme = (HTMX / "README.md").read_text()
    version = re.search(r"version \*\*([0-9.]+)\*\*", readme).group(1)
    assert f'version:"{version}"' in (HTMX / "htmx.min.js").read_text()
    assert hashlib.sha256((HTMX / "htmx.min.js").read_bytes()).hexdigest() in readme
    assert "Zero-Clause BSD" in (HTMX / "LICENSE").read_text()


def test_every_static_file_of_the_ui_ships_in_the_package():
    """A non-editable install (a wheel, pip's git+https form) carries only package-data's globs."""
    # The package-data line, read without tomllib (Python 3.11+): its list is JSON as written.
    pyproject = (ROOT / "pyproject.toml").read_text()
    line = re.search(r"^\[tool\.setuptools\.package-data\]\n(?:.*\n)*?server = (\[.*\])$", pyproject, re.MULTILINE)
    patterns = json.loads(line.group(1))
    server = ROOT / "server"
    shipped = {path for pattern in patterns for path in server.glob(pattern)}
    static = {path for path in (server / "ui/static").rglob("*") if path.is_file()}
    assert sorted(str(path.relative_to(server)) for path in static - shipped) == []
