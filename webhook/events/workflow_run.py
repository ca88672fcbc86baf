"""Finished Actions runs: link each to the Scorecard run it was filling, and settle runs whose
workflow died before uploading anything, so the pull request says what happened instead of
waiting forever.

A run is the Actions run's when its git context names that Actions run (``actionsRunUrl``, set
by a workflow_dispatch kickoff or by the Action itself), or, for dispatches that learn nothing
about the run they start (repository_dispatch), when it names the same commit, is not linked to
another Actions run yet, and the finished workflow is the connection's."""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from scorecard_core import wire
from scorecard_core.db import session_scope
from scorecard_core.models import GitHubConnection, Run

from ..results import publish_results
from ..scorecard import LocalScorecard, RemoteScorecard
from ..service import WebhookService
from .connections import connections_for
from .routing import Event, router, run_each

log = logging.getLogger(__name__)

DIED = ("failure", "cancelled", "timed_out")
FINISHED = ("completed", "error")
# How far back a standalone service looks among a project's runs for the one an Actions run filled.
RECENT_RUNS = 100
# Waiting for a hosted run's scores after its workflow succeeded: bounded, backing off.
POLL_FIRST_DELAY = 2.0
POLL_MAX_DELAY = 60.0
POLL_TIMEOUT = 30 * 60.0


class ScoringTimedOut(Exception):
    """A hosted run was still scoring when the wait for it ended."""


@router.register("workflow_run", "completed")
def settle_workflow_run(event: Event) -> None:
    actions_run = event.payload["workflow_run"]
    connections = {c.project_id: c for c in connections_for(event.engine, event.repo)}
    if not connections:
        return
    workflow_path = actions_run.get("path") or (event.payload.get("workflow") or {}).get("path") or ""
    runs = [
        (project_id, run)
        for project_id, run in candidates(event.service, event.repo, actions_run, connections)
        if fills(run, actions_run, connections[project_id], workflow_path)
    ]
    run_each((f"run {r['id']}", lambda p=p, r=r: settle(event.service, p, r, actions_run)) for p, r in runs)


def candidates(
    service: WebhookService, repo: str, actions_run: dict[str, Any], connections: dict[int, GitHubConnection]
) -> list[tuple[int, dict[str, Any]]]:
    """(project ID, run) pairs that may be the Actions run's; ``fills`` decides."""
    scorecard = service.scorecard
    if isinstance(scorecard, LocalScorecard):
        found = {r["id"]: r for r in runs_naming(scorecard, repo, actions_run["id"])}
        found.update({r["id"]: r for r in scorecard.runs_for_sha(repo, actions_run["head_sha"])})
        return [(int(r["projectId"]), r) for r in found.values() if int(r["projectId"]) in connections]
    if isinstance(scorecard, RemoteScorecard):
        # No search by git context over the v2 API: look through each project's latest runs.
        return [
            (project_id, run)
            for project_id in connections
            for run in itertools.islice(scorecard.client.paginate(f"/projects/{project_id}/runs"), RECENT_RUNS)
        ]
    return []


def runs_naming(scorecard: LocalScorecard, repo: str, actions_run_id: int) -> list[dict[str, Any]]:
    git = Run.__table__.c.git
    statement = select(Run).where(
        func.lower(git["repo"].as_string()) == repo.lower(),
        git["actionsRunUrl"].as_string().like(f"%/actions/runs/{actions_run_id}"),
    )
    with session_scope(scorecard.engine) as session:
        return [wire.run(r) for r in session.exec(statement)]


def fills(run: dict[str, Any], actions_run: dict[str, Any], connection: GitHubConnection, workflow_path: str) -> bool:
    git = run.get("git") or {}
    linked = git.get("actionsRunUrl")
    if linked:
        return str(linked).rstrip("/").endswith(f"/actions/runs/{actions_run['id']}")
    return (
        git.get("sha") == actions_run["head_sha"]
        and run.get("status") not in FINISHED
        and workflow_path.rsplit("/", 1)[-1] == connection.workflow
    )


def settle(service: WebhookService, project_id: int, run: dict[str, Any], actions_run: dict[str, Any]) -> None:
    scorecard, run_id, url = service.scorecard, str(run["id"]), actions_run["html_url"]
    if (run.get("git") or {}).get("actionsRunUrl") != url:
        scorecard.update_git(run_id, {"actionsRunUrl": url})
    conclusion = actions_run.get("conclusion")
    if conclusion in DIED and not run.get("numRecords") and run.get("status") not in FINISHED:
        ended_here = scorecard.fail_run(
            run_id, f"The GitHub Actions workflow run ended `{conclusion}` before uploading any records: {url}"
        )
        if ended_here:
            publish_results(service, str(project_id), run_id)
    elif conclusion == "success" and isinstance(scorecard, RemoteScorecard):
        # Hosted Scorecard tells nobody when scoring ends: wait for it here, then report.
        wait_until_finished(scorecard, run_id)
        publish_results(service, str(project_id), run_id)


def wait_until_finished(scorecard: RemoteScorecard, run_id: str, timeout: float = POLL_TIMEOUT) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    delay = POLL_FIRST_DELAY
    while True:
        run = scorecard.get_run(run_id)
        if run.get("status") in FINISHED:
            return run
        if time.monotonic() + delay > deadline:
            raise ScoringTimedOut(
                f"run {run_id} is still `{run.get('status')}` after {timeout / 60:.0f} minutes; "
                "its results were not posted (redeliver the workflow_run webhook to try again)"
            )
        time.sleep(delay)
        delay = min(delay * 2, POLL_MAX_DELAY)
