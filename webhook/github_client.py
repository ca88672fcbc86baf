"""PyGithub clients for a project's GitHub connection: a GitHub App installation or a token,
against github.com, GitHub Enterprise or a test fake (``SCORECARD_GITHUB_API_URL``).

GitHub API economy: PyGithub retries 403/429 rate limits honouring Retry-After and
x-ratelimit-reset, and we keep at least one second between writes."""

from __future__ import annotations

from dataclasses import dataclass

from github import Auth, Github, GithubIntegration, GithubRetry

from scorecard_core.errors import ScorecardError
from scorecard_core.models import GitHubConnection
from scorecard_core.settings import Settings


class GitHubNotConfigured(ScorecardError):
    code = "GITHUB_NOT_CONFIGURED"


@dataclass(frozen=True)
class Credentials:
    api_url: str
    token: str | None = None
    app_id: str | None = None
    private_key: str | None = None
    installation_id: int | None = None


def credentials_for(
    connection: GitHubConnection,
    api_url: str,
    default_token: str | None,
    default_app_id: str | None,
    default_private_key: str | None,
) -> Credentials:
    if connection.auth == "token":
        return Credentials(api_url, token=connection.token)
    if connection.auth == "app":
        return Credentials(
            api_url,
            app_id=connection.app_id,
            private_key=connection.private_key,
            installation_id=connection.installation_id,
        )
    if default_app_id and default_private_key:
        return Credentials(
            api_url, app_id=default_app_id, private_key=default_private_key, installation_id=connection.installation_id
        )
    return Credentials(api_url, token=default_token)


def connect(credentials: Credentials, repo: str, seconds_between_writes: float) -> Github:
    """A client for ``repo``: an App authenticates as the repository's installation."""
    retry = GithubRetry(total=3)
    if credentials.app_id and credentials.private_key:
        app_auth = Auth.AppAuth(int(credentials.app_id), credentials.private_key)
        installation_id = credentials.installation_id
        if installation_id is None:
            integration = GithubIntegration(base_url=credentials.api_url, auth=app_auth)
            owner, name = repo.split("/", 1)
            installation_id = integration.get_repo_installation(owner, name).id
        auth: Auth.Auth = app_auth.get_installation_auth(installation_id)
    elif credentials.token:
        auth = Auth.Token(credentials.token)
    else:
        raise GitHubNotConfigured(
            f"no GitHub credentials for {repo}: connect the project with a token or a GitHub App "
            "(`scorecard github connect`), or set SCORECARD_GITHUB_TOKEN"
        )
    return Github(
        base_url=credentials.api_url,
        auth=auth,
        retry=retry,
        seconds_between_requests=0,
        seconds_between_writes=seconds_between_writes,
        lazy=True,
    )


def github_for(connection: GitHubConnection, settings: Settings) -> Github:
    """A client for the connection's repository, with the service's own credentials as fallback."""
    credentials = credentials_for(
        connection,
        settings.github_api_url,
        settings.github_token,
        settings.github_app_id,
        settings.github_app_private_key,
    )
    return connect(credentials, connection.repo, settings.github_seconds_between_writes)
