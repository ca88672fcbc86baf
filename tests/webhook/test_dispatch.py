"""Dispatching a kickoff's workflow, over real HTTP: our live server (the kickoff API) dispatches
through PyGithub to the fake GitHub, which checks every request against GitHub's spec."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scorecard_core.client import ApiError
from scorecard_core.errors import BadRequest
from tests.fakes.github_server import READ_ONLY_TOKEN
from tests.webhook.conftest import PR_BASE_REF, PR_HEAD_REF, REPO
from tests.webhook.kickoff_support import (
    connect,
    dispatch_requests,
    evaluation_fixture,  # noqa: F401  (the `evaluation` fixture)
    kick_off,
    runs_of,
)
from webhook.dispatch import MAX_PAYLOAD_BYTES, check_client_payload

WORKFLOW_DISPATCHES = "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"
GHES_REFUSAL = 'Invalid request.\n\n"return_run_details" is not a permitted key.'


def kickoff_values(evaluation, run) -> dict[str, str]:
    return {
        "project_id": evaluation.project_id,
        "testset_id": evaluation.testset_id,
        "metric_ids": ",".join(evaluation.metric_ids),
        "run_id": run["id"],
    }


def test_workflow_dispatch_passes_the_run_and_learns_its_actions_run(client, github, evaluation):
    connect(client, evaluation)
    run = kick_off(client, evaluation, ref=PR_HEAD_REF)

    (sent,) = dispatch_requests(github)
    assert sent.path == f"/repos/{REPO}/actions/workflows/scorecard-eval.yml/dispatches"
    assert sent.body == {"ref": PR_HEAD_REF, "inputs": kickoff_values(evaluation, run), "return_run_details": True}
    (dispatched,) = github.workflow_dispatches(REPO)
    (actions_run,) = github.workflow_runs(REPO)
    assert dispatched.run_id == actions_run.id and actions_run.event == "workflow_dispatch"

    actions_run_url = f"https://github.com/{REPO}/actions/runs/{actions_run.id}"
    assert run["source"] == "kickoff" and run["status"] == "awaiting_execution"
    assert run["git"] == {"repo": REPO, "ref": PR_HEAD_REF, "actionsRunUrl": actions_run_url}
    assert client.get(f"/runs/{run['id']}")["git"] == run["git"]


def test_the_connection_branch_and_system_version_are_passed(client, github, evaluation):
    system = client.post(f"/projects/{evaluation.project_id}/systems", {"name": "bot", "config": {"model": "m"}})
    version_id = system["productionVersion"]["id"]
    connect(client, evaluation)
    run = kick_off(client, evaluation, systemVersionId=version_id)

    (dispatched,) = github.workflow_dispatches(REPO)
    assert dispatched.ref == PR_BASE_REF
    assert dispatched.inputs == {**kickoff_values(evaluation, run), "system_version_id": version_id}
    assert run["git"]["ref"] == PR_BASE_REF and run["systemVersionId"] == version_id


def test_repository_dispatch_sends_a_snake_case_client_payload(client, github, evaluation):
    connect(client, evaluation, dispatch="repository_dispatch", eventType="run-evals")
    run = kick_off(client, evaluation)

    (dispatch,) = github.dispatches(REPO)
    assert dispatch.event_type == "run-evals"
    assert dispatch.client_payload == kickoff_values(evaluation, run)
    assert dispatch.client_payload["metric_ids"] == f"{evaluation.metric_ids[0]},{evaluation.metric_ids[1]}"
    assert github.workflow_dispatches(REPO) == []
    # GitHub names no workflow run for a repository_dispatch: the workflow_run webhook links it later.
    assert run["git"] == {"repo": REPO, "ref": PR_BASE_REF} and run["status"] == "awaiting_execution"


def test_github_refusing_return_run_details_is_asked_again_without(client, github, evaluation):
    """GitHub Enterprise Server versions without run details answer 422 naming the flag."""
    connect(client, evaluation)
    github.fail_next("POST", WORKFLOW_DISPATCHES, 422, message=GHES_REFUSAL)
    run = kick_off(client, evaluation)

    first, second = dispatch_requests(github)
    assert (first.status, first.body["return_run_details"]) == (422, True)
    assert second.status == 204 and "return_run_details" not in second.body
    assert second.body["inputs"] == kickoff_values(evaluation, run)
    assert len(github.workflow_dispatches(REPO)) == 1
    assert run["status"] == "awaiting_execution" and "actionsRunUrl" not in run["git"]


REFUSALS = {
    "workflow missing": ({"workflow": "missing.yml"}, None, 404, "Not Found", ".github/workflows/missing.yml"),
    "repository missing": (
        {"repo": "acme/missing", "dispatch": "repository_dispatch"},
        None,
        404,
        "Not Found",
        "acme/missing exists",
    ),
    "no permission": (
        {"token": READ_ONLY_TOKEN},
        None,
        403,
        "Resource not accessible by integration",
        "actions: write",
    ),
    "undeclared input": (
        {},
        'Unexpected inputs provided: ["run_id"]',
        422,
        'Unexpected inputs provided: ["run_id"]',
        "declares the workflow_dispatch inputs",
    ),
}


@pytest.mark.parametrize("connection, scripted, status, reason, hint", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_dispatch_fails_the_run_and_tells_the_caller(
    client, github, evaluation, connection, scripted, status, reason, hint
):
    connect(client, evaluation, **connection)
    if scripted:
        github.fail_next("POST", WORKFLOW_DISPATCHES, status, message=scripted)
    with pytest.raises(ApiError) as refused:
        kick_off(client, evaluation)

    error = refused.value
    assert (error.status, error.code) == (422, "GITHUB_DISPATCH_REJECTED")
    assert error.details["githubStatus"] == status and error.details["githubMessage"] == reason
    assert f"with {status}: {reason}" in str(error) and hint in str(error)
    (run,) = runs_of(client, evaluation)
    assert run["id"] == error.details["runId"] and run["source"] == "kickoff"
    assert run["status"] == "error" and f"with {status}: {reason}" in run["error"]
    assert [r.status for r in dispatch_requests(github)] == [status]  # refusals are not retried


@pytest.mark.parametrize("installed", [True, False], ids=["installed", "not installed"])
def test_a_github_app_dispatches_as_its_installation(client, github, evaluation, installed):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    account = REPO.split("/")[0] if installed else "someone-else"
    github.add_installation(account, app_id=42, app_slug="scorecard", public_key=public_pem)
    connect(client, evaluation, auth="app", appId="42", privateKey=private_pem)

    if installed:
        run = kick_off(client, evaluation)
        (sent,) = dispatch_requests(github)
        assert sent.token.startswith("ghs_") and run["git"]["actionsRunUrl"]
        return
    with pytest.raises(ApiError) as refused:  # looking the repository's installation up fails
        kick_off(client, evaluation)
    assert (refused.value.status, refused.value.details["githubStatus"]) == (422, 404)
    (run,) = runs_of(client, evaluation)
    assert run["status"] == "error" and "with 404: Not Found" in run["error"] and dispatch_requests(github) == []


def test_an_unreachable_github_is_a_bad_gateway(client, github, evaluation):
    connect(client, evaluation)
    github.stop()  # nothing listens on its port any more
    with pytest.raises(ApiError) as unreachable:
        kick_off(client, evaluation)

    assert (unreachable.value.status, unreachable.value.code) == (502, "GITHUB_UNAVAILABLE")
    (run,) = runs_of(client, evaluation)
    assert run["status"] == "error" and "GitHub could not be reached" in run["error"]


def test_a_client_payload_must_fit_githubs_limits():
    check_client_payload({f"key_{i}": "x" for i in range(10)})
    with pytest.raises(BadRequest, match="at most 10 top-level keys, not 11"):
        check_client_payload({f"key_{i}": "x" for i in range(11)})
    with pytest.raises(BadRequest, match="GitHub accepts under 65536 .*workflow_dispatch") as too_big:
        check_client_payload({"metric_ids": ",".join(["123456"] * (MAX_PAYLOAD_BYTES // 7 + 1))})
    assert too_big.value.details == {"field": "metricIds"}
