"""The figures of ``report`` read from our own database: summaries, comparisons, history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from .metrics import passes
from .models import Record, Run, Score, id_of
from .report import (
    RunSummary,
    add_failed_call,
    add_outcome,
    compare_summaries,
    history_point,
    metric_summary,
    score_status,
    summarize_rows,
)
from .scoring.lifecycle import run_versions


def summarize(session: Session, run: Run) -> RunSummary:
    metrics = [metric_summary(str(v.metric_id), v.id, v.config) for v in run_versions(session, run)]
    scores = session.exec(
        select(col(Score.metric_version_id), col(Score.status), col(Score.score), col(Score.validation_errors)).where(
            col(Score.run_id) == run.id
        )
    )
    rows = ((version_id, score_status(status, problems), score) for version_id, status, score, problems in scores)
    failed_calls = session.exec(
        select(func.count()).where(col(Record.run_id) == run.id, col(Record.error).is_not(None))
    ).one()
    return summarize_rows(str(run.id), run.status, run.num_records, metrics, rows, failed_calls, run.error)


def testcase_outcomes(session: Session, run: Run) -> dict[tuple[str, str], bool]:
    """(testcase ID, metric ID) -> passed, for a run's scored records and failed calls."""
    versions = {v.id: v for v in run_versions(session, run)}
    outcomes: dict[tuple[str, str], bool] = {}
    crashed = select(col(Record.testcase_id)).where(
        col(Record.run_id) == run.id, col(Record.error).is_not(None), col(Record.testcase_id).is_not(None)
    )
    for testcase_id in session.exec(crashed):
        add_failed_call(outcomes, str(testcase_id), [str(v.metric_id) for v in versions.values()])
    statement = (
        select(col(Record.testcase_id), col(Score.metric_version_id), col(Score.score), col(Score.validation_errors))
        .join(Score, col(Score.record_id) == col(Record.id))
        .where(col(Record.run_id) == run.id, col(Score.status) == "scored", col(Record.testcase_id).is_not(None))
    )
    for testcase_id, version_id, score, problems in session.exec(statement):
        version = versions.get(version_id)
        if version is None or problems:  # a score that does not fit its metric is an error, not a verdict
            continue
        verdict = passes(version.config["output_type"], version.config.get("passing_threshold"), score)
        if verdict is not None:
            add_outcome(outcomes, str(testcase_id), str(version.metric_id), verdict)
    return outcomes


def compare(session: Session, run: Run, baseline: Run) -> dict[str, Any]:
    return compare_summaries(
        summarize(session, run),
        summarize(session, baseline),
        testcase_outcomes(session, run),
        testcase_outcomes(session, baseline),
    )


def history(session: Session, runs: Iterable[Run], metric_ids: set[int] | None) -> list[dict[str, Any]]:
    """Per metric, one point per run (oldest first): pass rate for boolean metrics, average for
    int and float metrics."""
    series: dict[str, dict[str, Any]] = {}
    for run in sorted(runs, key=id_of):
        for summary in summarize(session, run).metrics:
            if metric_ids is not None and int(summary.metric_id) not in metric_ids:
                continue
            entry = series.setdefault(
                summary.metric_id,
                {
                    "metricId": summary.metric_id,
                    "name": summary.name,
                    "outputType": summary.output_type,
                    "points": [],
                },
            )
            entry["name"] = summary.name
            entry["points"].append(history_point(str(run.id), run.created_at.isoformat(), run.status, summary))
    return list(series.values())
