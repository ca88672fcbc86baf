"""A project's metrics and metric groups: the list, a metric's page (settings, versions with what
changed, the runs that used it), and the forms that create and edit them.

The forms go through the API's own bodies and domain functions (``server/api/metrics.py``), so a
form accepts and refuses exactly what ``POST /metrics`` and ``PATCH /metrics/{id}`` do. A refused
form is shown again with what was typed and the message naming the field.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from pydantic.alias_generators import to_camel
from sqlmodel import col, select

from scorecard_core import metric_history
from scorecard_core.bodies import validate
from scorecard_core.errors import InvalidField, ScorecardError
from scorecard_core.metrics import VERSIONED_FIELDS
from scorecard_core.models import Metric, MetricGroup, Project, id_of
from scorecard_core.storable import storable_text

from .. import database
from ..api import metrics as api
from ..api.projects import load_project
from .loading import load_child

bp = Blueprint("metrics", __name__, url_prefix="/projects/<project_id>")

RUNS_SHOWN = 50
TEXT_FIELDS = ("description", "guidelines", "promptTemplate", "evalModelName")
NUMBER_FIELDS = ("temperature", "passingThreshold")
# The form's labels for the body fields an error names.
LABELS = {
    "name": "Name",
    "description": "Description",
    "evalType": "Type",
    "outputType": "Output",
    "guidelines": "Guidelines",
    "promptTemplate": "Prompt template",
    "evalModelName": "Judge model",
    "temperature": "Temperature",
    "passingThreshold": "Passing threshold",
    "heuristic": "Heuristic config",
    "judgeCache": "Judge cache",
    "metricIds": "Members",
}
# A version's config fields (snake_case) by the same labels.
CONFIG_LABELS = {name: LABELS[to_camel(name)] for name in (*VERSIONED_FIELDS, "judge_cache")}
NEW_METRIC = {"name": "", "evalType": "ai", "outputType": "boolean", "judgeCache": True}


def _load_metric(project: Project, metric_id: str) -> Metric:
    return load_child(Metric, metric_id, "metric", "project_id", project, "project")


def _load_group(project: Project, group_id: str) -> MetricGroup:
    return load_child(MetricGroup, group_id, "metric group", "project_id", project, "project")


def _project_metrics(project: Project) -> list[Metric]:
    statement = select(Metric).where(col(Metric.project_id) == project.id).order_by(col(Metric.id))
    return list(database.session().exec(statement))


# ---- forms: what was typed, as the API's body ----


def posted_values() -> dict[str, Any]:
    """The metric form as typed (kept to show again if refused), text made storable as the API does."""
    values: dict[str, Any] = {
        name: storable_text(request.form.get(name, "").replace("\r\n", "\n"))
        for name in ("name", "evalType", "outputType", "heuristic", *TEXT_FIELDS, *NUMBER_FIELDS)
    }
    values["judgeCache"] = "judgeCache" in request.form
    return values


def metric_values(metric: Metric) -> dict[str, Any]:
    """The edit form filled with the metric's settings."""
    threshold = metric.passing_threshold
    return {
        "name": metric.name,
        "description": metric.description or "",
        "evalType": metric.eval_type,
        "outputType": metric.output_type,
        "guidelines": metric.guidelines,
        "promptTemplate": metric.prompt_template or "",
        "evalModelName": metric.eval_model_name or "",
        "temperature": "" if metric.temperature is None else f"{metric.temperature:g}",
        "passingThreshold": "" if threshold is None else f"{threshold:g}",
        "heuristic": "" if metric.heuristic is None else json.dumps(metric.heuristic, indent=2),
        "judgeCache": metric.judge_cache,
    }


def _number(text: str) -> Any:
    """A typed number; text that is not one goes to the body as text, whose check names the field."""
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as the JSON body the API takes: empty optional fields are null."""
    payload: dict[str, Any] = {name: values[name] for name in ("name", "evalType", "outputType", "judgeCache")}
    for name in TEXT_FIELDS:
        payload[name] = values[name] or None
    for name in NUMBER_FIELDS:
        text = values[name].strip()
        payload[name] = _number(text) if text else None
    heuristic = values["heuristic"].strip()
    try:
        payload["heuristic"] = json.loads(heuristic) if heuristic else None
    except ValueError as exc:
        raise InvalidField("heuristic", f"is not valid JSON ({exc}); enter a JSON object or leave it empty") from None
    return payload


def _problem(exc: ScorecardError) -> tuple[str, str | None]:
    """The refusal as the page says it, naming the form's field, and that field's body name."""
    field = exc.details.get("field")
    top = field.split(".")[0] if isinstance(field, str) else None  # heuristic.outputField: the config box
    if isinstance(exc, InvalidField) and field in LABELS:
        message = f"{LABELS[field]} {exc.problem}."
    elif isinstance(exc, InvalidField) and top in LABELS:
        message = f"{LABELS[top]}: `{field.removeprefix(top + '.')}` {exc.problem}."
    else:
        message = exc.message.rstrip(".") + "."
    return f"{message} Nothing was saved; correct it and save again.", top


# ---- the list and the metric's page ----


@bp.get("/metrics")
def metrics(project_id: str):
    return _list_page(load_project(project_id))


def _list_page(project: Project, status: int = 200, **refused: Any):
    session = database.session()
    listed = _project_metrics(project)
    ids = [id_of(m) for m in listed]
    groups = session.exec(
        select(MetricGroup).where(col(MetricGroup.project_id) == project.id).order_by(col(MetricGroup.id))
    ).all()
    context = {
        "project": project,
        "metrics": listed,
        "names": {m.id: m.name for m in listed},
        "versions": metric_history.current_versions(session, listed),
        "last_used": metric_history.last_used(session, id_of(project), ids),
        "groups": groups,
        "new_values": NEW_METRIC,
        "labels": LABELS,
        **refused,
    }
    return render_template("ui/metrics.html", **context), status


@bp.get("/metrics/<metric_id>")
def metric(project_id: str, metric_id: str):
    project = load_project(project_id)
    metric = _load_metric(project, metric_id)
    return _metric_page(project, metric)


def _metric_page(project: Project, metric: Metric, status: int = 200, **refused: Any):
    session = database.session()
    versions = metric_history.metric_versions(session, metric)
    context = {
        "project": project,
        "metric": metric,
        "versions": metric_history.version_views(metric, versions),
        "used": metric_history.runs_using(session, metric, versions, RUNS_SHOWN),
        "values": refused.pop("values", None) or metric_values(metric),
        "labels": LABELS,
        "config_labels": CONFIG_LABELS,
        **refused,
    }
    return render_template("ui/metric.html", **context), status


# ---- metric forms ----


@bp.post("/metrics")
def create_metric(project_id: str):
    project = load_project(project_id)
    values = posted_values()
    try:
        metric = api.new_metric(id_of(project), validate(api.MetricCreate, _payload(values)))
        database.session().commit()
    except ScorecardError as exc:
        database.session().rollback()
        problem, field = _problem(exc)
        return _list_page(project, 400, problem=problem, invalid=field, new_values=values, new_open=True)
    flash(f"Metric “{metric.name}” created. Its first version is taken when a run first uses it.", "ok")
    return redirect(url_for("ui.metrics.metric", project_id=project.id, metric_id=metric.id))


@bp.post("/metrics/<metric_id>")
def edit_metric(project_id: str, metric_id: str):
    project = load_project(project_id)
    metric = _load_metric(project, metric_id)
    values = posted_values()
    try:
        api.change_metric(metric, validate(api.MetricUpdate, _payload(values)))
        database.session().commit()
    except ScorecardError as exc:
        database.session().rollback()  # the metric goes back to its stored settings
        problem, field = _problem(exc)
        return _metric_page(project, metric, 400, problem=problem, invalid=field, values=values, edit_open=True)
    flash(_saved_message(metric), "ok")
    return redirect(url_for("ui.metrics.metric", project_id=project.id, metric_id=metric.id))


def _saved_message(metric: Metric) -> str:
    versions = metric_history.metric_versions(database.session(), metric)
    latest = metric_history.version_views(metric, versions)[0]
    if latest.version is None:
        return (
            f"Saved. These settings become version {latest.number} when the next run or re-score uses "
            "this metric; runs already scored keep the version they used."
        )
    return f"Saved. These settings are version {latest.number}, which runs have used before."


# ---- metric groups ----


def _group_values() -> dict[str, Any]:
    return {
        "name": storable_text(request.form.get("name", "")),
        "description": storable_text(request.form.get("description", "").replace("\r\n", "\n")),
        "metricIds": request.form.getlist("metricIds"),
    }


def _group_refused(project: Project, exc: ScorecardError, values: dict[str, Any], group_id: int | str | None):
    database.session().rollback()
    problem, field = _problem(exc)
    return _list_page(project, 400, problem=problem, invalid=field, group_values=values, group_open=group_id)


@bp.post("/metric-groups")
def create_group(project_id: str):
    project = load_project(project_id)
    values = _group_values()
    try:
        group = api.new_group(id_of(project), validate(api.MetricGroupCreate, values))
        database.session().commit()
    except ScorecardError as exc:
        return _group_refused(project, exc, values, "new")
    flash(f"Metric group “{group.name}” created with {len(group.metric_ids)} metric(s).", "ok")
    return redirect(url_for("ui.metrics.metrics", project_id=project.id, _anchor="groups"))


@bp.post("/metric-groups/<group_id>")
def edit_group(project_id: str, group_id: str):
    project = load_project(project_id)
    group = _load_group(project, group_id)
    values = _group_values()
    try:
        api.change_group(group, validate(api.MetricGroupUpdate, values))
        database.session().commit()
    except ScorecardError as exc:
        return _group_refused(project, exc, values, group.id)
    flash(f"Metric group “{group.name}” saved with {len(group.metric_ids)} metric(s).", "ok")
    return redirect(url_for("ui.metrics.metrics", project_id=project.id, _anchor="groups"))


@bp.post("/metric-groups/<group_id>/delete")
def delete_group(project_id: str, group_id: str):
    project = load_project(project_id)
    group = _load_group(project, group_id)
    session = database.session()
    session.delete(group)
    session.commit()
    flash(f"Metric group “{group.name}” deleted; its metrics are unchanged.", "ok")
    return redirect(url_for("ui.metrics.metrics", project_id=project.id, _anchor="groups"))
