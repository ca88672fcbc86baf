"""Scores: one per record and metric version, in Scorecard's shapes.

``{"binaryScore": bool}``, ``{"intScore": 1-5}`` or ``{"floatScore": 0-1}``, each with an optional
``reasoning``. A score that does not fit its metric's output type is stored anyway, with
``validationErrors``, as Scorecard does (the figures count it as errored). An upsert without a
score leaves the score pending, for a person to grade: only human metrics are graded that way.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from .errors import Conflict, InvalidField, NotFound
from .models import MetricVersion, Record, Run, Score, id_of, utcnow
from .scoring.lifecycle import refresh_run, scored_by
from .scoring.shapes import SCORE_KEYS

PENDING_USER = "background-job"  # who a pending score belongs to, as Scorecard says


def validation_errors(output_type: str, score: dict[str, Any]) -> list[dict[str, str]] | None:
    key = SCORE_KEYS[output_type]
    value = score.get(key)
    errors = []
    if key not in score:
        errors.append({"path": f"/{key}", "message": f"a {output_type} metric's score needs `{key}`"})
    elif output_type == "boolean" and not isinstance(value, bool):
        errors.append({"path": f"/{key}", "message": "must be true or false"})
    elif output_type == "int" and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5):
        errors.append({"path": f"/{key}", "message": "must be an integer from 1 to 5"})
    elif output_type == "float" and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1
    ):
        errors.append({"path": f"/{key}", "message": "must be a number from 0 to 1"})
    if "reasoning" in score and not isinstance(score["reasoning"], str):
        errors.append({"path": "/reasoning", "message": "must be a string"})
    return errors or None


def put_score(
    session: Session, record: Record, metric_version_id: str, score: dict[str, Any] | None, user_id: str | None
) -> Score:
    """Store a score; ``score`` None queues the record for grading by a person (pending)."""
    run = session.get_one(Run, record.run_id)
    version = session.get(MetricVersion, metric_version_id)
    if version is None or metric_version_id not in run.metric_version_ids:
        raise NotFound(
            f"metric config {metric_version_id} is not used by run {run.id}; use one of its metricVersionIds",
            {"field": "metricConfigId"},
        )
    if record.error is not None:
        raise Conflict(
            f"record {record.id}'s system call failed (see its `error`): it already counts as failing for every "
            "metric and takes no score; re-run the testcase to score it",
            {"field": "recordId"},
        )
    who = scored_by(version.config)
    if score is None and who != "human":
        raise InvalidField(
            "score",
            f"is required: metric config {metric_version_id} is scored by {who}, and only "
            'human metrics can be left pending; send the score, e.g. {"binaryScore": true}',
        )
    if score is None and user_id is not None:
        raise InvalidField("userId", "goes only together with `score`; omit it to leave the score pending")
    existing = session.exec(
        select(Score).where(col(Score.record_id) == record.id, col(Score.metric_version_id) == metric_version_id)
    ).first()
    row = existing or Score(
        run_id=id_of(run),
        record_id=id_of(record),
        metric_version_id=metric_version_id,
        scored_by=who,
    )
    row.score = score
    row.user_id = user_id or (PENDING_USER if score is None else "api")
    row.status = "pending" if score is None else "scored"
    row.error = None
    row.validation_errors = None if score is None else validation_errors(version.config["output_type"], score)
    row.lease_until = None
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    refresh_run(session, run)
    return row
