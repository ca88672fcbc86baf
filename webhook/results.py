"""Results back to the pull request: when a run with git context finishes scoring, the sticky
comment the Action writes (same renderer, same marker, so the two edit one comment) and a commit
status on the head SHA, whoever started the run.

Our server's scoring engine calls this when a run finishes; the standalone service calls it after
polling a run. Every step is safe to repeat: the comment is looked up before it is created, and a
new commit status simply supersedes the last one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from github import GithubException, RateLimitExceededException
from github.PullRequest import PullRequest
from github.Repository import Repository

from runner.comment import upsert_sticky_comment
from scorecard_core.errors import InvalidField
from scorecard_core.gate import GatePolicy, parse_policy
from scorecard_core.git import GitContext
from scorecard_core.github_errors import github_message
from scorecard_core.markdown import (
    GITHUB_COMMENT_LIMIT,
    ReportContext,
    render,
    report_context,
)
from scorecard_core.models import GitHubConnection
from scorecard_core.run_status import FINISHED, RunStatus
from scorecard_core.wording import percent

from .github_client import GitHubNotConfigured
from .service import WebhookService

log = logging.getLogger(__name__)

STATUS_DESCRIPTION_LIMIT = 140
# The gate's inputs (as the Action names them) -> the connection's fields.
CONNECTION_FIELDS = {
    "fail-under": "failUnder",
    "fail-under-mode": "failUnderMode",
    "regression-margin": "regressionMargin",
    "alpha": "alpha",
}
T = TypeVar("T")


def publish_results(service: WebhookService, project_id: str | None, run_id: str) -> None:
    """Comment on the run's pull request (when there is one) and set its commit status.

    ``project_id`` None means the run's own ``projectId`` (our server's runs carry it; hosted
    Scorecard's do not, so the standalone service passes it)."""
    run = service.scorecard.get_run(run_id)
    project_id = project_id or run.get("projectId")
    git = GitContext.from_wire(run.get("git"))
    connection = _connection_for(service, project_id, run_id, git)
    if connection is None:
        return
    try:
        github = service.github(connection)
    except GitHubNotConfigured as exc:
        log.warning("run %s: %s", run_id, exc.message)
        return
    repo_name, sha = git.repo, git.sha
    repo = github.get_repo(repo_name)  # lazy, as the service's client is: no request yet
    pull = _attempt(f"find the pull request of {repo_name}@{sha[:7]}", "pull-requests: read", _find_pull, repo, git)
    policy, policy_problem = _policy(connection, project_id)
    run, metrics, records = service.scorecard.report_data(run_id)
    baseline = service.scorecard.baseline_run(run, pull.base.ref) if pull is not None else None
    context = report_context(
        run,
        metrics,
        records,
        policy,
        run.get("testsetId"),
        baseline=(baseline, service.scorecard.report_data(baseline["id"])[2]) if baseline is not None else None,
        run_url=service.run_url(project_id, run_id),
        actions_url=git.actions_run_url,
        commit_sha=sha,
        event=f"pull request #{pull.number}" if pull is not None else None,
    )
    if pull is not None:
        body = render(context, max_chars=GITHUB_COMMENT_LIMIT)
        _attempt(
            f"comment on {repo_name}#{pull.number}",
            "pull-requests: write",
            upsert_sticky_comment,
            github,
            repo_name,
            pull.number,
            context.marker,
            body,
        )
    state, description = commit_status(context, run.get("error"), policy_problem)
    # By testset ID, not name: branch protection may require this context, and names change.
    _attempt(
        f"set the commit status of {repo_name}@{sha[:7]}",
        "statuses: write",
        repo.get_commit(sha).create_status,
        state,
        target_url=context.run_url,
        description=description,
        context=f"scorecard/testset-{run.get('testsetId')}",
    )


def _connection_for(service: WebhookService, project_id: str, run_id: str, git: GitContext) -> GitHubConnection | None:
    """The project's connection when the run belongs on its repository; else why not (debug)."""
    if not (git.repo and git.sha):
        log.debug("run %s has no git context (repo and sha): no results to publish on GitHub", run_id)
        return None
    connection = service.scorecard.connection(project_id)
    if connection is None:
        log.debug("project %s has no GitHub connection: not publishing run %s", project_id, run_id)
        return None
    if git.repo.lower() != connection.repo.lower():
        log.info(
            "run %s is from %s but project %s is connected to %s: not publishing it there",
            run_id,
            git.repo,
            project_id,
            connection.repo,
        )
        return None
    return connection


def commit_status(context: ReportContext, run_error: str | None, policy_problem: str | None) -> tuple[str, str]:
    """The state and the (at most 140 characters) description of the run's commit status: the
    same gate as the Action's (thresholds, and regressions on evidence when asked for)."""
    summary, gate = context.summary, context.gate
    rate = f"Pass rate {percent(summary.pass_rate)}" if summary.pass_rate is not None else "No scores"
    if summary.status == RunStatus.ERROR:
        state, description = "error", f"{rate}; the run ended with an error: {run_error or 'see the run'}"
    elif summary.status not in FINISHED:
        state, description = "pending", f"{rate} so far; scoring in progress"
    elif policy_problem:
        state, description = "error", f"{rate}; the connection's gate is invalid: {policy_problem}"
    elif gate is not None and not gate.passed:
        state, description = "failure", f"{rate}; {_missed(gate.failures, gate.regressions)}"
    elif gate is not None and (gate.overall_threshold is not None or gate.thresholds_by_metric):
        state, description = "success", f"{rate}; all thresholds met"
    else:
        state, description = "success", rate
    if len(description) > STATUS_DESCRIPTION_LIMIT:
        description = description[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
    return state, description


def _missed(failures: list[str], regressions: list[str]) -> str:
    missed = len(failures) - len(regressions)
    parts = [f"{missed} threshold{'' if missed == 1 else 's'} not met"] if missed else []
    if regressions:
        parts.append(f"regression in {len(regressions)} metric{'' if len(regressions) == 1 else 's'}")
    return " and ".join(parts)


def _policy(connection: GitHubConnection, project_id: str) -> tuple[GatePolicy, str | None]:
    """The connection's gate, or no gate and the problem when it does not parse (the commit
    status then says so rather than passing silently)."""
    try:
        policy = parse_policy(
            connection.fail_under,
            connection.fail_under_mode,
            connection.fail_on_regression,
            connection.regression_margin,
            connection.alpha,
        )
    except InvalidField as exc:
        # Named as the connection names it: that is what the user edits.
        field = CONNECTION_FIELDS.get(str(exc.details.get("field")), str(exc.details.get("field")))
        problem = f"`{field}` {exc.problem}"
        log.warning(
            "project %s: the GitHub connection's gate is invalid (%s); fix it with PUT /api/v2/projects/%s/github",
            project_id,
            problem,
            project_id,
        )
        return GatePolicy(), problem
    return policy, None


def _find_pull(repo: Repository, git: GitContext) -> PullRequest | None:
    """The run's pull request: by number, else (a fork's, whose workflow run lists none) the
    open pull request whose head is the run's commit."""
    if git.pr_number:
        return repo.get_pull(int(git.pr_number)).complete()
    return next((p for p in repo.get_commit(git.sha).get_pulls() if p.state == "open"), None)


def _attempt(action: str, permission: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """One GitHub step; a refusal is logged (status and GitHub's message, never credentials)
    and the other steps still run."""
    try:
        return call(*args, **kwargs)
    except GithubException as exc:
        message = github_message(exc, "no message")
        if exc.status == 403 and not isinstance(exc, RateLimitExceededException):
            log.warning(
                "GitHub refused to %s (403: %s): give the token or GitHub App the `%s` permission",
                action,
                message,
                permission,
            )
        else:
            log.warning("could not %s: GitHub answered %s: %s", action, exc.status, message)
        return None
