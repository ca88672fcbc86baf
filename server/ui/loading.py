"""Loading what a UI URL names; anything missing or mismatched is a 404 page."""

from __future__ import annotations

from scorecard_core.errors import NotFound
from scorecard_core.models import Project, Record, Run

from .. import database
from ..api.parsing import path_id
from ..api.projects import load_project


def load_run(project_id: str, run_id: str) -> tuple[Project, Run]:
    project = load_project(project_id)
    run = database.session().get(Run, path_id(run_id, "run"))
    if run is None or run.project_id != project.id:
        raise NotFound(f"Run {run_id} was not found in project {project.id}.")
    return project, run


def load_record(run: Run, record_id: str) -> Record:
    record = database.session().get(Record, path_id(record_id, "record"))
    if record is None or record.run_id != run.id:
        raise NotFound(f"Record {record_id} was not found in run {run.id}.")
    return record
