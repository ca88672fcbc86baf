"""Loading what a UI URL or form names: a missing or mismatched page is a 404, a form's stale or
forged choice a message saying what to pick."""

from __future__ import annotations

from sqlmodel import select

from scorecard_core.errors import BadRequest, NotFound
from scorecard_core.ids import parse_id
from scorecard_core.models import Metric, Project, Record, Run

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


def picked_metrics(project: Project, picked: list[str], purpose: str) -> list[Metric]:
    """The project's metrics ticked in a form (``metric_id`` checkboxes), to ``purpose`` with."""
    if not picked:
        raise BadRequest(f"Choose at least one metric to {purpose}.", {"field": "metric_id"})
    ids = [parse_id(p) for p in picked]  # bounded, so the database never sees an overflow
    if None in ids:
        raise BadRequest("Choose metrics from the list; reload the page if it is out of date.", {"field": "metric_id"})
    statement = select(Metric).where(Metric.id.in_(ids), Metric.project_id == project.id)
    found = {m.id: m for m in database.session().exec(statement)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise BadRequest(
            f"Metric {', '.join(missing)} no longer exists in this project; reload the page.", {"field": "metric_id"}
        )
    return [found[i] for i in dict.fromkeys(ids)]
