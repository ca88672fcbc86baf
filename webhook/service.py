"""Everything the webhook service's handlers share, built once per app: where Scorecard is,
how to reach GitHub (the settings), and the background jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from github import Github

from scorecard_core import links
from scorecard_core.jobs import Jobs
from scorecard_core.models import GitHubConnection
from scorecard_core.polling import Backoff
from scorecard_core.settings import Settings

from .github_client import github_for
from .scorecard import Scorecard

if TYPE_CHECKING:
    from .events import Event

EXTENSION = "scorecard.webhook"
# Looking for a run's scores when Scorecard does not report them (hosted): bounded, backing off.
SCORING_CHECKS = Backoff(first=2.0, longest=60.0, give_up_after=30 * 60.0)


@dataclass
class WebhookService:
    scorecard: Scorecard
    settings: Settings
    jobs: Jobs
    scoring_checks: Backoff = SCORING_CHECKS
    # Set where deliveries are processed by workers on a queue rather than by ``jobs``; raises
    # RuntimeError when it cannot take one (GitHub redelivers it).
    deliver_elsewhere: Callable[[Event], None] | None = None

    def github(self, connection: GitHubConnection) -> Github:
        return github_for(connection, self.settings)

    def run_url(self, project_id: str, run_id: str) -> str:
        """The run's page (hosted runs carry no projectId, so it is passed in)."""
        return links.run_url(self.settings.public_url, project_id, run_id)


def current_service() -> WebhookService:
    return current_app.extensions[EXTENSION]
