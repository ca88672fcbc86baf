"""The Playground in a real browser (htmx) and without JavaScript: a prompt run on chosen testcases
(cards with the fake model's outputs, then scores with reasoning), re-scoring edited guidelines
without calling the model again, Save version, an ad-hoc input, template errors named, a phone's
width, and trials that never become runs and stay with the session that started them."""
# ruff: noqa: F811  (tests take the imported fixtures as parameters of the same names)

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import EXACT
from tests.server.test_ui import csrf_token, data_dir, sign_in  # noqa: F401  (data_dir: the UI's secret key)
from tests.support.browser import (
    chromium,  # noqa: F401  (the module's browser, behind page and phone_page)
    overflows_horizontally,
    page,  # noqa: F401
    phone_page,  # noqa: F401
    signed_in,
)

MODEL_DELAY = 0.3
PASS_GUIDELINES = "Say VERDICT: pass"
FAIL_GUIDELINES = "Say VERDICT: fail"


@pytest.fixture
def database_url(sqlite_url) -> str:
    """Trials never touch the database: SQLite keeps these tests fast."""
    return sqlite_url


@dataclass
class Playground:
    project_id: str
    testcases: list[dict]
    judged_id: str  # an AI metric
    exact_id: str  # a heuristic metric

    @property
    def path(self) -> str:
        return f"/projects/{self.project_id}/playground"


@pytest.fixture
def playground(client, fake_openai) -> Playground:
    project = client.post("/projects", {"name": "Playground project"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {
            "name": "questions",
            "jsonSchema": {"type": "object", "properties": {"question": {}, "answer": {}}},
            "fieldMapping": {"inputs": ["question"], "expected": ["answer"]},
        },
    )
    items = [{"jsonData": {"question": f"question {i}", "answer": f"answer {i}"}} for i in range(6)]
    testcases = client.post(f"/testsets/{testset['id']}/testcases", {"items": items})["items"]
    judged = client.post(
        f"/projects/{project['id']}/metrics",
        {"name": "Judged", "evalType": "ai", "outputType": "boolean", "guidelines": PASS_GUIDELINES},
    )
    exact = client.post(
        f"/projects/{project['id']}/metrics",
        {"name": "Exact", "evalType": "heuristic", "outputType": "boolean", "guidelines": "", "heuristic": EXACT},
    )
    fake_openai.delay = MODEL_DELAY
    return Playground(project["id"], testcases, judged["id"], exact["id"])


def prompt_requests(fake_openai) -> list[dict]:
    """The model calls of the prompt itself (the judge's ask for a JSON schema)."""
    return [r for r in fake_openai.requests if "json_schema" not in str(r.get("response_format"))]


def choose_testcases(tab, playground: Playground, chosen: list[dict]) -> None:
    for box in tab.locator("input[name=testcase_id]").all():
        box.uncheck()
    for testcase in chosen:
        tab.check(f"input[name=testcase_id][value='{testcase['id']}']")


def test_a_run_shows_outputs_then_scores_and_rescoring_calls_no_model(
    page, server, api_key, client, playground, fake_openai
):
    signed_in(page, server, api_key).goto(f"{server.url}/projects/{playground.project_id}")
    page.click("a:text-is('Playground')")
    page.wait_for_url(f"{server.url}{playground.path}")
    chosen = playground.testcases[1:3]
    choose_testcases(page, playground, chosen)
    page.check(f"input[name=metric_id][value='{playground.judged_id}']")
    page.check(f"input[name=metric_id][value='{playground.exact_id}']")

    page.click("button:text-is('Run')")
    expect(page.locator(".pg-card .pg-output")).to_have_count(2)
    outputs = page.locator(".pg-output").all_inner_texts()
    assert all(text.startswith("fake answer") for text in outputs), outputs
    assert [t.split()[0:2] for t in page.locator(".pg-card-head strong").all_inner_texts()] == [
        ["Testcase", f"#{tc['id']}"] for tc in chosen
    ]
    page.wait_for_selector("#pg-results[data-done=yes]")
    judged = page.locator(".pg-score:has-text('Judged')")
    assert judged.count() == 2
    assert all("pass" in text and "found VERDICT: pass" in text for text in judged.all_inner_texts())
    exact = page.locator(".pg-score:has-text('Exact')").all_inner_texts()
    assert all("fail" in text for text in exact), exact  # the model's answer is not the expected one
    assert len(prompt_requests(fake_openai)) == 2
    assert f"question {chosen[0]['inputs']['question'][-1]}" in str(prompt_requests(fake_openai))

    page.fill(f"textarea[name=guidelines_{playground.judged_id}]", FAIL_GUIDELINES)
    page.click("button:text-is('Re-score')")
    expect(page.locator(".pg-score:has-text('found VERDICT: fail')")).to_have_count(2)
    page.wait_for_selector("#pg-results[data-done=yes]")
    assert len(prompt_requests(fake_openai)) == 2  # the outputs were kept
    assert page.locator(".pg-output").all_inner_texts() == outputs

    page.fill("input[name=system_name]", "playground bot")
    page.fill("input[name=version_name]", "tried")
    page.click("button:text-is('Save version')")
    page.wait_for_selector(".pg-version:text('playground bot · tried')")
    systems = client.get(f"/projects/{playground.project_id}/systems")["data"]
    assert [s["name"] for s in systems] == ["playground bot"]
    config = systems[0]["productionVersion"]["config"]
    assert config["kind"] == "prompt" and config["model"] and config["messages"][-1]["role"] == "user"
    assert client.get(f"/projects/{playground.project_id}/runs")["data"] == []  # trials are not runs

    page.click("button:text-is('Kickoff Run')")
    page.wait_for_url(re.compile(rf".*/projects/{playground.project_id}/runs/\d+$"))
    [run] = client.get(f"/projects/{playground.project_id}/runs")["data"]
    assert run["source"] == "playground" and run["systemVersionId"] == systems[0]["productionVersion"]["id"]
    assert "started from the playground" in page.inner_text("main")
    finished = wait_for_run(client, run["id"])
    assert finished["status"] == "completed" and finished["numRecords"] == len(playground.testcases)


def test_an_adhoc_input_runs_without_a_testcase(page, server, api_key, playground, fake_openai):
    signed_in(page, server, api_key).goto(f"{server.url}{playground.path}")
    choose_testcases(page, playground, [])
    page.click("summary:text('Ad-hoc input')")
    page.fill("textarea[name=adhoc_inputs]", '{"question": "typed by hand"}')
    page.click("button:text-is('Run')")
    page.wait_for_selector(".pg-card .pg-output")
    assert page.locator(".pg-card-head strong").all_inner_texts() == ["Ad-hoc input"]
    assert "typed by hand" in str(prompt_requests(fake_openai))


def test_template_errors_name_the_message(page, server, api_key, playground, fake_openai):
    signed_in(page, server, api_key).goto(f"{server.url}{playground.path}")
    page.fill("textarea[name=content_1]", "{{ inputs.question ")
    page.click("button:text-is('Run')")
    alert = page.locator("#pg-results .flash.error")
    alert.wait_for()
    assert "config.messages[1].content" in alert.inner_text() and "template error" in alert.inner_text()

    page.fill("textarea[name=content_1]", "{{ inputs.no_such_field }}")
    page.click("button:text-is('Run')")
    page.wait_for_selector(".pg-card .pg-error")
    errors = page.locator(".pg-error").all_inner_texts()
    assert all("config.messages[1].content could not be rendered" in e and "no_such_field" in e for e in errors)
    assert prompt_requests(fake_openai) == []


def test_the_playground_fits_a_phone(phone_page, server, api_key, playground):
    signed_in(phone_page, server, api_key).goto(f"{server.url}{playground.path}")
    assert not overflows_horizontally(phone_page)
    phone_page.check(f"input[name=metric_id][value='{playground.judged_id}']")
    phone_page.click("button:text-is('Run')")
    phone_page.wait_for_selector("#pg-results[data-done=yes]")
    assert phone_page.locator(".pg-card").count() == 5
    assert not overflows_horizontally(phone_page)


# -- without JavaScript ---------------------------------------------------------------------------


def test_without_javascript_a_browser_follows_the_trial_by_refreshing(chromium, server, api_key, playground):
    context = chromium.new_context(java_script_enabled=False)
    try:
        tab = signed_in(context.new_page(), server, api_key)
        tab.goto(f"{server.url}{playground.path}")
        tab.click("button:text-is('Run')")
        tab.wait_for_url(re.compile(r".*/playground\?trial=.+"))
        expect(tab.locator("#pg-results[data-done=yes]")).to_have_count(1, timeout=15_000)  # by meta refresh
        assert tab.locator(".pg-output").count() == 5
    finally:
        context.close()


def form_of(page_html: str, playground: Playground, **fields) -> dict:
    """The playground's form as the page fills it: its token, the starting prompt and testcases."""
    data: dict = {
        "csrf_token": csrf_token(page_html),
        "testset_id": re.search(r'name="testset_id" value="([^"]*)"', page_html).group(1),
        "testcase_id": [tc["id"] for tc in playground.testcases[:2]],
        "role_0": "system",
        "content_0": "Answer briefly.",
        "role_1": "user",
        "content_1": "{{ inputs.question }}",
        "model": "gpt-test",
        "response_format": "text",
        "metric_id": [playground.judged_id],
        f"guidelines_{playground.judged_id}": PASS_GUIDELINES,
    }
    return {**data, **fields}


def test_without_javascript_the_trial_page_refreshes_until_done(server, api_key, client, playground, fake_openai):
    browser = sign_in(server, api_key)
    start = browser.get(f"{server.url}{playground.path}")
    assert start.status_code == 200 and 'id="pg-form"' in start.text
    posted = browser.post(
        f"{server.url}{playground.path}/run", data=form_of(start.text, playground), allow_redirects=False
    )
    assert posted.status_code == 303, posted.text
    trial_url = posted.headers["Location"]
    assert "?trial=" in trial_url

    first = browser.get(f"{server.url}{trial_url}" if trial_url.startswith("/") else trial_url)
    assert '<meta http-equiv="refresh"' in first.text and "Calling the model" in first.text
    deadline = time.monotonic() + 15
    page = first.text
    while '<meta http-equiv="refresh"' in page:
        assert time.monotonic() < deadline, "the trial never finished"
        time.sleep(0.2)
        page = browser.get(first.url).text
    assert page.count('class="json pg-output"') == 2 and "found VERDICT: pass" in page
    assert 'value="gpt-test"' in page  # the form shows the trial's prompt again

    saved = browser.post(
        f"{server.url}{playground.path}/save",
        data=form_of(page, playground, system_name="no-js bot", trial_id=first.url.split("trial=")[1]),
    )
    assert saved.status_code == 200 and "no-js bot · v1" in saved.text and 'class="json pg-output"' in saved.text

    version_id = re.search(r'name="system_version_id" value="([^"]+)"', saved.text).group(1)
    reopened = browser.get(f"{server.url}{playground.path}?version={version_id}").text
    assert 'value="gpt-test"' in reopened and "Answer briefly." in reopened  # Start from: the saved prompt
    no_metrics = form_of(saved.text, playground, metric_id=[], system_version_id=version_id)
    refused = browser.post(f"{server.url}{playground.path}/kickoff", data=no_metrics)
    assert refused.status_code == 400 and "metricIds" in refused.text and "no-js bot · v1" in refused.text
    kicked = browser.post(
        f"{server.url}{playground.path}/kickoff",
        data=form_of(saved.text, playground, system_version_id=version_id),
        allow_redirects=False,
    )
    assert kicked.status_code == 303 and re.search(r"/runs/\d+$", kicked.headers["Location"])

    refused = browser.post(f"{server.url}{playground.path}/run", data=form_of(page, playground, temperature="hot"))
    assert refused.status_code == 400 and "config.temperature" in refused.text

    stranger = sign_in(server, server.new_api_key("someone else"))
    assert "no longer kept" in stranger.get(first.url).text
    wait_for_run(client, kicked.headers["Location"].rsplit("/", 1)[1])
    assert len(prompt_requests(fake_openai)) == 2 + len(playground.testcases)  # the trial's, then the run's


def test_a_post_without_the_form_token_is_refused(server, api_key, playground):
    browser = sign_in(server, api_key)
    start = browser.get(f"{server.url}{playground.path}").text
    response = browser.post(
        f"{server.url}{playground.path}/run", data={**form_of(start, playground), "csrf_token": "forged"}
    )
    assert response.status_code == 403


def test_htmx_posts_get_fragments(server, api_key, playground):
    browser: requests.Session = sign_in(server, api_key)
    start = browser.get(f"{server.url}{playground.path}").text
    headers = {"HX-Request": "true"}
    ran = browser.post(f"{server.url}{playground.path}/run", data=form_of(start, playground), headers=headers)
    assert ran.status_code == 200 and ran.text.lstrip().startswith("{#") is False
    assert 'id="pg-results"' in ran.text and "hx-get=" in ran.text and "<html" not in ran.text
    bad = browser.post(
        f"{server.url}{playground.path}/run", data=form_of(start, playground, content_1="{% if %}"), headers=headers
    )
    assert bad.status_code == 200 and "config.messages[1].content" in bad.text  # htmx swaps only 2xx
