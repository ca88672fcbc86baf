"""A project's GitHub connection over HTTP (our extension; the schema and rules are
``scorecard_core.connections``). Kickoffs start a run through it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import Field

from scorecard_core import connections
from scorecard_core.connections import ConnectionUpsert
from scorecard_core.errors import Conflict, NotFound
from scorecard_core.models import GitHubConnection
from webhook.dispatch import kickoff
from webhook.service import current_service

from .. import database
from .parsing import Body, NumericId, parse
from .projects import load_project

bp = Blueprint("github", __name__)


def find_connection(project_id: int) -> GitHubConnection | None:
    return connections.find_connection(database.session(), project_id)


def load_connection(project_id: int) -> GitHubConnection:
    connection = find_connection(project_id)
    if connection is None:
        raise NotFound(
            f"project {project_id} has no GitHub connection; create one with PUT /projects/{project_id}/github "
            "or `scorecard github connect`",
            {"resource": "github connection"},
        )
    return connection


@bp.put("/projects/<project_id>/github")
def upsert_connection(project_id: str):
    project = load_project(project_id)
    body = parse(ConnectionUpsert)
    session = database.session()
    connection = connections.save_connection(session, project.id, body)
    session.commit()
    return connections.wire(connection)


@bp.get("/projects/<project_id>/github")
def get_connection(project_id: str):
    return connections.wire(load_connection(load_project(project_id).id))


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
