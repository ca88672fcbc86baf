"""Finished Actions runs: link each to the Scorecard run it was filling, and settle runs whose
workflow died before uploading anything, so the pull request says what happened instead of
waiting forever. Where Scorecard does not report a run when its scoring ends (hosted), a run
whose workflow succeeded is looked at until it has finished, then reported.

A run is the Actions run's when its git context names that Actions run (``actionsRunUrl``, set
by a workflow_dispatch kickoff or by the Action itself), or, for dispatches that learn nothing
about the run they start (repository_dispatch), when it names the same commit, is not linked to
another Actions run yet, and the finished workflow is the connection's."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from scorecard_core.errors import ScorecardError
from scorecard_core.models import GitHubConnection
from scorecard_core.run_status import FINISHED

from ..results import publish_results
from ..service import WebhookService
from .connections import connections_for
from .rechecks import Later, run_each_later
from .routing import Event, router

# The Actions run's conclusions that mean its workflow died.
DIED = ("failure", "cancelled", "timed_out")


class ScoringTimedOut(ScorecardError):
    """A hosted run was still scoring when the wait for it ended."""


@router.register("workflow_run", "completed")
def settle_workflow_run(event: Event) -> Later | None:
    actions_run = event.payload["workflow_run"]
    connections = {str(c.project_id): c for c in connections_for(event.engine, event.repo)}
    if not connections:
        return None
    workflow_path = actions_run.get("path") or (event.payload.get("workflow") or {}).get("path") or ""
    service = event.service
    runs = [
        (project_id, run)
        for project_id, run in service.scorecard.runs_for_actions_run(event.repo, actions_run, connections)
        if fills(run, actions_run, connections[project_id], workflow_path)
    ]
    return run_each_later(
        ((f"run {r['id']}", partial(settle, service, p, r, actions_run)) for p, r in runs), service.scoring_checks
    )


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


def settle(
    service: WebhookService, project_id: str, run: dict[str, Any], actions_run: dict[str, Any]
) -> ScoresWait | None:
    """Link the run to the Actions run and end it if its workflow died; a wait for its scores
    when they are ours to report."""
    scorecard, run_id, url = service.scorecard, str(run["id"]), actions_run["html_url"]
    if (run.get("git") or {}).get("actionsRunUrl") != url:
        scorecard.update_git(run_id, {"actionsRunUrl": url})
    conclusion = actions_run.get("conclusion")
    if conclusion in DIED and not run.get("numRecords") and run.get("status") not in FINISHED:
        ended_here = scorecard.fail_run(
            run_id, f"The GitHub Actions workflow run ended `{conclusion}` before uploading any records: {url}"
        )
        if ended_here:
            publish_results(service, project_id, run_id)
    elif conclusion == "success" and not scorecard.reports_when_scored:
        return ScoresWait(service, project_id, run_id)
    return None


@dataclass
class ScoresWait:
    """A run whose workflow succeeded on a Scorecard that tells nobody when scoring ends: its
    results are published once it has finished."""

    service: WebhookService
    project_id: str
    run_id: str
    status: str | None = None  # as last seen

    @property
    def name(self) -> str:
        return f"run {self.run_id}"

    def look(self) -> bool:
        self.status = self.service.scorecard.get_run(self.run_id).get("status")
        if self.status not in FINISHED:
            return False
        publish_results(self.service, self.project_id, self.run_id)
        return True

    def timed_out(self, timeout: float) -> ScoringTimedOut:
        return ScoringTimedOut(
            f"run {self.run_id} is still `{self.status}` after {timeout / 60:.0f} minutes; "
            "its results were not posted (redeliver the workflow_run webhook to try again)"
        )
