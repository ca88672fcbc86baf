"""The web UI over real HTTP: sign-in, pages, escaping of untrusted text, forms with CSRF tokens,
re-run scoring, CSV export, history charts and 404 pages."""

from __future__ import annotations

import csv
import html
import io
import re
import stat
from dataclasses import dataclass

import pytest
import requests

from scorecard_core import apikeys, db
from scorecard_core.settings import load_or_create_secret_key
from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import EXACT

HOSTILE = "<script>alert(1)</script>{{7*7}}"
SIMILAR = {"type": "similarity", "outputField": "answer", "expectedField": "answer"}


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """The UI's secret key is generated in the data dir: keep it in the test's own directory."""
    directory = tmp_path / "data"
    monkeypatch.setenv("SCORECARD_DATA_DIR", str(directory))
    monkeypatch.delenv("SCORECARD_SECRET_KEY", raising=False)
    return directory


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(server, key: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{server.url}/sign-in")
    response = browser.post(
        f"{server.url}/sign-in",
        data={"api_key": key, "csrf_token": csrf_token(form.text), "next": "/"},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return browser


@pytest.fixture
def browser(server, api_key) -> requests.Session:
    return sign_in(server, api_key)


@dataclass
class Seeded:
    project: dict
    run: dict
    exact: dict
    similar: dict
    records: list[dict]

    def run_path(self) -> str:
        return f"/projects/{self.project['id']}/runs/{self.run['id']}"


@pytest.fixture
def seeded(client) -> Seeded:
    """A completed run whose every untrusted field holds HTML and template syntax."""
    project = client.post("/projects", {"name": f"Project {HOSTILE}", "description": HOSTILE})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {
            "name": f"set {HOSTILE}",
            "jsonSchema": {
                "type": "object",
                "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
            },
            "fieldMapping": {"inputs": ["question"], "expected": ["answer"]},
        },
    )
    cases = client.post(
        f"/testsets/{testset['id']}/testcases",
        {"items": [{"jsonData": {"question": f"{HOSTILE} q{i}", "answer": f"a{i}"}} for i in range(4)]},
    )["items"]
    exact = client.post(
        f"/projects/{project['id']}/metrics",
        {
            "name": f"Exact {HOSTILE}",
            "evalType": "heuristic",
            "outputType": "boolean",
            "guidelines": "",
            "heuristic": EXACT,
        },
    )
    similar = client.post(
        f"/projects/{project['id']}/metrics",
        {
            "name": "Similar",
            "evalType": "heuristic",
            "outputType": "int",
            "guidelines": "",
            "heuristic": SIMILAR,
        },
    )
    system = client.post(f"/projects/{project['id']}/systems", {"name": "bot", "config": {"prompt": HOSTILE}})
    run = client.post(
        f"/projects/{project['id']}/runs",
        {
            "testsetId": testset["id"],
            "metricIds": [exact["id"]],
            "source": "github",
            "notes": f"note {HOSTILE}",
            "systemVersionId": system["productionVersion"]["id"],
            "git": {
                "repo": "octo/app",
                "ref": "refs/pull/7/merge",
                "sha": "a" * 40,
                "prNumber": 7,
                "actionsRunUrl": "https://github.com/octo/app/actions/runs/99",
            },
        },
    )
    answers = ["a0", "a1", HOSTILE, "wrong"]
    records = client.post(
        f"/runs/{run['id']}/records/batch",
        {
            "items": [
                {
                    "testcaseId": tc["id"],
                    "inputs": tc["inputs"],
                    "expected": tc["expected"],
                    "outputs": {"answer": answer},
                }
                for tc, answer in zip(cases, answers)
            ]
        },
    )["items"]
    run = wait_for_run(client, run["id"])
    return Seeded(project, run, exact, similar, records)


def text_of(page: str) -> str:
    """The page's visible text, one space between words."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def assert_escaped(page: str) -> None:
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in page


def test_sign_in_with_good_and_bad_keys(server, api_key, data_dir):
    anonymous = requests.Session()
    first = anonymous.get(f"{server.url}/projects/1", allow_redirects=False)
    assert first.status_code == 302 and first.headers["Location"] == "/sign-in?next=/projects/1"

    form = anonymous.get(f"{server.url}/sign-in")
    assert form.status_code == 200 and "API key" in form.text
    token = csrf_token(form.text)
    bad = anonymous.post(f"{server.url}/sign-in", data={"api_key": "ak_wrong", "csrf_token": token})
    assert bad.status_code == 401 and "not valid or has been revoked" in bad.text
    empty = anonymous.post(f"{server.url}/sign-in", data={"api_key": " ", "csrf_token": token})
    assert empty.status_code == 400 and "Paste an API key" in empty.text
    assert anonymous.get(f"{server.url}/", allow_redirects=False).status_code == 302

    foreign = anonymous.post(
        f"{server.url}/sign-in",
        allow_redirects=False,
        data={"api_key": api_key, "csrf_token": token, "next": "https://evil.example/"},
    )
    assert foreign.status_code == 302 and foreign.headers["Location"] == "/"
    cookie = foreign.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = anonymous.get(f"{server.url}/")
    assert home.status_code == 200 and "Projects" in home.text and "Sign out" in home.text
    assert home.headers["Content-Security-Policy"].startswith("default-src 'none'")

    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_text()) >= 32

    signed_out = anonymous.post(f"{server.url}/sign-out", data={"csrf_token": csrf_token(home.text)})
    assert signed_out.url.endswith("/sign-in") and "Signed out." in signed_out.text
    assert anonymous.get(f"{server.url}/", allow_redirects=False).status_code == 302


def test_revoking_the_key_signs_the_browser_out(server):
    key = server.new_api_key("revocable")
    browser = sign_in(server, key)
    assert browser.get(f"{server.url}/", allow_redirects=False).status_code == 200
    with db.session_scope(server.app.extensions["scorecard.engine"]) as session:
        apikeys.revoke(session, "revocable")
    assert browser.get(f"{server.url}/", allow_redirects=False).status_code == 302


def test_sessions_survive_a_restart_with_the_persisted_key(server, api_key, database_url):
    from tests.conftest import start_server

    browser = sign_in(server, api_key)
    again = start_server(database_url, SCORING_ENABLED=False)
    try:
        assert browser.get(f"{again.url}/", allow_redirects=False).status_code == 200
    finally:
        again.stop()


def test_pages_render_and_escape_untrusted_text(server, browser, seeded):
    projects = browser.get(f"{server.url}/")
    assert projects.status_code == 200
    assert_escaped(projects.text)
    assert f"#{seeded.run['id']}" in projects.text and "🟢 Completed" in projects.text

    project = browser.get(f"{server.url}/projects/{seeded.project['id']}")
    assert project.status_code == 200
    assert_escaped(project.text)

    run = browser.get(f"{server.url}{seeded.run_path()}")
    assert run.status_code == 200
    assert_escaped(run.text)
    page = html.unescape(run.text)
    assert "🟢 Completed" in page and "4 created of 4 expected" in page
    assert f"Exact {HOSTILE}" in page and "50.0% (" in page  # 2 of 4 answers are exact
    assert f"note {HOSTILE}" in page and '"prompt": "' + HOSTILE in page
    assert 'href="https://github.com/octo/app/pull/7"' in run.text
    assert f'href="https://github.com/octo/app/commit/{"a" * 40}"' in run.text
    assert 'href="https://github.com/octo/app/actions/runs/99"' in run.text
    assert f"/projects/{seeded.project['id']}/runs/{seeded.run['id']}/export.csv" in run.text

    record = seeded.records[2]
    detail = browser.get(f"{server.url}{seeded.run_path()}/records/{record['id']}")
    assert detail.status_code == 200
    assert_escaped(detail.text)
    page = html.unescape(detail.text)
    assert "Inputs" in page and "Outputs" in page and "Expected" in page
    assert '<span class="score fail">fail</span>' in detail.text and "Next →" in page and "← Previous" in page


def test_run_page_shows_the_status_explanation_while_scoring_waits(server, browser, client):
    project = client.post("/projects", {"name": "waiting"})
    human = client.post(
        f"/projects/{project['id']}/metrics",
        {"name": "Reviewer", "evalType": "human", "outputType": "boolean", "guidelines": ""},
    )
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": [human["id"]]})
    client.post(f"/runs/{run['id']}/records/batch", {"items": [{"inputs": {"q": 1}, "outputs": {"a": 1}}]})
    client.patch(f"/runs/{run['id']}", {"status": "awaiting_scoring"})

    page = text_of(browser.get(f"{server.url}/projects/{project['id']}/runs/{run['id']}").text)
    assert "🔵 Scoring awaiting human scoring" in page
    assert "Metric Scored by Scored Pending Errored Reviewer human 0 1 0" in page
    assert "Records: 1 created" in page and "pending" in page


def test_project_page_filters_pages_and_draws_history(server, browser, client, seeded):
    base = f"{server.url}/projects/{seeded.project['id']}"
    for _ in range(21):
        client.post(f"/projects/{seeded.project['id']}/runs", {"metricIds": [], "source": "api"})

    page = browser.get(base).text
    assert page.count('class="badge pending"') == 20 and "Older runs →" in page
    older_link = html.unescape(re.search(r'href="([^"]+cursor=[^"]+)"', page).group(1))
    older = browser.get(f"{server.url}{older_link}")
    assert older.status_code == 200 and f"#{seeded.run['id']}</a>" in older.text and "← Newest" in older.text

    github = browser.get(base, params={"source": "github"}).text
    assert f"#{seeded.run['id']}</a>" in github and github.count('class="badge ') == 1
    pending = browser.get(base, params={"status": "pending"}).text
    assert f"#{seeded.run['id']}</a>" not in pending.split("<h2>Runs</h2>")[1]
    odd = browser.get(base, params={"source": "fax"})
    assert odd.status_code == 200 and "Unknown source &#39;fax&#39;" in odd.text
    assert browser.get(base, params={"cursor": "abc"}).status_code == 400

    assert "<svg" in page and "<polyline" not in page  # one run with scores: a single point
    assert re.search(r"<title>Run #\d+ · [\d-]+ [\d:]+ · 50% over 4 scores · 🟢 Completed</title>", page)
    assert_escaped(page)

    second = client.post(
        f"/projects/{seeded.project['id']}/runs", {"metricIds": [seeded.exact["id"], seeded.similar["id"]]}
    )
    client.post(
        f"/runs/{second['id']}/records/batch",
        {"items": [{"inputs": {"question": "q"}, "expected": {"answer": "a"}, "outputs": {"answer": "a"}}]},
    )
    client.patch(f"/runs/{second['id']}", {"status": "awaiting_scoring"})
    wait_for_run(client, second["id"])
    both = browser.get(base).text
    assert both.count('<figure class="chart">') == 2 and "<polyline" in both and "5.00" in both
    only_similar = browser.get(base, params={"metric": seeded.similar["id"]}).text
    assert only_similar.count('<figure class="chart">') == 1 and "<strong>Similar</strong>" in only_similar


def test_notes_form_saves_and_refuses_posts_without_the_token(server, browser, client, seeded):
    run_url = f"{server.url}{seeded.run_path()}"
    token = csrf_token(browser.get(run_url).text)

    saved = browser.post(f"{run_url}/notes", data={"notes": f"looks {HOSTILE}\r\nfine", "csrf_token": token})
    assert saved.status_code == 200 and saved.url == run_url and "Notes saved." in saved.text
    assert client.get(f"/runs/{seeded.run['id']}")["notes"] == f"looks {HOSTILE}\nfine"
    assert_escaped(saved.text)

    missing = browser.post(f"{run_url}/notes", data={"notes": "forged"})
    assert missing.status_code == 403 and "nothing was changed" in missing.text
    other = sign_in(server, server.new_api_key("other"))
    forged = other.post(f"{run_url}/notes", data={"notes": "forged", "csrf_token": token})
    assert forged.status_code == 403
    too_long = browser.post(f"{run_url}/notes", data={"notes": "x" * 100_001, "csrf_token": token})
    assert too_long.status_code == 400 and "keep them under 100,000" in too_long.text
    assert client.get(f"/runs/{seeded.run['id']}")["notes"] == f"looks {HOSTILE}\nfine"


def test_rerun_scoring_starts_and_finishes(server, browser, client, seeded):
    run_url = f"{server.url}{seeded.run_path()}"
    page = browser.get(run_url).text
    token = csrf_token(page)
    assert f'name="metric_id" value="{seeded.similar["id"]}"' in page
    before = client.get(f"/runs/{seeded.run['id']}")

    for picked, message in (
        ([], "Choose at least one metric"),
        (["abc"], "Choose metrics from the list"),
        (["999999"], "no longer exists"),
    ):
        refused = browser.post(f"{run_url}/rescore", data={"metric_id": picked, "csrf_token": token})
        assert refused.status_code == 400 and message in refused.text

    started = browser.post(
        f"{run_url}/rescore", data={"metric_id": [seeded.exact["id"], seeded.similar["id"]], "csrf_token": token}
    )
    assert started.status_code == 200 and "Re-scoring started with 2 metric(s)" in started.text
    after = client.get(f"/runs/{seeded.run['id']}")
    assert after["metricIds"] == [seeded.exact["id"], seeded.similar["id"]]
    assert after["updatedAt"] != before["updatedAt"]
    done = wait_for_run(client, seeded.run["id"])
    assert done["status"] == "completed" and done["numScores"] == 8
    assert "<th>Similar</th>" in browser.get(run_url).text


def test_csv_export_downloads_with_the_ui_session(server, browser, seeded):
    url = f"{server.url}{seeded.run_path()}/export.csv"
    response = browser.get(url)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert f"run-{seeded.run['id']}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [row["recordId"] for row in rows] == [r["id"] for r in seeded.records]
    assert requests.get(url, allow_redirects=False).status_code == 302


def test_unknown_ids_get_a_friendly_404(server, browser, client, seeded):
    other = client.post("/projects", {"name": "other"})
    other_run = client.post(f"/projects/{other['id']}/runs", {"metricIds": []})
    for path in (
        "/projects/999999",
        "/projects/abc",
        "/projects/1%00",
        f"/projects/{seeded.project['id']}/runs/999999",
        f"/projects/{seeded.project['id']}/runs/{other_run['id']}",
        f"{seeded.run_path()}/records/999999",
        f"{seeded.run_path()}/records/x",
        f"/projects/{other['id']}/runs/{other_run['id']}/records/{seeded.records[0]['id']}",
    ):
        response = browser.get(f"{server.url}{path}")
        assert response.status_code == 404, path
        assert "<h1>Not found</h1>" in response.text and "Back to projects" in response.text, path


def test_secret_key_comes_from_the_environment_or_the_data_dir(data_dir, monkeypatch):
    first = load_or_create_secret_key()
    assert load_or_create_secret_key() == first == (data_dir / "secret_key").read_text()
    monkeypatch.setenv("SCORECARD_SECRET_KEY", "from-the-environment")
    assert load_or_create_secret_key() == "from-the-environment"
