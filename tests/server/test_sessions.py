"""Web UI sessions end on the server, over real HTTP: sign-out, revocation of the key signed in
with (through the real CLI), the idle and absolute lifetimes; copies of a cookie end with them.
Only a hash of a session's token is stored. ``HEAD /sign-in`` signs nobody in."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from scorecard_core.models import WebSession
from scorecard_core.settings import Settings
from tests.conftest import start_server
from tests.support.processes import run_cli

from .test_ui import csrf_token, data_dir, sign_in  # noqa: F401  (data_dir: the UI's secret key per test)


def copy_of(browser: requests.Session) -> requests.Session:
    """Another client holding the same cookie, as a thief with a copied cookie would."""
    thief = requests.Session()
    thief.cookies.update(browser.cookies)
    return thief


def signed_in(browser: requests.Session, server) -> bool:
    page = browser.get(f"{server.url}/", allow_redirects=False)
    assert page.status_code in (200, 302), page.text
    if page.status_code == 302:
        assert page.headers["Location"].startswith("/sign-in")
    return page.status_code == 200


def sessions_of(engine: Engine) -> list[WebSession]:
    with engine.connect() as conn:
        return [WebSession(**row._mapping) for row in conn.execute(select(WebSession.__table__))]


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ui_server(database_url):
    live = start_server(database_url, SCORING_ENABLED=False)
    yield live
    live.stop()


def session_token(server, browser: requests.Session) -> str:
    """The token inside the signed cookie (only its server can read the cookie like this)."""
    serializer = server.app.session_interface.get_signing_serializer(server.app)
    return serializer.loads(browser.cookies["session"])["session_token"]


def test_a_copied_cookie_stops_working_after_sign_out(ui_server, engine):
    browser = sign_in(ui_server, ui_server.new_api_key("mine"))
    thief = copy_of(browser)
    assert signed_in(thief, ui_server)

    token = session_token(ui_server, browser)
    [stored] = sessions_of(engine)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() != token

    home = browser.get(f"{ui_server.url}/")
    signed_out = browser.post(f"{ui_server.url}/sign-out", data={"csrf_token": csrf_token(home.text)})
    assert "Signed out." in signed_out.text
    assert not signed_in(thief, ui_server)
    assert not signed_in(browser, ui_server)
    assert sessions_of(engine) == []


def test_signing_in_again_ends_the_previous_session(ui_server, engine):
    browser = sign_in(ui_server, ui_server.new_api_key("first"))
    earlier_copy = copy_of(browser)
    home = browser.get(f"{ui_server.url}/")
    again = browser.post(
        f"{ui_server.url}/sign-in",
        allow_redirects=False,
        data={"api_key": ui_server.new_api_key("second"), "csrf_token": csrf_token(home.text)},
    )
    assert again.status_code == 302
    assert "second" in browser.get(f"{ui_server.url}/").text
    assert not signed_in(earlier_copy, ui_server)
    assert len(sessions_of(engine)) == 1


def test_revoking_the_key_ends_its_sessions(ui_server, engine, database_url):
    revoked_key = ui_server.new_api_key("leaving")
    laptop, phone = sign_in(ui_server, revoked_key), sign_in(ui_server, revoked_key)
    other = sign_in(ui_server, ui_server.new_api_key("staying"))
    assert len(sessions_of(engine)) == 3

    revoked = run_cli("api-key", "revoke", "leaving", database_url=database_url)
    assert revoked.returncode == 0, revoked.stderr
    assert len(sessions_of(engine)) == 1
    assert not signed_in(laptop, ui_server) and not signed_in(copy_of(phone), ui_server)
    assert signed_in(other, ui_server)


def test_idle_sessions_end_and_activity_keeps_them(database_url, engine):
    idle_seconds = 1.5
    live = start_server(database_url, SCORING_ENABLED=False, SESSION_IDLE_MINUTES=idle_seconds / 60)
    try:
        browser = sign_in(live, live.new_api_key())
        # Active for twice the idle lifetime, never idle for more than a third of it: still in.
        started = time.monotonic()
        while time.monotonic() - started < 2 * idle_seconds:
            assert signed_in(browser, live)
            time.sleep(idle_seconds / 3)
        thief = copy_of(browser)
        time.sleep(idle_seconds + 0.5)
        assert not signed_in(thief, live)
        assert not signed_in(browser, live)
        assert sessions_of(engine) == []
    finally:
        live.stop()


def test_sessions_end_after_the_absolute_lifetime_however_active(database_url):
    lifetime_seconds = 2.0
    live = start_server(database_url, SCORING_ENABLED=False, SESSION_LIFETIME_HOURS=lifetime_seconds / 3600)
    try:
        browser = sign_in(live, live.new_api_key())
        signed_in_at = time.monotonic()
        while time.monotonic() - signed_in_at < lifetime_seconds - 0.5:
            assert signed_in(browser, live)
            time.sleep(0.2)
        time.sleep(1.0)
        assert not signed_in(copy_of(browser), live)
        # Signing in again starts a new session; it is the old one that ended.
        assert signed_in(sign_in(live, live.new_api_key("again")), live)
    finally:
        live.stop()


def test_head_sign_in_is_not_a_sign_in_attempt(ui_server, engine):
    key = ui_server.new_api_key()
    probe = requests.Session()
    form = probe.get(f"{ui_server.url}/sign-in")
    token = csrf_token(form.text)
    # A HEAD carrying a valid key and token, as a form post would: it must neither sign in
    # (HEAD skips the CSRF check meant for POST) nor count as a failed attempt.
    answer = probe.head(f"{ui_server.url}/sign-in", data={"api_key": key, "csrf_token": token}, allow_redirects=False)
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["Cache-Control"] == "no-store"
    assert sessions_of(engine) == []
    assert not signed_in(probe, ui_server)
    assert requests.head(f"{ui_server.url}/sign-in", allow_redirects=False).status_code == 200


def test_signed_in_pages_are_not_stored_by_caches(ui_server):
    browser = sign_in(ui_server, ui_server.new_api_key())
    for path in ("/", "/projects/1", "/sign-in"):
        response = browser.get(f"{ui_server.url}{path}", allow_redirects=False)
        assert response.headers["Cache-Control"] == "no-store", path
    stylesheet = browser.get(f"{ui_server.url}/ui/static/ui.css")
    assert stylesheet.status_code == 200 and "no-store" not in stylesheet.headers.get("Cache-Control", "")


@pytest.mark.parametrize("variable", ["SCORECARD_SESSION_IDLE_MINUTES", "SCORECARD_SESSION_LIFETIME_HOURS"])
def test_session_lifetimes_must_be_positive_numbers(monkeypatch, variable):
    monkeypatch.setenv(variable, "0.5")
    assert 0.5 in (Settings().session_idle_minutes, Settings().session_lifetime_hours)
    for bad in ("0", "-3", "soon", "nan", "inf"):
        monkeypatch.setenv(variable, bad)
        with pytest.raises(ValueError, match=f"{variable} must be a number above 0, not '{bad}'"):
            Settings()
