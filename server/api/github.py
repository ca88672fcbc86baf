"""A project's GitHub connection (our extension): which repository and workflow to dispatch,
which triggers are on, and how to authenticate. Secrets go in and never come out. Kickoffs start
a run through it."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint
from pydantic import Field
from sqlmodel import Session, select

from scorecard_core.errors import Conflict, InvalidField, NotFound
from scorecard_core.gate import parse_fail_under
from scorecard_core.ids import MAX_ID
from scorecard_core.models import GitHubConnection, Project, utcnow
from scorecard_core.runs import load_metrics
from webhook.dispatch import kickoff
from webhook.service import current_service

from .. import database
from .parsing import Body, NumericId, parse
from .projects import load_project

bp = Blueprint("github", __name__)

REPO_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"


class ConnectionUpsert(Body):
    repo: str = Field(pattern=REPO_PATTERN, max_length=200)
    branch: str = Field(default="main", min_length=1, max_length=250)
    workflow: str = Field(default="scorecard-eval.yml", min_length=1, max_length=250)
    event_type: str = Field(default="start-evaluation", min_length=1, max_length=100)
    dispatch: Literal["workflow_dispatch", "repository_dispatch"] = "workflow_dispatch"
    on_kickoff: bool = True
    on_pull_request: bool = False
    on_merge: bool = False
    testset_id: NumericId | None = None
    metric_ids: list[NumericId] = []
    system_version_id: str | None = None
    fail_under: str = ""
    auth: Literal["default", "token", "app"] = "default"
    token: str | None = Field(default=None, min_length=1)
    app_id: str | None = Field(default=None, pattern=r"^\d+$")
    # GitHub's installation IDs, like ours, fit a 64-bit key column.
    installation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    private_key: str | None = Field(default=None, min_length=1)


def wire(connection: GitHubConnection) -> dict[str, Any]:
    return {
        "projectId": str(connection.project_id),
        "repo": connection.repo,
        "branch": connection.branch,
        "workflow": connection.workflow,
        "eventType": connection.event_type,
        "dispatch": connection.dispatch,
        "onKickoff": connection.on_kickoff,
        "onPullRequest": connection.on_pull_request,
        "onMerge": connection.on_merge,
        "testsetId": str(connection.testset_id) if connection.testset_id else None,
        "metricIds": [str(i) for i in connection.metric_ids or []],
        "systemVersionId": connection.system_version_id,
        "failUnder": connection.fail_under,
        "auth": connection.auth,
        "appId": connection.app_id,
        "installationId": connection.installation_id,
        "hasToken": bool(connection.token),
        "hasPrivateKey": bool(connection.private_key),
    }


def find_connection(project_id: int, session: Session | None = None) -> GitHubConnection | None:
    return (
        (session or database.session())
        .exec(select(GitHubConnection).where(GitHubConnection.project_id == project_id))
        .first()
    )


def load_connection(project_id: int) -> GitHubConnection:
    connection = find_connection(project_id)
    if connection is None:
        raise NotFound(
            f"project {project_id} has no GitHub connection; create one with PUT /projects/{project_id}/github "
            "or `scorecard github connect`",
            {"resource": "github connection"},
        )
    return connection


def save_connection(session: Session, project_id: int, body: ConnectionUpsert) -> GitHubConnection:
    """Create or replace the project's connection (the API's PUT and `scorecard github connect`)."""
    if session.get(Project, project_id) is None:
        raise NotFound.of("project", project_id)
    connection = find_connection(project_id, session) or GitHubConnection(
        project_id=project_id, repo=body.repo, metric_ids=[]
    )
    values = body.model_dump(exclude={"token", "private_key"})
    values["metric_ids"] = [m.id for m in load_metrics(session, project_id, body.metric_ids)]
    for name, value in values.items():
        setattr(connection, name, value)
    # Secrets are replaced only when given, so a client that never saw them can edit the rest.
    if body.token is not None:
        connection.token = body.token
    if body.private_key is not None:
        connection.private_key = body.private_key
    if connection.auth == "token" and not connection.token:
        raise InvalidField("token", "is required when `auth` is `token`")
    if connection.auth == "app" and not (connection.app_id and connection.private_key):
        raise InvalidField("appId", "and `privateKey` are required when `auth` is `app`")
    try:
        parse_fail_under(connection.fail_under)
    except InvalidField as exc:  # the same rules as the Action's `fail-under` input
        raise InvalidField("failUnder", exc.problem) from None
    if (connection.on_pull_request or connection.on_merge) and not (connection.testset_id and connection.metric_ids):
        raise InvalidField("testsetId", "and `metricIds` are required for pull-request and merge triggers")
    connection.updated_at = utcnow()
    session.add(connection)
    session.flush()
    return connection


@bp.put("/projects/<project_id>/github")
def upsert_connection(project_id: str):
    project = load_project(project_id)
    body = parse(ConnectionUpsert)
    session = database.session()
    connection = save_connection(session, project.id, body)
    session.commit()
    return wire(connection)


@bp.get("/projects/<project_id>/github")
def get_connection(project_id: str):
    return wire(load_connection(load_project(project_id).id))


@bp.delete("/projects/<project_id>/github")
def delete_connection(project_id: str):
    connection = load_connection(load_project(project_id).id)
    session = database.session()
    session.delete(connection)
    session.commit()
    return {"success": True}


class KickoffCreate(Body):
    testset_id: NumericId
    metric_ids: list[NumericId] = Field(min_length=1)
    system_version_id: str | None = Field(default=None, min_length=1, max_length=100)
    ref: str | None = Field(default=None, min_length=1, max_length=250)


@bp.post("/projects/<project_id>/kickoffs")
def create_kickoff(project_id: str):
    """Kickoff Run -> GitHub: a run (source `kickoff`) that the connected workflow fills.

    GitHub refusing the dispatch answers 422 GITHUB_DISPATCH_REJECTED (502 GITHUB_UNAVAILABLE when
    unreachable) with GitHub's status and reason; the run is kept, marked `error`."""
    project = load_project(project_id)
    body = parse(KickoffCreate)
    connection = kickoff_connection(project.id)
    run = start_kickoff(
        connection,
        testset_id=body.testset_id,
        metric_ids=body.metric_ids,
        system_version_id=body.system_version_id,
        ref=body.ref,
    )
    return run, 201


def kickoff_connection(project_id: int) -> GitHubConnection:
    """The connection a kickoff dispatches through (the API's and the UI's): none is a 404, one with
    kickoffs off a 409."""
    connection = load_connection(project_id)
    if not connection.on_kickoff:
        raise Conflict(
            f"kickoffs are off for project {project_id}'s GitHub connection; turn them on with "
            f'PUT /projects/{project_id}/github {{"onKickoff": true, ...}} or `scorecard github connect --on-kickoff`',
        )
    return connection


def start_kickoff(
    connection: GitHubConnection,
    *,
    testset_id: str | int,
    metric_ids: list[str] | list[int],
    system_version_id: str | None,
    ref: str | None,
) -> dict[str, Any]:
    """Create the run and dispatch the workflow; the run's wire JSON (see ``webhook.dispatch.kickoff``)."""
    # The run is created on its own session: end the request's so it holds no connection while GitHub answers.
    database.session().close()
    return kickoff(
        current_service(),
        connection,
        testset_id=testset_id,
        metric_ids=metric_ids,
        system_version_id=system_version_id,
        ref=ref,
    )
