"""A project's GitHub connection over HTTP (our extension; the schema and rules are
``scorecard_core.connections``), and kickoffs: a run filled by the connected workflow (target
``github``), or executed by this server itself (targets ``scorecard`` and ``endpoint``, see
``server.executions``)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, current_app
from pydantic import Field
from sqlmodel import Session

from scorecard_core import connections, wire
from scorecard_core import runs as run_logic
from scorecard_core.connections import ConnectionUpsert
from scorecard_core.errors import Conflict, InvalidField, NotFound
from scorecard_core.models import GitHubConnection, MetricGroup
from webhook.dispatch import kickoff
from webhook.service import current_service

from .. import database, executions
from ..settings import current_settings
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
    target: Literal["github", "scorecard", "endpoint"] = Field(
        default="github",
        description="`github` dispatches the connected workflow; `scorecard` (a prompt system version) "
        "and `endpoint` (an HTTP endpoint version) are executed by this server",
    )
    testset_id: NumericId
    metric_ids: list[NumericId] | None = Field(default=None, min_length=1)
    metric_group_id: NumericId | None = Field(default=None, description="instead of `metricIds`: the group's metrics")
    system_version_id: str | None = Field(
        default=None, min_length=1, max_length=100, description="required for targets `scorecard` and `endpoint`"
    )
    ref: str | None = Field(default=None, min_length=1, max_length=250, description="target `github` only")
    concurrency: int = Field(default=8, ge=1, le=64, description="calls at once (not for target `github`)")
    trials: int = Field(default=1, ge=1, le=10, description="records per testcase (not for target `github`)")


@bp.post("/projects/<project_id>/kickoffs")
def create_kickoff(project_id: str):
    """Kickoff Run: a run (source `kickoff`) that the connected workflow fills (target `github`),
    or that this server executes in the background (targets `scorecard` and `endpoint`).

    GitHub refusing the dispatch answers 422 GITHUB_DISPATCH_REJECTED (502 GITHUB_UNAVAILABLE when
    unreachable) with GitHub's status and reason; the run is kept, marked `error`."""
    project = load_project(project_id)
    body = parse(KickoffCreate)
    session = database.session()
    metric_ids = kickoff_metric_ids(session, project.id, body)
    if body.target != "github":
        return start_server_run(session, project.id, body, metric_ids), 201
    for server_only in ("concurrency", "trials"):
        if server_only in body.model_fields_set:
            raise InvalidField(server_only, "applies to targets `scorecard` and `endpoint` only")
    connection = kickoff_connection(project.id)
    run = start_kickoff(
        connection,
        testset_id=body.testset_id,
        metric_ids=metric_ids,
        system_version_id=body.system_version_id,
        ref=body.ref,
    )
    return run, 201


def kickoff_metric_ids(session: Session, project_id: int, body: KickoffCreate) -> list[int]:
    """``metricIds``, or the metrics of ``metricGroupId``: exactly one of them."""
    if body.metric_ids is not None and body.metric_group_id is not None:
        raise InvalidField("metricGroupId", "cannot be combined with `metricIds`: name one of them")
    if body.metric_ids is not None:
        return body.metric_ids
    if body.metric_group_id is None:
        raise InvalidField("metricIds", "is required (or name a `metricGroupId`)")
    group = session.get(MetricGroup, body.metric_group_id)
    if group is None or group.project_id != project_id:
        raise NotFound.of("metric group", body.metric_group_id, field="metricGroupId")
    return [int(m) for m in group.metric_ids]


def start_server_run(
    session: Session, project_id: int, body: KickoffCreate, metric_ids: list[int], source: str = "kickoff"
) -> dict[str, Any]:
    """Check the system version, create the run, and start executing it; nothing is created when
    the version cannot run. ``source``: `playground` for the playground's Kickoff Run."""
    if body.ref is not None:
        raise InvalidField("ref", "applies to target `github` only")
    if body.system_version_id is None:
        raise InvalidField("systemVersionId", f"is required for target `{body.target}`")
    executions.check_version(
        session,
        project_id,
        body.system_version_id,
        body.target,
        allow_link_local=current_settings().endpoint_allow_link_local,
    )
    run = run_logic.create_run(
        session,
        project_id,
        metric_ids,
        testset_id=body.testset_id,
        system_version_id=body.system_version_id,
        source=source,
    )
    run.num_expected_records = (run.num_expected_records or 0) * body.trials  # one record per testcase and trial
    session.commit()
    assert run.id is not None
    executions.executions_of(current_app).start(run.id, body.concurrency)
    return wire.run(run)


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
