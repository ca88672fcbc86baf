"""The Kickoff Run dialog in a real browser and over plain HTTP: opened from the projects list, a
testsets page and a run ("Run again", pre-filled), its three tabs, a Scorecard-tab run of a prompt
version written in place and an Endpoint-tab run against a loopback endpoint, both followed to
`completed` by the run page's own refresh; the GitHub tab's connect instructions; the same page
and form without JavaScript, refusals naming the field; no sideways scroll on a phone."""
# ruff: noqa: F811  (tests take the imported fixtures as parameters of the same names)

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pytest
import requests

from scorecard_core.client import ScorecardClient
from server import executions
from tests.conftest import start_server, wait_for_run
from tests.fakes.github_server import ACTIONS_TOKEN
from tests.server.test_server_runs import PROMPT, EchoEndpoint, fake_answer
from tests.server.test_ui import browser, csrf_token, data_dir, sign_in, text_of  # noqa: F401
from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page and phone_page)
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)
from tests.webhook.conftest import PR_BASE_REF, PR_HEAD_REF, REPO, WORKFLOW, github  # noqa: F401

SCHEMA = {"type": "object", "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}}
DIALOG = "#kickoff-dialog"


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The dialog is the same on either database; the server runs it starts are tested on both."""
    return sqlite_url


@pytest.fixture
def client(server, client):
    """conftest's client; no server run outlives its test."""
    yield client
    executions.stop(server.app)


@dataclass
class Project:
    id: str
    testset: dict
    testcases: list[dict]
    exact: dict
    similar: dict
    group: dict

    def path(self, rest: str = "") -> str:
        return f"/projects/{self.id}{rest}"


@pytest.fixture
def project(client) -> Project:
    return make_project(client)


def make_project(client) -> Project:
    """Three testcases and two heuristic metrics (one also in a group); no systems yet."""
    project = client.post("/projects", {"name": "Kickoffs <b>"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {"name": "capitals", "jsonSchema": SCHEMA, "fieldMapping": {"inputs": ["question"], "expected": ["answer"]}},
    )
    items = [{"jsonData": {"question": f"q{i}", "answer": f"a{i}"}} for i in range(3)]
    testcases = client.post(f"/testsets/{testset['id']}/testcases", {"items": items})["items"]

    def heuristic(name: str, output_type: str, kind: str, output_field: str) -> dict:
        body = {"type": kind, "outputField": output_field, "expectedField": "answer"}
        metric = {"name": name, "evalType": "heuristic", "outputType": output_type, "guidelines": "", "heuristic": body}
        return client.post(f"/projects/{project['id']}/metrics", metric)

    exact = heuristic("Exact", "boolean", "exact_match", "response")
    similar = heuristic("Similar", "int", "similarity", "output")
    group = client.post(
        f"/projects/{project['id']}/metric-groups", {"name": "echo checks", "metricIds": [similar["id"]]}
    )
    return Project(str(project["id"]), testset, testcases, exact, similar, group)


def prompt_run(client, project: Project) -> dict:
    """A finished server run of a prompt version, to run again."""
    system = client.post(f"/projects/{project.id}/systems", {"name": "bot", "config": PROMPT})
    body = {
        "target": "scorecard",
        "testsetId": project.testset["id"],
        "metricIds": [project.exact["id"]],
        "systemVersionId": system["productionVersion"]["id"],
    }
    run = client.post(f"/projects/{project.id}/kickoffs", body)
    return wait_for_run(client, run["id"], timeout=60)


def open_dialog(tab, link: str):
    """Click an "open" link and wait for the dialog to show what htmx loaded."""
    tab.click(link)
    tab.wait_for_selector(f"{DIALOG}[open] .kickoff-dialog")
    return tab.locator(DIALOG)


def follow_to_completed(tab) -> None:
    """The run page refreshes itself: no reload here, only waiting for its badge."""
    tab.wait_for_selector(".status-explanation .badge.completed", timeout=60_000)


# --- In the browser ---------------------------------------------------------------------------


def test_the_dialog_opens_from_the_projects_list_a_testset_and_a_run(page, server, api_key, client, project):
    run = prompt_run(client, project)
    signed_in(page, server, api_key)
    dialog = open_dialog(page, "tr:has(a:text-is('Kickoffs <b>')) >> a:text('Kickoff Run')")
    assert page.url == f"{server.url}/"  # a dialog over the list, not another page
    assert dialog.locator(".tabs a.current").inner_text() == "Scorecard"
    assert dialog.locator("select[name=system_version_id]").input_value() == run["systemVersionId"]  # the newest
    dialog.locator("button:text('Close')").click()
    page.wait_for_selector(f"{DIALOG}:not([open])", state="attached")

    page.goto(f"{server.url}{project.path()}")
    page.click("a:text-is('Testsets')")
    page.wait_for_url(f"{server.url}{project.path('/testsets')}")
    row = page.locator("tr", has_text="capitals")
    assert [row.locator("td.num").nth(i).inner_text() for i in range(2)] == ["3", "1"]  # testcases, runs
    dialog = open_dialog(page, "tr:has-text('capitals') >> a:text('Kickoff Run')")
    assert dialog.locator("select[name=testset_id]").input_value() == str(project.testset["id"])

    page.goto(f"{server.url}{project.path('/runs/' + str(run['id']))}")
    dialog = open_dialog(page, "a:text('Run again')")
    assert dialog.locator(".tabs a.current").inner_text() == "Scorecard"
    assert dialog.locator("select[name=testset_id]").input_value() == str(project.testset["id"])
    assert dialog.locator("select[name=system_version_id]").input_value() == run["systemVersionId"]
    assert dialog.locator(f"input[name=metric_id][value='{project.exact['id']}']").is_checked()
    assert not dialog.locator(f"input[name=metric_id][value='{project.similar['id']}']").is_checked()
    assert dialog.locator("input[name=model]").input_value() == PROMPT["model"]  # to write a new version from


def test_each_tab_loads_inside_the_dialog(page, server, api_key, project):
    signed_in(page, server, api_key).goto(f"{server.url}{project.path()}")
    dialog = open_dialog(page, "main .heading-row a:text('Kickoff Run')")
    for tab, shows in [("Endpoint", "input[name=url]"), ("GitHub", "code"), ("Scorecard", "input[name=model]")]:
        dialog.locator(f".tabs a:text-is('{tab}')").click()
        page.wait_for_selector(f"{DIALOG}[open] .tabs a.current:text-is('{tab}')")
        assert dialog.locator(shows).first.is_visible()
    assert page.url == f"{server.url}{project.path()}"
    dialog.locator(".tabs a:text-is('GitHub')").click()
    page.wait_for_selector(f"{DIALOG} .tabs a.current:text-is('GitHub')")
    shown = dialog.inner_text()
    assert f"scorecard github connect --project {project.id} --repo owner/name" in shown
    assert f"PUT /api/v2/projects/{project.id}/github" in shown
    assert dialog.locator("form[method=post]").count() == 0  # nothing to dispatch through


def test_a_scorecard_tab_run_of_a_prompt_written_in_place_completes(
    page, server, api_key, client, project, fake_openai
):
    fake_openai.delay = 1.5  # the run is still executing when its page opens
    signed_in(page, server, api_key)
    dialog = open_dialog(page, "tr:has-text('Kickoffs') >> a:text('Kickoff Run')")
    dialog.locator("select[name=testset_id]").select_option(str(project.testset["id"]))
    dialog.locator(f"input[name=metric_id][value='{project.exact['id']}']").check()
    dialog.locator("input[name=system_name]").fill("written bot")
    dialog.locator("input[name=model]").fill("dialog-model")
    dialog.locator("input[name=temperature]").fill("0.2")
    dialog.locator("input[name=max_tokens]").fill("50")
    dialog.locator("textarea[name=system_message]").fill("Answer in one word.")
    dialog.locator("textarea[name=user_message]").fill("Q: {{ inputs.question }}")
    dialog.locator("button:text-is('Kickoff Run')").click()
    page.wait_for_url(re.compile(rf"{server.url}{project.path('/runs/')}\d+$"))
    assert "started on the server" in page.inner_text(".flash.ok")
    assert page.locator(".status-explanation .badge.pending").count() == 1
    assert page.locator("[data-follow]").count() == 1
    follow_to_completed(page)
    assert page.locator("[data-follow]").count() == 0  # done following

    run = client.get(f"/runs/{page.url.rsplit('/', 1)[1]}")
    assert (run["numRecords"], run["numScores"], run["source"]) == (3, 3, "kickoff")
    (system,) = client.get(f"/projects/{project.id}/systems")["data"]
    assert system["name"] == "written bot" and system["productionVersion"]["id"] == run["systemVersionId"]
    assert system["productionVersion"]["config"] == {
        "kind": "prompt",
        "model": "dialog-model",
        "temperature": 0.2,
        "maxTokens": 50,
        "messages": [
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "Q: {{ inputs.question }}"},
        ],
    }
    asked = sorted(r["messages"][1]["content"] for r in fake_openai.requests if r["model"] == "dialog-model")
    assert asked == ["Q: q0", "Q: q1", "Q: q2"]
    record = client.get(f"/runs/{run['id']}/records")["data"][0]
    assert record["outputs"]["response"] == fake_answer(f"Q: {record['inputs']['question']}")


def test_an_endpoint_tab_run_against_a_loopback_endpoint_completes(page, server, api_key, client, project):
    signed_in(page, server, api_key).goto(f"{server.url}{project.path('/testsets')}")
    dialog = open_dialog(page, "tr:has-text('capitals') >> a:text('Kickoff Run')")
    dialog.locator(".tabs a:text-is('Endpoint')").click()
    page.wait_for_selector(f"{DIALOG} .tabs a.current:text-is('Endpoint')")
    assert dialog.locator("select[name=testset_id]").input_value() == str(project.testset["id"])  # kept
    dialog.locator("input[name=group_id]").check()  # the group's metric: Similar
    with EchoEndpoint() as endpoint:
        dialog.locator("input[name=system_name]").fill("echo")
        dialog.locator("input[name=url]").fill(f"{endpoint.origin}/answer")
        dialog.locator("textarea[name=headers]").fill("Content-Type: application/json\nX-Token: s3cret")
        dialog.locator("input[name=secret_headers]").check()
        dialog.locator("textarea[name=body]").fill('{"q": {{ inputs.question | tojson }}}')
        dialog.locator("input[name=response_path]").fill("/data/answer")
        dialog.locator("button:text-is('Kickoff Run')").click()
        page.wait_for_url(re.compile(rf"{server.url}{project.path('/runs/')}\d+$"))
        follow_to_completed(page)
    assert len(endpoint.seen) == 3
    run = client.get(f"/runs/{page.url.rsplit('/', 1)[1]}")
    assert run["metricIds"] == [project.similar["id"]] and run["numScores"] == 3
    config = client.get(f"/systems/versions/{run['systemVersionId']}")["config"]
    assert config["headers"] == {"Content-Type": {"secret": True}, "X-Token": {"secret": True}}  # write-only
    assert "s3cret" not in page.content()  # nor shown on the run page


@pytest.mark.parametrize("tab", ["scorecard", "endpoint", "github"])
def test_the_dialog_and_its_pages_fit_a_phone(phone_page, server, api_key, project, tab):
    signed_in(phone_page, server, api_key)
    assert not overflows_horizontally(phone_page)
    open_dialog(phone_page, "tr:has-text('Kickoffs') >> a:text('Kickoff Run')")
    phone_page.locator(f"{DIALOG} .tabs a[href*='tab={tab}']").click()
    phone_page.wait_for_selector(f"{DIALOG} .tabs a.current[href*='tab={tab}']")
    assert not overflows_horizontally(phone_page)
    assert phone_page.evaluate("(d => d.scrollWidth <= d.clientWidth)(document.querySelector('#kickoff-dialog'))")
    for path in (project.path(f"/kickoff?tab={tab}"), project.path("/testsets")):
        phone_page.goto(f"{server.url}{path}")
        assert not overflows_horizontally(phone_page), path


# --- Without JavaScript ------------------------------------------------------------------------


def dialog_page(server, browser: requests.Session, project: Project, **query: str) -> requests.Response:
    answer = browser.get(f"{server.url}{project.path('/kickoff')}", params=query)
    assert answer.status_code == 200, answer.text
    return answer


def post_dialog(server, browser: requests.Session, project: Project, **fields) -> requests.Response:
    """Post the dialog's form as its page fills it, with ``fields`` added or replaced."""
    form = {
        "csrf_token": csrf_token(dialog_page(server, browser, project).text),
        "tab": "scorecard",
        "testset_id": project.testset["id"],
        "metric_id": [project.exact["id"]],
        "system_version_id": "new",
        "system_name": "plain bot",
        "model": "plain-model",
        "user_message": "{{ inputs.question }}",
        **fields,
    }
    return browser.post(f"{server.url}{project.path('/kickoffs')}", data=form, allow_redirects=False)


def test_without_javascript_the_dialog_is_a_page_and_its_form_starts_the_run(server, browser, client, project):
    page = dialog_page(server, browser, project, testset=project.testset["id"], tab="endpoint")
    assert "<title>Kickoff Run · Scorecard</title>" in page.text  # the whole page, not the fragment
    assert f'<option value="{project.testset["id"]}" selected>' in page.text
    assert 'class="current" aria-current="page">Endpoint</a>' in page.text
    assert f'href="/projects/{project.id}/kickoff?tab=github&amp;testset={project.testset["id"]}"' in page.text
    assert "hx-get" not in page.text.split('<nav class="tabs"')[1].split("</nav>")[0]  # plain links here

    answer = post_dialog(server, browser, project)
    assert answer.status_code == 303, answer.text
    run_id = answer.headers["Location"].rsplit("/", 1)[1]
    assert answer.headers["Location"] == project.path(f"/runs/{run_id}")
    assert wait_for_run(client, run_id, timeout=60)["status"] == "completed"

    # Run again: the finished run's choices, on the tab that runs its kind of version.
    again = dialog_page(server, browser, project, from_run=run_id).text
    run = client.get(f"/runs/{run_id}")
    assert 'class="current" aria-current="page">Scorecard</a>' in again
    assert f'<option value="{run["systemVersionId"]}" selected>' in again
    assert f'value="{project.exact["id"]}" checked>' in again
    assert 'name="model" value="plain-model"' in again
    assert f'<input type="hidden" name="from_run" value="{run_id}">' in again


def test_htmx_gets_only_the_dialog(server, browser, project):
    fragment = browser.get(f"{server.url}{project.path('/kickoff')}", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div class="kickoff-dialog">') and "<html" not in fragment
    assert 'hx-target="#kickoff-dialog"' in fragment and '<form method="dialog">' in fragment
    assert f'hx-post="/projects/{project.id}/kickoffs"' in fragment  # a refusal stays in the dialog


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"testset_id": ""}, "testset_id", "Choose the testset to run."),
        ({"metric_id": []}, "metric_id", "Choose at least one metric to run."),
        ({"group_id": "999999"}, "group_id", "Choose metric groups from the list"),
        ({"temperature": "hot"}, "temperature", "Temperature must be a number, not 'hot'."),
        ({"temperature": "9"}, "temperature", "Temperature must be a number from 0 to 2."),
        ({"max_tokens": "1.5"}, "max_tokens", "Max tokens must be a whole number, not '1.5'."),
        ({"model": ""}, "model", "Model "),
        ({"user_message": "{{ inputs."}, "user_message", "User message has a template error"),
        ({"system_name": ""}, "system_name", "Name the new system"),
        ({"system_version_id": ""}, "system_version_id", "Choose a system version to run, or write a new one."),
        ({"tab": "endpoint", "url": "ftp://example.com"}, "url", "URL "),
        ({"tab": "endpoint", "url": "http://127.0.0.1:9/", "headers": "no colon"}, "headers", "line 1 is not"),
        ({"tab": "endpoint", "method": "TRACE"}, "method", "Method must be one of"),
    ],
)
def test_bad_input_shows_the_form_again_naming_the_field(server, browser, client, project, fields, field, message):
    answer = post_dialog(server, browser, project, **fields)
    assert answer.status_code == 400, answer.text
    assert message in text_of(answer.text), re.findall(r"role=\"alert\">[^<]*", answer.text)
    marked = (
        '<fieldset aria-invalid="true">'
        if field in ("metric_id", "group_id")
        else rf'name="{field}"[^>]*aria-invalid="true"'
    )
    assert re.search(marked, answer.text), field
    assert client.get(f"/projects/{project.id}/runs")["data"] == []
    assert client.get(f"/projects/{project.id}/systems")["data"] == []  # nothing saved either


def test_a_version_of_the_wrong_kind_is_refused_naming_the_version(server, browser, client, project):
    system = client.post(f"/projects/{project.id}/systems", {"name": "bot", "config": PROMPT})
    version_id = system["productionVersion"]["id"]
    answer = post_dialog(server, browser, project, tab="endpoint", system_version_id=version_id)
    assert answer.status_code == 400, answer.text
    assert "System version is a `prompt` system; target `endpoint` runs `endpoint` systems." in text_of(answer.text)
    assert re.search(r'name="system_version_id"[^>]*aria-invalid="true"', answer.text)
    assert client.get(f"/projects/{project.id}/runs")["data"] == []


def test_the_dialog_posts_with_the_csrf_token_only(server, browser, client, project):
    answer = post_dialog(server, browser, project, csrf_token="forged")
    assert answer.status_code == 403 and "nothing was changed" in text_of(answer.text)
    assert client.get(f"/projects/{project.id}/runs")["data"] == []


def test_unknown_projects_runs_and_tabs(server, browser, project):
    assert browser.get(f"{server.url}/projects/999999/kickoff").status_code == 404
    assert browser.get(f"{server.url}/projects/999999/testsets").status_code == 404
    page = dialog_page(server, browser, project, from_run="999999", tab="nonsense").text
    assert 'class="current" aria-current="page">Scorecard</a>' in page
    assert html.escape("Kickoffs <b>") in page


def test_the_github_tab_dispatches_through_the_connection(database_url, github):
    """Another server here: its GitHub is the fake."""
    live = start_server(database_url, GITHUB_API_URL=github.url, GITHUB_TOKEN=None, GITHUB_SECONDS_BETWEEN_WRITES=0)
    try:
        key = live.new_api_key()
        client = ScorecardClient(live.api_url, key, max_retries=0)
        project = make_project(client)
        connection = {
            "repo": REPO,
            "branch": PR_BASE_REF,
            "workflow": WORKFLOW,
            "auth": "token",
            "token": ACTIONS_TOKEN,
        }
        client.put(f"/projects/{project.id}/github", {**connection, "metricIds": [project.exact["id"]]})
        browser = sign_in(live, key)
        page = dialog_page(live, browser, project, tab="github").text
        assert f"Starts {WORKFLOW} on {REPO}, which fills the new run." in text_of(page)
        assert f'name="ref" value="{PR_BASE_REF}"' in page and f'value="{project.exact["id"]}" checked>' in page

        answer = post_dialog(live, browser, project, tab="github", system_version_id="", ref=PR_HEAD_REF)
        assert answer.status_code == 303, answer.text
        (dispatched,) = github.workflow_dispatches(REPO)
        assert dispatched.ref == PR_HEAD_REF and dispatched.inputs["testset_id"] == str(project.testset["id"])
        assert answer.headers["Location"] == project.path(f"/runs/{dispatched.inputs['run_id']}")
        shown = text_of(browser.get(f"{live.url}{answer.headers['Location']}").text)
        assert f"Dispatched {WORKFLOW} on {REPO}@{PR_HEAD_REF}." in shown

        github.fail_next("POST", "/repos/*/actions/workflows/*/dispatches", 404, message="No such workflow")
        refused = post_dialog(live, browser, project, tab="github", system_version_id="", ref="")
        assert refused.status_code == 422, refused.text
        assert (
            "GitHub refused the workflow_dispatch" in text_of(refused.text)
            and "was kept, marked error." in refused.text
        )
        assert 'class="current" aria-current="page">GitHub</a>' in refused.text
    finally:
        live.stop()


def test_a_following_run_page_waits_while_the_dialog_is_open(page, server, api_key, client, project, fake_openai):
    fake_openai.delay = 2.0
    system = client.post(f"/projects/{project.id}/systems", {"name": "bot", "config": PROMPT})
    body = {"target": "scorecard", "testsetId": project.testset["id"], "metricIds": [project.exact["id"]]}
    run = client.post(
        f"/projects/{project.id}/kickoffs", {**body, "systemVersionId": system["productionVersion"]["id"]}
    )
    signed_in(page, server, api_key).goto(f"{server.url}{project.path('/runs/' + str(run['id']))}")
    dialog = open_dialog(page, "a:text('Run again')")
    dialog.locator("input[name=model]").fill("typed, not lost")
    page.wait_for_timeout(4_000)  # past a poll and the run's end
    assert dialog.locator("input[name=model]").input_value() == "typed, not lost"
    dialog.locator("button:text('Close')").click()
    page.locator("h1").click()  # nothing focused in a form: the page follows again
    follow_to_completed(page)


def test_a_refusal_shows_in_the_dialog_naming_the_field(page, server, api_key, client, project):
    signed_in(page, server, api_key)
    dialog = open_dialog(page, "tr:has-text('Kickoffs') >> a:text('Kickoff Run')")
    dialog.locator("select[name=testset_id]").select_option(str(project.testset["id"]))
    dialog.locator(f"input[name=metric_id][value='{project.exact['id']}']").check()
    dialog.locator("input[name=system_name]").fill("bot")
    dialog.locator("input[name=model]").fill("m")
    dialog.locator("input[name=temperature]").fill("hot")
    dialog.locator("button:text-is('Kickoff Run')").click()
    page.wait_for_selector(f"{DIALOG}[open] [role=alert]")
    assert dialog.locator("[role=alert]").inner_text() == "Temperature must be a number, not 'hot'."
    assert dialog.locator("input[name=temperature]").get_attribute("aria-invalid") == "true"
    assert dialog.locator("input[name=model]").input_value() == "m"  # as typed
    assert page.url == f"{server.url}/" and client.get(f"/projects/{project.id}/runs")["data"] == []

    dialog.locator("input[name=temperature]").fill("0")
    dialog.locator("button:text-is('Kickoff Run')").click()
    page.wait_for_url(re.compile(rf"{server.url}{project.path('/runs/')}\d+$"))
    follow_to_completed(page)
