"""Everything the webhook service's handlers share, built once per app: where Scorecard is,
how to reach GitHub, the background jobs, and the public URL for run links."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from github import Github

from scorecard_core.jobs import Jobs
from scorecard_core.models import GitHubConnection
from scorecard_core.settings import Settings

from .github_client import SECONDS_BETWEEN_WRITES, github_for
from .scorecard import Scorecard

EXTENSION = "scorecard.webhook"


@dataclass
class WebhookService:
    scorecard: Scorecard
    settings: Settings
    jobs: Jobs
    public_url: str
    seconds_between_writes: float = SECONDS_BETWEEN_WRITES

    def github(self, connection: GitHubConnection) -> Github:
        return github_for(connection, self.settings, self.seconds_between_writes)

    def run_url(self, project_id: str, run_id: str) -> str:
        """Scorecard's link shape (hosted runs carry no projectId, so it is passed in)."""
        return f"{self.public_url.rstrip('/')}/projects/{project_id}/runs/{run_id}"


def current_service() -> WebhookService:
    return current_app.extensions[EXTENSION]
