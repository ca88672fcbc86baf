"""``scorecard github connect``: a project's GitHub connection, with the API's rules."""

from __future__ import annotations

import os
from pathlib import Path

import click

from scorecard_core.errors import BadRequest, ScorecardError
from scorecard_core.ids import MAX_ID

from .base import database_option, session_for


@click.group(name="github")
def github_group() -> None:
    """Connect projects to their GitHub repositories."""


# Which option sets each field of the connection, to name it in errors.
CONNECT_OPTIONS = {
    "repo": "--repo",
    "branch": "--branch",
    "workflow": "--workflow",
    "dispatch": "--dispatch",
    "eventType": "--event-type",
    "testsetId": "--testset",
    "metricIds": "--metrics",
    "systemVersionId": "--system-version",
    "failUnder": "--fail-under",
    "failUnderMode": "--fail-under-mode",
    "regressionMargin": "--regression-margin",
    "alpha": "--alpha",
    "token": "--token-env",
    "appId": "--app-id",
    "installationId": "--installation-id",
    "privateKey": "--private-key-file",
}


def _read_private_key(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise BadRequest(f"--private-key-file: {path} is not a PEM private key (it is not text)") from None


@github_group.command("connect")
@click.option(
    "--project", "project_id", type=click.IntRange(1, MAX_ID), required=True, help="The project's numeric ID."
)
@click.option("--repo", required=True, help="The repository, `owner/name`.")
# String options left out take the connection's defaults (the API's), named in their help.
@click.option("--branch", help="The branch kickoffs run the workflow on.  [default: main]")
@click.option("--workflow", help="The workflow file under .github/workflows.  [default: scorecard-eval.yml]")
@click.option(
    "--dispatch",
    type=click.Choice(["workflow_dispatch", "repository_dispatch"]),
    help="How runs are started.  [default: workflow_dispatch]",
)
@click.option("--event-type", help="The repository_dispatch event type.  [default: start-evaluation]")
@click.option(
    "--on-kickoff/--no-on-kickoff",
    default=True,
    show_default=True,
    help="Start runs from Scorecard's Kickoff Run -> GitHub.",
)
@click.option(
    "--on-pull-request/--no-on-pull-request",
    default=False,
    show_default=True,
    help="Evaluate pull requests (needs --testset and --metrics).",
)
@click.option(
    "--on-merge/--no-on-merge",
    default=False,
    show_default=True,
    help="Evaluate merges to the branch (needs --testset and --metrics).",
)
@click.option("--testset", "testset_id", default=None, help="Testset for pull-request and merge evaluations.")
@click.option("--metrics", default="", help="Comma-separated metric IDs for them, e.g. `12,34`.")
@click.option("--system-version", "system_version_id", default=None, help="System version for them.")
@click.option("--fail-under", default="", help="Commit status thresholds, e.g. `0.8, Exact answer=0.9`.")
@click.option(
    "--fail-under-mode",
    type=click.Choice(["point", "lower-bound"]),
    default=None,
    help="Compare thresholds with the pass rate or its 95% lower bound.  [default: point]",
)
@click.option(
    "--fail-on-regression/--no-fail-on-regression",
    default=False,
    help="Fail the commit status when a metric regressed against the base branch's latest run on evidence.",
)
@click.option("--regression-margin", default=None, help="Drops tolerated before a regression, e.g. `2pp, 0.25`.")
@click.option("--alpha", default=None, type=float, help="Significance level of the comparison.  [default: 0.01]")
@click.option(
    "--token-env",
    metavar="VAR",
    default=None,
    help="Authenticate with the GitHub token in this environment variable (the token itself never "
    "goes on the command line).",
)
@click.option("--app-id", default=None, help="Authenticate as this GitHub App (with --private-key-file).")
@click.option(
    "--private-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The GitHub App's private key (PEM).",
)
@click.option(
    "--installation-id",
    type=int,
    default=None,
    help="The App's installation ID (default: looked up from the repository).",
)
@database_option
def github_connect(
    project_id: int,
    repo: str,
    branch: str | None,
    workflow: str | None,
    dispatch: str | None,
    event_type: str | None,
    on_kickoff: bool,
    on_pull_request: bool,
    on_merge: bool,
    testset_id: str | None,
    metrics: str,
    system_version_id: str | None,
    fail_under: str,
    fail_under_mode: str | None,
    fail_on_regression: bool,
    regression_margin: str | None,
    alpha: float | None,
    token_env: str | None,
    app_id: str | None,
    private_key_file: Path | None,
    installation_id: int | None,
    database_url: str | None,
) -> None:
    """Connect a project to its repository (replaces any connection it has); secrets are never printed."""
    from scorecard_core.bodies import validate
    from scorecard_core.connections import ConnectionUpsert, save_connection, wire

    if token_env and (app_id or private_key_file):
        raise BadRequest("give either --token-env or --app-id with --private-key-file, not both")
    token = os.environ.get(token_env, "").strip() if token_env else None
    if token_env and not token:
        raise BadRequest(f"--token-env: the environment variable {token_env} is not set or empty")
    values = {
        "repo": repo,
        "branch": branch,
        "workflow": workflow,
        "dispatch": dispatch,
        "eventType": event_type,
        "onKickoff": on_kickoff,
        "onPullRequest": on_pull_request,
        "onMerge": on_merge,
        "testsetId": testset_id,
        "metricIds": [m for m in metrics.replace(" ", ",").split(",") if m],
        "systemVersionId": system_version_id,
        "failUnder": fail_under,
        "failUnderMode": fail_under_mode,
        "failOnRegression": fail_on_regression,
        "regressionMargin": regression_margin,
        "alpha": alpha,
        "auth": "token" if token_env else "app" if app_id or private_key_file else "default",
        "token": token,
        "appId": app_id,
        "installationId": installation_id,
        "privateKey": _read_private_key(private_key_file) if private_key_file else None,
    }
    try:
        body = validate(ConnectionUpsert, {k: v for k, v in values.items() if v is not None})
        with session_for(database_url) as session:
            connection = wire(save_connection(session, project_id, body))
    except ScorecardError as exc:
        field = str(exc.details.get("field", "")).split(".")[0]
        if field in CONNECT_OPTIONS:
            exc.message = f"{exc.message} (set by {CONNECT_OPTIONS[field]})"
        raise
    click.echo(f"connected project {connection['projectId']} to {connection['repo']}")
    for name, value in connection.items():
        if name not in ("projectId", "repo") and value not in (None, "", []):
            click.echo(f"  {name}: {', '.join(value) if isinstance(value, list) else value}")
