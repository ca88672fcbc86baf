"""Kickoff Run -> GitHub in the web UI, over real HTTP with a fake GitHub: the project page's panel,
a kickoff that reaches GitHub as a dispatch and lands on its run, and the refusals (GitHub's reason,
bad input naming the field, a post without the CSRF token)."""
# ruff: noqa: F811  (tests take the imported fixtures as parameters of the same names)

from __future__ import annotations

import html
from typing import Any

import requests

# Fixtures (signed-in browser, the UI's secret key; our server pointed at a fake GitHub; a project
# to evaluate) are imported with the helpers.
from tests.server.test_ui import browser, csrf_token, data_dir, text_of  # noqa: F401
from tests.webhook.conftest import PR_BASE_REF, PR_HEAD_REF, REPO, WORKFLOW, github, server  # noqa: F401
from tests.webhook.kickoff_support import (
    Evaluation,
    connect,
    dispatch_requests,
    evaluation_fixture,  # noqa: F401
    runs_of,
)

WORKFLOW_DISPATCHES = "/repos/*/actions/workflows/*/dispatches"
HOSTILE_REASON = "<b>No such workflow</b> & <script>alert(1)</script>"
BROKEN_PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEnotARealKey\n-----END RSA PRIVATE KEY-----\n"


def project_page(server, browser: requests.Session, evaluation: Evaluation) -> requests.Response:
    page = browser.get(f"{server.url}/projects/{evaluation.project_id}")
    assert page.status_code == 200, page.text
    return page


def kickoff_action(evaluation: Evaluation) -> str:
    return f'action="/projects/{evaluation.project_id}/kickoff"'


def post_kickoff(server, browser: requests.Session, evaluation: Evaluation, **fields: Any) -> requests.Response:
    """Post the form as the page fills it (its token, the evaluation's testset and metrics), with
    ``fields`` replacing values (None leaves a field out)."""
    form = {
        "csrf_token": csrf_token(project_page(server, browser, evaluation).text),
        "testset_id": evaluation.testset_id,
        "metric_id": evaluation.metric_ids,
        "system_version_id": "",
        "ref": PR_BASE_REF,
        **fields,
    }
    return browser.post(
        f"{server.url}/projects/{evaluation.project_id}/kickoff",
        allow_redirects=False,
        data={name: value for name, value in form.items() if value is not None},
    )


def test_the_panel_shows_with_a_connection_and_says_how_to_connect_without(server, browser, client, evaluation):
    project_id = evaluation.project_id
    bare = project_page(server, browser, evaluation).text
    assert kickoff_action(evaluation) not in bare
    assert f"scorecard github connect --project {project_id} --repo owner/name" in text_of(bare)
    assert f"PUT /api/v2/projects/{project_id}/github" in text_of(bare)

    connect(client, evaluation, onKickoff=False)
    off = project_page(server, browser, evaluation).text
    assert kickoff_action(evaluation) not in off
    assert f"Kickoff Run → GitHub is off for this project's connection to {REPO}" in text_of(off)
    assert "--on-kickoff" in off and '"onKickoff": true' in html.unescape(off)
    refused = post_kickoff(server, browser, evaluation)  # a form from before kickoffs were turned off
    assert refused.status_code == 409 and "kickoffs are off" in text_of(refused.text)

    system = client.post(f"/projects/{project_id}/systems", {"name": "bot <v1>", "config": {"model": "m"}})
    version_id = system["productionVersion"]["id"]
    first, second = evaluation.metric_ids
    connect(client, evaluation, testsetId=evaluation.testset_id, metricIds=[first], systemVersionId=version_id)
    page = project_page(server, browser, evaluation).text
    assert kickoff_action(evaluation) in page and "Kickoff Run → GitHub" in page
    assert f"starts {WORKFLOW} on {REPO}" in text_of(page)
    # Pre-filled with the connection's pull-request evaluation and branch.
    assert f'<option value="{evaluation.testset_id}" selected>' in page
    assert f'value="{first}" checked>' in page and f'value="{second}">' in page
    assert '<optgroup label="bot &lt;v1&gt;">' in page and f'<option value="{version_id}" selected>' in page
    assert "(production)" in page and f'name="ref" value="{PR_BASE_REF}"' in page


def test_a_kickoff_from_the_ui_dispatches_the_workflow_and_opens_its_run(server, browser, client, github, evaluation):
    system = client.post(f"/projects/{evaluation.project_id}/systems", {"name": "bot", "config": {"model": "m"}})
    version_id = system["productionVersion"]["id"]
    connect(client, evaluation)
    answer = post_kickoff(server, browser, evaluation, system_version_id=version_id, ref=PR_HEAD_REF)
    assert answer.status_code == 302, answer.text
    (run,) = runs_of(client, evaluation)
    assert answer.headers["Location"] == f"/projects/{evaluation.project_id}/runs/{run['id']}"
    assert run["source"] == "kickoff" and run["systemVersionId"] == version_id
    assert run["git"]["repo"] == REPO and run["git"]["ref"] == PR_HEAD_REF

    (sent,) = github.workflow_dispatches(REPO)
    assert sent.ref == PR_HEAD_REF
    assert sent.inputs == {
        "project_id": evaluation.project_id,
        "testset_id": evaluation.testset_id,
        "metric_ids": ",".join(evaluation.metric_ids),
        "system_version_id": version_id,
        "run_id": run["id"],
    }
    actions_run_url = run["git"]["actionsRunUrl"]
    assert actions_run_url.endswith(f"/actions/runs/{sent.run_id}")

    run_page = browser.get(f"{server.url}{answer.headers['Location']}")
    assert run_page.status_code == 200
    assert f"Dispatched {WORKFLOW} on {REPO}@{PR_HEAD_REF}. Open the Actions run" in text_of(run_page.text)
    assert f'<a href="{actions_run_url}" rel="noopener noreferrer">Open the Actions run</a>' in run_page.text

    # repository_dispatch: GitHub names no Actions run, so the message says when it will be linked.
    connect(client, evaluation, dispatch="repository_dispatch")
    answer = post_kickoff(server, browser, evaluation, ref=None)
    assert answer.status_code == 302, answer.text
    (dispatched,) = github.dispatches(REPO)
    assert dispatched.event_type == "start-evaluation"
    assert dispatched.client_payload["run_id"] == answer.headers["Location"].rsplit("/", 1)[1]
    shown = text_of(browser.get(f"{server.url}{answer.headers['Location']}").text)
    assert f"Dispatched start-evaluation on {REPO}@{PR_BASE_REF}. The run links its Actions run once" in shown


def test_github_refusing_shows_its_reason_and_the_errored_run(server, browser, client, github, evaluation):
    connect(client, evaluation)
    github.fail_next("POST", WORKFLOW_DISPATCHES, 404, message=HOSTILE_REASON)
    answer = post_kickoff(server, browser, evaluation, metric_id=evaluation.metric_ids[1])
    assert answer.status_code == 422, answer.text
    assert "<script>" not in answer.text and "<b>" not in answer.text
    assert html.escape(HOSTILE_REASON, quote=False) in answer.text
    shown = text_of(answer.text)
    assert f"GitHub refused the workflow_dispatch to {REPO} with 404: {HOSTILE_REASON}" in shown
    assert f".github/workflows/{WORKFLOW} exists on `{PR_BASE_REF}`" in shown  # the hint what to check

    (run,) = runs_of(client, evaluation)
    assert run["status"] == "error" and run["source"] == "kickoff"
    assert f'<a href="/projects/{evaluation.project_id}/runs/{run["id"]}">Run #{run["id"]}</a>' in answer.text
    # The form is open again with what was picked.
    assert '<details class="panel kickoff" id="kickoff" open>' in answer.text
    first, second = evaluation.metric_ids
    assert f'value="{second}" checked>' in answer.text and f'value="{first}">' in answer.text


def test_a_github_app_key_that_cannot_sign_is_a_message_not_a_500(server, browser, client, github, evaluation):
    connect(client, evaluation, auth="app", appId="1", installationId=7, privateKey=BROKEN_PRIVATE_KEY, token=None)
    answer = post_kickoff(server, browser, evaluation)
    assert answer.status_code == 422, answer.text
    assert f"the GitHub App private key of the connection to {REPO} cannot sign requests" in text_of(answer.text)
    assert "MIIE" not in answer.text  # the key itself is never shown
    (run,) = runs_of(client, evaluation)
    assert run["status"] == "error" and dispatch_requests(github) == []


def test_a_post_without_the_csrf_token_is_refused(server, browser, client, github, evaluation):
    connect(client, evaluation)
    for token in (None, "forged"):
        answer = post_kickoff(server, browser, evaluation, csrf_token=token)
        assert answer.status_code == 403 and "This form has expired" in answer.text
    assert runs_of(client, evaluation) == [] and dispatch_requests(github) == []


def test_bad_input_gets_the_form_back_with_a_message_naming_the_field(server, browser, client, github, evaluation):
    connect(client, evaluation)
    other_project = client.post("/projects", {"name": "elsewhere"})
    foreign = client.post(
        f"/projects/{other_project['id']}/metrics",
        {
            "name": "Foreign",
            "evalType": "heuristic",
            "outputType": "boolean",
            "guidelines": "",
            "heuristic": {"type": "exact_match", "outputField": "answer", "expectedField": "answer"},
        },
    )
    cases = [
        ({"metric_id": None}, "Choose at least one metric to run."),
        ({"metric_id": ["abc"]}, "Choose metrics from the list"),
        ({"metric_id": [evaluation.metric_ids[0], foreign["id"]]}, f"Metric {foreign['id']} no longer exists"),
        ({"testset_id": ""}, "Choose the testset to run."),
        ({"testset_id": "99999999999999999999"}, "Testset '99999999999999999999' is not in this project"),
        ({"system_version_id": "not-a-version"}, "System version 'not-a-version' is not one of this project's"),
        ({"ref": "feature branch"}, "The ref 'feature branch' cannot be a branch, tag or commit name"),
        ({"ref": "x" * 300}, "The ref is 300 characters long"),
    ]
    for fields, message in cases:
        answer = post_kickoff(server, browser, evaluation, **fields)
        assert answer.status_code == 400, (fields, answer.text)
        assert message in text_of(answer.text), (fields, text_of(answer.text))
        assert '<details class="panel kickoff" id="kickoff" open>' in answer.text
    assert runs_of(client, evaluation) == [] and dispatch_requests(github) == []
