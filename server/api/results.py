"""What runs produced: re-run scoring, summaries, comparisons, CSV export, run history."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, request
from pydantic import Field
from sqlmodel import select

from scorecard_core import export, report_queries, wire
from scorecard_core.errors import InvalidField
from scorecard_core.gate import parse_alpha, parse_margin
from scorecard_core.ids import MAX_ID, parse_id
from scorecard_core.models import Run
from scorecard_core.runs import get_run, load_metrics
from scorecard_core.scoring.lifecycle import rescore
from scorecard_core.usage import RunUsage, compare_usage
from scorecard_core.usage_queries import usage_of_run

from .. import database, scoring
from ..settings import current_settings
from .parsing import Body, NumericId, id_arg, parse
from .projects import load_project
from .runs import load_run

bp = Blueprint("results", __name__)

MAX_HISTORY_RUNS = 100
T = TypeVar("T")


class Rescore(Body):
    metric_ids: list[NumericId] = Field(min_length=1)
    # Ask the judge again instead of reusing the judge cache's answers (and replace them).
    fresh: bool = False


@bp.post("/runs/<run_id>/rescore")
def rescore_run(run_id: str):
    run = load_run(run_id)
    body = parse(Rescore)
    session = database.session()
    rescore(session, run, load_metrics(session, run.project_id, body.metric_ids), fresh=body.fresh)
    session.commit()
    scoring.stored(session)
    return wire.run(run)


@bp.get("/runs/<run_id>/summary")
def run_summary(run_id: str):
    run = load_run(run_id)
    body = report_queries.summarize(database.session(), run).as_dict(_alpha())
    body["usage"] = _usage(run).as_dict()
    return body


@bp.get("/runs/<run_id>/compare")
def compare_runs(run_id: str):
    run = load_run(run_id)
    baseline_id = id_arg("baselineRunId")
    if baseline_id is None:
        raise InvalidField("baselineRunId", "is required: the numeric ID of the run to compare against")
    baseline = get_run(database.session(), baseline_id)
    margins = _query_value("regressionMargin", parse_margin)
    body = report_queries.compare(database.session(), run, baseline, _alpha(), margins)
    now, then = _usage(run), _usage(baseline)
    body["usage"] = {"run": now.as_dict(), "baseline": then.as_dict(), **compare_usage(now, then)}
    return body


def _usage(run: Run) -> RunUsage:
    return usage_of_run(database.session(), run, current_settings().model_prices)


def _alpha() -> float:
    return _query_value("alpha", parse_alpha)


def _query_value(name: str, parse: Callable[[str | None], T]) -> T:
    """A query parameter through the gate's own parser, its errors naming the parameter."""
    try:
        return parse(request.args.get(name))
    except InvalidField as exc:
        raise InvalidField(name, exc.problem) from None


@bp.get("/runs/<run_id>/export.csv")
def export_run(run_id: str):
    run = load_run(run_id)
    filename = f"run-{run.id}.csv"
    return Response(
        export.stream_csv(database.engine(), run.id),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _id_list(name: str) -> set[int] | None:
    raw = request.args.get(name)
    if not raw:
        return None
    ids = [parse_id(p.strip()) for p in raw.split(",") if p.strip()]
    if None in ids:
        raise InvalidField(name, f"must be comma-separated numeric IDs from 0 to {MAX_ID}, e.g. `12,34`")
    return set(ids)


@bp.get("/projects/<project_id>/history")
def project_history(project_id: str):
    project = load_project(project_id)
    metric_ids = _id_list("metricIds")
    limit = parse_id(request.args.get("limit", "30"))
    if limit is None or not 1 <= limit <= MAX_HISTORY_RUNS:
        raise InvalidField("limit", f"must be an integer from 1 to {MAX_HISTORY_RUNS}")
    statement = select(Run).where(Run.project_id == project.id)
    testset_id = id_arg("testsetId")
    if testset_id is not None:
        statement = statement.where(Run.testset_id == testset_id)
    runs = database.session().exec(statement.order_by(Run.id.desc()).limit(limit)).all()
    return {"metrics": report_queries.history(database.session(), runs, metric_ids)}
