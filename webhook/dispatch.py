"""Kickoffs: create a Scorecard run, then start the connected repository's workflow to fill it.

Two ways to start the workflow, per connection:

- ``workflow_dispatch`` (default) names the workflow file and passes ``inputs``; with
  ``return_run_details`` GitHub answers with the Actions run, so the run links to it at once.
- ``repository_dispatch`` sends an ``event_type`` (``start-evaluation``) with a ``client_payload``,
  the shape Scorecard's own generated workflow reads.

Both carry the same snake_case values (project_id, testset_id, metric_ids as a comma string,
system_version_id, run_id), which the Action falls back to, so the workflow fills this run.
A dispatch that fails marks the run ``error`` with GitHub's reason.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import jwt
import requests
from github import Github, GithubException
from github.WorkflowRun import WorkflowRun

from scorecard_core.errors import BadRequest, ScorecardError
from scorecard_core.git import GitContext
from scorecard_core.github_errors import github_reason
from scorecard_core.models import GitHubConnection

from .service import WebhookService

KICKOFF_KEYS = ("project_id", "testset_id", "metric_ids", "system_version_id", "run_id")
# GitHub's limits on a repository_dispatch client_payload.
MAX_PAYLOAD_KEYS = 10
MAX_PAYLOAD_BYTES = 64 * 1024


class DispatchRejected(ScorecardError):
    """GitHub refused the dispatch, or could not be reached; the run is already marked ``error``.

    ``unavailable``: GitHub could not be reached or failed itself, rather than refusing; the
    server answers the two differently (see its error statuses)."""

    code = "GITHUB_DISPATCH_REJECTED"

    def __init__(self, message: str, details: dict[str, Any], unavailable: bool = False):
        super().__init__(message, details)
        if unavailable:
            self.code = "GITHUB_UNAVAILABLE"


def kickoff(
    service: WebhookService,
    connection: GitHubConnection,
    *,
    testset_id: str | int,
    metric_ids: list[str] | list[int],
    system_version_id: str | None,
    ref: str | None = None,
    git: GitContext | None = None,
    source: str = "kickoff",
) -> dict[str, Any]:
    """Create the run and dispatch the workflow on ``ref`` (default: the connection's branch).

    The run's git context is ``git`` (e.g. a PR's head commit), its repo and ref defaulting to
    the connection's repo and ``ref``: ``git.ref`` wins, e.g. a fork PR's head branch while the
    workflow runs on the base branch. Returns the run's wire JSON, with ``git.actionsRunUrl``
    when GitHub named the run.
    """
    ref = ref or connection.branch
    git = git or GitContext()
    context = replace(git, repo=git.repo or connection.repo, ref=git.ref or ref).wire()
    run = service.scorecard.create_run(
        str(connection.project_id),
        str(testset_id),
        [str(m) for m in metric_ids],
        system_version_id,
        source,
        context,
    )
    actions_run_url = dispatch_run(service, connection, run, ref)
    if actions_run_url:
        run = {**run, "git": {**(run.get("git") or context), "actionsRunUrl": actions_run_url}}
    return run


def dispatch_run(
    service: WebhookService, connection: GitHubConnection, run: dict[str, Any], ref: str | None
) -> str | None:
    """Start the workflow that fills ``run``; the Actions run's URL when GitHub says it.

    On failure the run ends ``error`` with the reason, and the error is raised."""
    values = kickoff_values(connection, run)
    ref = ref or connection.branch
    failure: ScorecardError
    try:
        github = service.github(connection)  # a GitHub App looks its installation up here
        if connection.dispatch == "repository_dispatch":
            _repository_dispatch(github, connection, values)
            actions_run_url = None  # GitHub answers 204, naming no workflow run
        else:
            actions_run_url = _workflow_dispatch(github, connection, ref, values)
    except (GithubException, requests.RequestException) as exc:
        failure = _rejected(exc, connection, ref, values)
    except jwt.PyJWTError as exc:  # PyGithub signs a GitHub App's token request with the stored key
        failure = DispatchRejected(
            f"the GitHub App private key of the connection to {connection.repo} cannot sign requests ({exc}): "
            "reconnect with the App's .pem file (`scorecard github connect --private-key-file`)",
            {"githubStatus": None, "dispatch": connection.dispatch, "repo": connection.repo},
        )
    except ScorecardError as exc:  # no credentials, a payload over GitHub's limits
        failure = exc
    else:
        if actions_run_url:
            service.scorecard.update_git(str(run["id"]), GitContext(actions_run_url=actions_run_url).wire())
        return actions_run_url
    service.scorecard.fail_run(str(run["id"]), failure.message)
    failure.details["runId"] = str(run["id"])  # the caller can show the failed run
    raise failure


def kickoff_values(connection: GitHubConnection, run: dict[str, Any]) -> dict[str, str]:
    """What the workflow needs to fill ``run``, under the names the Action reads (strings: workflow
    inputs are strings; a run without a system version leaves that key out)."""
    values = {
        "project_id": connection.project_id,  # hosted Scorecard's run JSON carries no projectId
        "testset_id": run.get("testsetId"),
        "metric_ids": ",".join(str(m) for m in run.get("metricIds") or []),
        "system_version_id": run.get("systemVersionId"),
        "run_id": run["id"],
    }
    return {key: str(values[key]) for key in KICKOFF_KEYS if values[key]}


def check_client_payload(payload: dict[str, Any]) -> None:
    """GitHub refuses a client_payload with more than 10 top-level keys or of 64 KB or more."""
    if len(payload) > MAX_PAYLOAD_KEYS:
        raise BadRequest(
            f"a repository_dispatch client_payload may have at most {MAX_PAYLOAD_KEYS} top-level keys, "
            f"not {len(payload)}"
        )
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    if size >= MAX_PAYLOAD_BYTES:
        raise BadRequest(
            f"the repository_dispatch client_payload would be {size} bytes; GitHub accepts under "
            f"{MAX_PAYLOAD_BYTES} (64 KB): pass fewer metrics, or switch the connection to "
            "workflow_dispatch",
            {"field": "metricIds"},
        )


def _workflow_dispatch(github: Github, connection: GitHubConnection, ref: str, inputs: dict[str, str]) -> str | None:
    workflow = github.get_repo(connection.repo).get_workflow(connection.workflow)
    try:
        started = workflow.create_dispatch(ref, inputs, throw=True, return_run_details=True)
    except GithubException as exc:
        if exc.status != 422 or "return_run_details" not in github_reason(exc):
            raise
        # GitHub Enterprise Server versions without run details refuse the flag: dispatch without
        # it (204); the workflow_run webhook links the Actions run later.
        started = workflow.create_dispatch(ref, inputs, throw=True)
    return started.html_url if isinstance(started, WorkflowRun) else None


def _repository_dispatch(github: Github, connection: GitHubConnection, payload: dict[str, str]) -> None:
    check_client_payload(payload)
    body = {"event_type": connection.event_type, "client_payload": payload}
    # Not Repository.create_repository_dispatch: it answers False and drops GitHub's reason.
    # The requester raises with it, and keeps PyGithub's auth, retries and rate limiting.
    github.requester.requestJsonAndCheck("POST", f"/repos/{connection.repo}/dispatches", input=body)


def _hint(status: int, connection: GitHubConnection, ref: str, values: dict[str, str]) -> str | None:
    mode = connection.dispatch
    if status == 401:
        return "the connection's credentials are invalid or expired: reconnect with a new token or App key"
    if status == 403:
        permission = "actions: write" if mode == "workflow_dispatch" else "contents: write"
        return f"the credentials may not dispatch: a token or GitHub App needs `{permission}` on {connection.repo}"
    if status == 404 and mode == "workflow_dispatch":
        return (
            f"check that {connection.repo} exists, that the credentials can see it, and that "
            f".github/workflows/{connection.workflow} exists on `{ref}`"
        )
    if status == 404:
        return f"check that {connection.repo} exists and that the credentials can see it"
    if status == 422 and mode == "workflow_dispatch":
        return (
            f"check that `{ref}` exists and that the workflow declares the workflow_dispatch inputs "
            f"{', '.join(values)} (see the example workflow)"
        )
    if status >= 500:
        return "GitHub is having trouble: kick off again shortly"
    return None


def _rejected(
    exc: GithubException | requests.RequestException, connection: GitHubConnection, ref: str, values: dict[str, str]
) -> DispatchRejected:
    where = f"the {connection.dispatch} to {connection.repo}"
    if isinstance(exc, requests.RequestException):
        return DispatchRejected(
            f"GitHub could not be reached for {where}: {exc}", {"githubStatus": None}, unavailable=True
        )
    reason, status = github_reason(exc), exc.status
    hint = _hint(status, connection, ref, values)
    return DispatchRejected(
        f"GitHub refused {where} with {status}: {reason}" + (f" ({hint})" if hint else ""),
        {"githubStatus": status, "githubMessage": reason, "dispatch": connection.dispatch, "repo": connection.repo},
        unavailable=status >= 500,
    )
