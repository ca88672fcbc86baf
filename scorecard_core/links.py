"""Where Scorecard lives and how its run links are shaped, written once.

Hosted Scorecard serves its API at ``api2.scorecard.io`` and its pages at ``app.scorecard.io``;
our server serves the API under ``/api/v2`` and the pages at its root. Every run link anyone
shows (the Action's summary, PR comments, the CLI) is ``{app}/projects/{p}/runs/{r}``.
"""

from __future__ import annotations

HOSTED_API_URL = "https://api2.scorecard.io/api/v2"
HOSTED_APP_URL = "https://app.scorecard.io"
API_PREFIX = "/api/v2"


def app_url_of(api_url: str) -> str:
    """Where the runs of the API at ``api_url`` are shown."""
    if api_url.startswith(HOSTED_API_URL.removesuffix(API_PREFIX)):
        return HOSTED_APP_URL
    return api_url.rstrip("/").removesuffix(API_PREFIX)


def run_url(app_url: str, project_id: object, run_id: object) -> str:
    """The page of run ``run_id`` of project ``project_id`` on the app at ``app_url``."""
    return f"{app_url.rstrip('/')}/projects/{project_id}/runs/{run_id}"
