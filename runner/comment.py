"""The sticky PR comment: one per pull request and testset, found by a hidden marker and the
bot's own login, edited in place on every push."""

from __future__ import annotations

import os

from github import Auth, Github, GithubException
from github.IssueComment import IssueComment
from github.Repository import Repository

from scorecard_core.github_errors import github_message

from . import workflow
from .config import RunnerConfig

DEFAULT_GITHUB_API_URL = "https://api.github.com"


def connect(token: str, api_url: str | None = None) -> Github:
    base_url = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_GITHUB_API_URL).rstrip("/")
    return Github(base_url=base_url, auth=Auth.Token(token), retry=3, seconds_between_requests=0.25, lazy=True)


def own_login(github: Github) -> str | None:
    """Who we are: a personal token can ask; an Actions or App installation token cannot
    (403), and then only comments by a bot are ours."""
    try:
        return github.get_user().login
    except GithubException:
        return None


def find_sticky(repo: Repository, number: int, marker: str, login: str | None) -> IssueComment | None:
    for comment in repo.get_issue(number).get_comments():  # PyGithub follows every page
        ours = comment.user.login == login if login else comment.user.type == "Bot"
        if ours and marker in (comment.body or ""):
            return comment
    return None


def upsert_sticky_comment(github: Github, repo_name: str, number: int, marker: str, body: str) -> IssueComment:
    """Edit our comment carrying ``marker`` or create it. Looking first means a retried run
    never leaves two comments. ``github`` is lazy (the Action's and the webhook service's
    clients are): objects are fetched only when read."""
    repo = github.get_repo(repo_name)
    existing = find_sticky(repo, number, marker, own_login(github))
    if existing is not None:
        existing.edit(body)
        return existing
    return repo.get_issue(number).create_comment(body)


def post_pr_comment(config: RunnerConfig, body: str, marker: str) -> None:
    git = config.git
    if git.fork:
        workflow.notice(
            "Pull request from a fork: its token cannot write comments, so the results are in the job "
            "summary only. A maintainer can comment `/scorecard run` to evaluate it with secrets."
        )
        return
    if not config.github_token:
        workflow.notice("No `github-token` input: skipping the PR comment (pass `github-token: ${{ github.token }}`).")
        return
    if not (git.repo and git.pr_number):
        return  # not a pull request's run: nothing to comment on
    try:
        comment = upsert_sticky_comment(connect(config.github_token), git.repo, git.pr_number, marker, body)
    except GithubException as exc:
        if exc.status == 403:
            workflow.error(
                "Cannot comment on the pull request (403): give the job `permissions: pull-requests: "
                "write`, or set `comment: false`."
            )
        else:
            workflow.error(f"Could not write the PR comment: GitHub answered {exc.status}: {github_message(exc)}")
        return
    print(f"PR comment: {comment.html_url}")
