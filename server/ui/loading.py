"""Loading what a UI URL or form names: a missing or mismatched page is a 404, a form's stale or
forged choice a message saying what to pick."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import select

from scorecard_core.errors import BadRequest, NotFound
from scorecard_core.ids import parse_id
from scorecard_core.models import Metric, Project, Record, Run

from .. import database
from ..api.parsing import path_id
from ..api.projects import load_project

T = TypeVar("T")


def load_child(model: type[T], raw_id: str, noun: str, parent_field: str, parent: Any, parent_noun: str) -> T:
    """The row a URL names, when it belongs to ``parent`` (whose ``parent_noun`` it names in the
    404); another parent's row is as missing as an unknown one."""
    row = database.session().get(model, path_id(raw_id, noun))
    if row is None or getattr(row, parent_field) != parent.id:
        raise NotFound(f"{noun[0].upper()}{noun[1:]} {raw_id} was not found in {parent_noun} {parent.id}.")
    return row


def load_run(project_id: str, run_id: str) -> tuple[Project, Run]:
    project = load_project(project_id)
    return project, load_child(Run, run_id, "run", "project_id", project, "project")


def load_record(run: Run, record_id: str) -> Record:
    return load_child(Record, record_id, "record", "run_id", run, "run")


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
