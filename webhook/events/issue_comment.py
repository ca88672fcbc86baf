"""``/scorecard run`` on a pull request: a maintainer starts an evaluation, typically of a fork's
pull request, whose own workflow gets no secrets. The workflow runs in the base repository with
its secrets, so only collaborators who may push there (write, maintain or admin) can start it."""

from __future__ import annotations

import logging

from github import GithubException
from github.Repository import Repository

from scorecard_core.git import GitContext

from .connections import connections_for
from .pull_request import evaluate_all, is_from_fork
from .routing import Event, StepsFailed, router

log = logging.getLogger(__name__)

COMMAND = "/scorecard run"
# GitHub's ``permission`` field folds the maintain role into write; both are listed for clarity.
MAY_RUN = ("admin", "maintain", "write")


def is_command(body: str | None) -> bool:
    lines = (body or "").strip().splitlines()
    return bool(lines) and lines[0].strip() == COMMAND


def permission_of(repo: Repository, login: str) -> str:
    try:
        return repo.get_collaborator_permission(login)
    except GithubException as exc:
        if exc.status == 404:  # GitHub does not know the user (deleted, or a bot)
            return "none"
        raise


def refusal(login: str, repo: str, permission: str) -> str:
    return (
        f"@{login} only collaborators with write access to {repo} (write, maintain or admin) can start an "
        f"evaluation with `{COMMAND}`: it runs the repository's workflow with its secrets. Your permission "
        f"here is `{permission}`; ask a maintainer to comment `{COMMAND}`."
    )


@router.register("issue_comment", "created")
def run_on_command(event: Event) -> None:
    issue, comment = event.payload["issue"], event.payload["comment"]
    if "pull_request" not in issue or not is_command(comment.get("body")):
        return
    connections = [c for c in connections_for(event.engine, event.repo) if c.testset_id and c.metric_ids]
    if not connections:
        log.info("%s on %s, which no project evaluates", COMMAND, event.repo)
        return
    # The service's client is lazy: these objects cost no request until used.
    repo = event.service.github(connections[0]).get_repo(event.repo)
    issue_api = repo.get_issue(issue["number"])
    login = comment["user"]["login"]
    permission = permission_of(repo, login)
    if permission not in MAY_RUN:
        issue_api.create_comment(refusal(login, event.repo, permission))
        return

    command = issue_api.get_comment(comment["id"])
    command.create_reaction("+1")  # seen and allowed; the rocket follows once dispatched
    pull = repo.get_pull(issue["number"]).raw_data
    head = pull["head"]
    git = GitContext(repo=event.repo, ref=head["ref"], sha=head["sha"], pr_number=pull["number"])
    # A fork's branch is not in this repository: dispatch on the base branch, which checks out the
    # pull request's head from the git context.
    ref = pull["base"]["ref"] if is_from_fork(pull) else head["ref"]
    try:
        evaluate_all(event, connections, ref, git)
    except StepsFailed as exc:
        issue_api.create_comment(f"@{login} the evaluation could not start: {exc}")
        raise
    command.create_reaction("rocket")
