"""Runs: create, list (newest first), retrieve, our PATCH for notes / ending execution, and
cancelling a run the server executes itself."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, current_app, g, request
from pydantic import Field
from sqlmodel import select

from scorecard_core import runs as run_logic
from scorecard_core import wire
from scorecard_core.errors import InvalidField
from scorecard_core.models import Run

from .. import database, executions, scoring
from .parsing import Body, NumericId, id_arg, paginate, parse, path_id
from .projects import load_project

bp = Blueprint("runs", __name__)


class GitContextBody(Body):
    """The JSON of a run's git context (``scorecard_core.git.GitContext.wire()``), checked."""

    repo: str | None = None
    ref: str | None = None
    sha: str | None = None
    pr_number: int | None = None
    actions_run_url: str | None = None


class RunCreate(Body):
    metric_ids: list[NumericId]
    testset_id: NumericId | None = None
    system_version_id: str | None = None
    source: Literal[run_logic.SOURCES] = "api"  # type: ignore[valid-type]
    notes: str = Field(default="", max_length=100_000)
    git: GitContextBody | None = None


class RunUpdate(Body):
    notes: str | None = Field(default=None, max_length=100_000)
    status: str | None = None
    git: GitContextBody | None = None


def load_run(run_id: str) -> Run:
    return run_logic.get_run(database.session(), path_id(run_id, "run"))


@bp.post("/projects/<project_id>/runs")
def create_run(project_id: str):
    project = load_project(project_id)
    body = parse(RunCreate)
    session = database.session()
    run = run_logic.create_run(
        session,
        project.id,
        body.metric_ids,
        testset_id=body.testset_id,
        system_version_id=body.system_version_id,
        source=body.source,
        notes=body.notes,
        git=body.git.model_dump(by_alias=True, exclude_none=True) if body.git else None,
    )
    session.commit()
    return wire.run(run), 201


@bp.get("/projects/<project_id>/runs")
def list_runs(project_id: str):
    """Newest first; our filters ``testsetId``, ``gitRef``, ``status`` (comma-separated) and
    ``source`` find e.g. the base branch's latest finished run of a testset, or monitors' runs."""
    project = load_project(project_id)
    statement = select(Run).where(Run.project_id == project.id)
    testset_id = id_arg("testsetId")
    if testset_id is not None:
        statement = statement.where(Run.testset_id == testset_id)
    git_ref = request.args.get("gitRef")
    if git_ref:
        statement = statement.where(Run.__table__.c.git["ref"].as_string() == git_ref)
    statuses = [s for s in request.args.get("status", "").split(",") if s]
    if statuses:
        unknown = sorted(set(statuses) - set(run_logic.STATUSES))
        if unknown:
            raise InvalidField("status", f"has unknown statuses {unknown}; use any of {', '.join(run_logic.STATUSES)}")
        statement = statement.where(Run.status.in_(statuses))
    source = request.args.get("source")
    if source:
        if source not in run_logic.SOURCES:
            raise InvalidField("source", f"must be one of {', '.join(run_logic.SOURCES)}")
        statement = statement.where(Run.source == source)
    return paginate(database.session(), statement, Run.id, lambda rows: [wire.run(r) for r in rows], newest_first=True)


@bp.get("/runs/<run_id>")
def get_run(run_id: str):
    return wire.run(load_run(run_id))


@bp.patch("/runs/<run_id>")
def update_run(run_id: str):
    run = load_run(run_id)
    body = parse(RunUpdate)
    session = database.session()
    git = body.git.model_dump(by_alias=True, exclude_none=True) if body.git else None
    run_logic.update_run(session, run, notes=body.notes, status=body.status, git=git)
    session.commit()
    scoring.stored(session)
    return wire.run(run)


@bp.post("/runs/<run_id>/cancel")
def cancel_run(run_id: str):
    """Stop a server-executed run's calls and end its execution: what was recorded is scored."""
    run = load_run(run_id)
    session = database.session()
    run = executions.cancel_run(executions.executions_of(current_app), session, run, g.user_id)
    session.commit()
    scoring.stored(session)
    return wire.run(run)
