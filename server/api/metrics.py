"""Metrics and metric groups.

Editing a metric never changes runs that already used it: runs score with metric versions,
immutable snapshots taken when the run is created.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import Field, WithJsonSchema, field_validator
from sqlmodel import select

from scorecard_core import wire
from scorecard_core.metrics import apply_rules
from scorecard_core.models import Metric, MetricGroup, id_of, utcnow
from scorecard_core.runs import load_metrics

from .. import database
from .parsing import Body, NumericId, assign_given, get_or_404, paginate, parse
from .projects import load_project

bp = Blueprint("metrics", __name__)


class MetricFields(Body):
    eval_type: Literal["ai", "heuristic", "human"]
    output_type: Literal["boolean", "int", "float"]
    description: str | None = None
    guidelines: str | None = None
    prompt_template: str | None = None
    eval_model_name: str | None = None
    temperature: float | None = None
    passing_threshold: float | None = None
    heuristic: dict[str, Any] | None = None
    # Our extension: reuse the judge's stored answers at temperature 0 (see judge_cache.py).
    judge_cache: bool = True


class MetricCreate(MetricFields):
    name: str


class MetricUpdate(MetricFields):
    # Leaving `name` out keeps it; null would erase a column that must hold one.
    name: Annotated[str | None, WithJsonSchema({"type": "string"})] = Field(
        default=None,
        json_schema_extra=lambda schema: schema.pop("default"),  # absent, never null
    )

    @field_validator("name")
    @classmethod
    def _name_is_not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("must be a string; leave `name` out to keep the current name")
        return value


class MetricGroupCreate(Body):
    name: str
    description: str = ""
    metric_ids: list[NumericId] = []


class MetricGroupUpdate(Body):
    name: str | None = None
    description: str | None = None
    metric_ids: list[NumericId] | None = None


def load_metric(metric_id: str) -> Metric:
    return get_or_404(Metric, metric_id, "metric")


def _apply(metric: Metric, body: MetricFields) -> None:
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "guidelines" and value is None:
            value = ""
        setattr(metric, name, value)
    apply_rules(metric)


def new_metric(project_id: int, body: MetricCreate) -> Metric:
    """A metric as ``body`` describes it, checked and added to the session (the UI's form too)."""
    metric = Metric(project_id=project_id, name=body.name, eval_type=body.eval_type, output_type=body.output_type)
    _apply(metric, body)
    database.session().add(metric)
    return metric


def change_metric(metric: Metric, body: MetricUpdate) -> None:
    """Apply an edit; runs keep their versions, and the next run or re-score snapshots the new config."""
    _apply(metric, body)
    metric.updated_at = utcnow()
    database.session().add(metric)


@bp.post("/projects/<project_id>/metrics")
def create_metric(project_id: str):
    project = load_project(project_id)
    metric = new_metric(id_of(project), parse(MetricCreate))
    database.session().commit()
    return wire.metric(metric), 201


@bp.get("/projects/<project_id>/metrics")
def list_metrics(project_id: str):
    project = load_project(project_id)
    statement = select(Metric).where(Metric.project_id == project.id)
    return paginate(database.session(), statement, Metric.id, lambda rows: [wire.metric(m) for m in rows])


@bp.get("/metrics/<metric_id>")
def get_metric(metric_id: str):
    return wire.metric(load_metric(metric_id))


@bp.patch("/metrics/<metric_id>")
def update_metric(metric_id: str):
    metric = load_metric(metric_id)
    change_metric(metric, parse(MetricUpdate))
    database.session().commit()
    return wire.metric(metric)


@bp.delete("/metrics/<metric_id>")
def delete_metric(metric_id: str):
    metric = load_metric(metric_id)
    session = database.session()
    session.delete(metric)
    session.commit()
    return {"success": True}


def load_group(group_id: str) -> MetricGroup:
    return get_or_404(MetricGroup, group_id, "metric group")


def new_group(project_id: int, body: MetricGroupCreate) -> MetricGroup:
    """A group of the project's metrics, added to the session (the UI's form too)."""
    session = database.session()
    metrics = load_metrics(session, project_id, body.metric_ids)
    group = MetricGroup(
        project_id=project_id, name=body.name, description=body.description, metric_ids=[m.id for m in metrics]
    )
    session.add(group)
    return group


def change_group(group: MetricGroup, body: MetricGroupUpdate) -> None:
    session = database.session()
    assign_given(group, body, "name", "description")
    if body.metric_ids is not None:
        group.metric_ids = [m.id for m in load_metrics(session, group.project_id, body.metric_ids)]
    group.updated_at = utcnow()
    session.add(group)


@bp.post("/projects/<project_id>/metric-groups")
def create_metric_group(project_id: str):
    project = load_project(project_id)
    group = new_group(id_of(project), parse(MetricGroupCreate))
    database.session().commit()
    return wire.metric_group(group), 201


@bp.get("/projects/<project_id>/metric-groups")
def list_metric_groups(project_id: str):
    project = load_project(project_id)
    statement = select(MetricGroup).where(MetricGroup.project_id == project.id)
    return paginate(database.session(), statement, MetricGroup.id, lambda rows: [wire.metric_group(g) for g in rows])


@bp.get("/metric-groups/<group_id>")
def get_metric_group(group_id: str):
    return wire.metric_group(load_group(group_id))


@bp.patch("/metric-groups/<group_id>")
def update_metric_group(group_id: str):
    group = load_group(group_id)
    change_group(group, parse(MetricGroupUpdate))
    database.session().commit()
    return wire.metric_group(group)


@bp.delete("/metric-groups/<group_id>")
def delete_metric_group(group_id: str):
    group = load_group(group_id)
    session = database.session()
    session.delete(group)
    session.commit()
    return {"success": True}
