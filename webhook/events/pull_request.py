"""Pull requests: evaluate a pull request's head when it opens or moves, and the base branch
when it merges, for every project connected to the repository with that trigger on.

A fork's pull request is skipped: its workflow would run without secrets. A maintainer starts it
with a ``/scorecard run`` comment instead (``issue_comment``)."""

from __future__ import annotations

import logging
from typing import Any

from scorecard_core.git import GitContext
from scorecard_core.models import GitHubConnection

from ..dispatch import kickoff
from ..service import WebhookService
from .connections import connections_for
from .routing import Event, router, run_each

log = logging.getLogger(__name__)


def evaluate(service: WebhookService, connection: GitHubConnection, ref: str, git: GitContext) -> None:
    """Create a run of the connection's testset and metrics and dispatch its workflow on ``ref``."""
    if not (connection.testset_id and connection.metric_ids):
        log.warning(
            "project %s connects %s without a testset and metrics to evaluate; nothing started",
            connection.project_id,
            connection.repo,
        )
        return
    kickoff(
        service,
        connection,
        testset_id=connection.testset_id,
        metric_ids=connection.metric_ids,
        system_version_id=connection.system_version_id,
        ref=ref,
        git=git,
        source="github",
    )


def evaluate_all(event: Event, connections: list[GitHubConnection], ref: str, git: GitContext) -> None:
    run_each((f"project {c.project_id}", lambda c=c: evaluate(event.service, c, ref, git)) for c in connections)


def is_from_fork(pull: dict[str, Any]) -> bool:
    head_repo = (pull["head"].get("repo") or {}).get("full_name")  # None when the fork was deleted
    return head_repo is None or head_repo.lower() != pull["base"]["repo"]["full_name"].lower()


@router.register("pull_request", "opened", "synchronize", "reopened")
def evaluate_pull_request(event: Event) -> None:
    pull = event.payload["pull_request"]
    if is_from_fork(pull):
        log.info("%s#%s comes from a fork: waiting for a maintainer's /scorecard run", event.repo, pull["number"])
        return
    head = pull["head"]
    git = GitContext(repo=event.repo, ref=head["ref"], sha=head["sha"], pr_number=pull["number"])
    evaluate_all(event, [c for c in connections_for(event.engine, event.repo) if c.on_pull_request], head["ref"], git)


@router.register("pull_request", "closed")
def evaluate_merge(event: Event) -> None:
    pull = event.payload["pull_request"]
    if not pull.get("merged"):
        return
    base = pull["base"]["ref"]
    git = GitContext(repo=event.repo, ref=base, sha=pull.get("merge_commit_sha") or None)
    evaluate_all(event, [c for c in connections_for(event.engine, event.repo) if c.on_merge], base, git)
