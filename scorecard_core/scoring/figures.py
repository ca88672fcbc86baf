"""Per-run, per-metric figures kept with the run (its ``statusDetail``) as scores are written.

``refresh_run`` recomputes them whenever scores land or a run is re-scored, in a few grouped
queries over the run's scores (under the run's lock), so pages that list runs or chart their
history read one row per run instead of every score. The figures follow ``report``'s rules: a
score that does not fit its metric (stored with validation errors: a *misfit*) counts as errored,
and only fitting scores pass or add to the value total.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ..models import MetricVersion, Score
from .shapes import DEFAULT_THRESHOLDS, SCORE_KEYS

# How many distinct error messages a metric's status explanation names.
CAUSES_PER_METRIC = 3


def _has_problems(column: Any) -> Any:
    """Validation errors stored: neither SQL NULL nor JSON null (what an ORM write of None stores)."""
    return sa.and_(column.is_not(None), sa.cast(column, sa.Text) != "null")


def _value(version: MetricVersion) -> Any:
    key = SCORE_KEYS[version.config["output_type"]]
    return col(Score.score)[key].as_float()


def _passing(version: MetricVersion) -> Any:
    config = version.config
    if config["output_type"] == "boolean":
        return col(Score.score)["binaryScore"].as_boolean().is_(True)
    threshold = config.get("passing_threshold")
    return _value(version) >= (threshold if threshold is not None else DEFAULT_THRESHOLDS[config["output_type"]])


def metric_figures(session: Session, run_id: int, version: MetricVersion) -> dict[str, Any]:
    """The fitting scores' passes and value total, the misfits, and the first distinct causes of
    errors of one metric version in one run."""
    misfit = _has_problems(col(Score.validation_errors))
    fitting = sa.not_(misfit)
    boolean = version.config["output_type"] == "boolean"
    value = sa.case((_passing(version), 1.0), else_=0.0) if boolean else sa.func.coalesce(_value(version), 0.0)
    statement = sa.select(
        sa.func.count().filter(misfit),
        sa.func.count().filter(fitting, _passing(version)),
        sa.func.coalesce(sa.func.sum(value).filter(fitting), 0.0),
    ).where(col(Score.run_id) == run_id, col(Score.metric_version_id) == version.id, col(Score.status) == "scored")
    misfits, passed, value_total = session.execute(statement).one()
    return {
        "misfits": misfits,
        "passed": passed,
        "valueTotal": float(value_total),
        "causes": _causes(session, run_id, version, misfits),
    }


def _causes(session: Session, run_id: int, version: MetricVersion, misfits: int) -> list[str]:
    """The first distinct error messages, oldest first; a misfit names how the score misfits."""
    first = sa.func.min(col(Score.id))
    statement = (
        select(col(Score.error), first)
        .where(
            col(Score.run_id) == run_id,
            col(Score.metric_version_id) == version.id,
            col(Score.status) == "error",
            col(Score.error).is_not(None),
        )
        .group_by(col(Score.error))
        .order_by(first)
        .limit(CAUSES_PER_METRIC)
    )
    causes = [str(error) for error, _ in session.exec(statement)]
    if misfits and len(causes) < CAUSES_PER_METRIC:
        problems = session.exec(
            select(col(Score.validation_errors))
            .where(
                col(Score.run_id) == run_id,
                col(Score.metric_version_id) == version.id,
                col(Score.status) == "scored",
                _has_problems(col(Score.validation_errors)),
            )
            .order_by(col(Score.id))
            .limit(1)
        ).first()
        described = "; ".join(f"{p.get('path', '')} {p.get('message', '')}".strip() for p in problems or [])
        causes.append(f"{misfits} score(s) do not fit the metric: {described}")
    return causes
