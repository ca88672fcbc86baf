"""The figures of ``report`` read from our own database: summaries, comparisons, history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from .comparison import DEFAULT_ALPHA, NO_MARGIN, Margins, compare_summaries
from .models import Record, Run, Score, id_of
from .report import (
    MetricSummary,
    RunSummary,
    history_point,
    metric_summary,
    score_status,
    summarize_rows,
    unit_of,
)
from .scoring.lifecycle import run_versions

ROWS_PER_FETCH = 2000


def summarize(session: Session, run: Run) -> RunSummary:
    metrics = [metric_summary(str(v.metric_id), v.id, v.config) for v in run_versions(session, run)]
    # SQLAlchemy's own select: sqlmodel's is typed for at most four columns.
    scores = session.execute(
        sa.select(
            col(Record.testcase_id),
            col(Score.record_id),
            col(Score.metric_version_id),
            col(Score.status),
            col(Score.score),
            col(Score.validation_errors),
        )
        .join(Record, col(Record.id) == col(Score.record_id))
        .where(col(Score.run_id) == run.id)
        # Streamed: an ORM query would otherwise hold every row (100k records x metrics) at once.
        .execution_options(yield_per=ROWS_PER_FETCH)
    )
    rows = (
        (unit_of(testcase_id, record_id), version_id, score_status(status, problems), score)
        for testcase_id, record_id, version_id, status, score, problems in scores
    )
    crashed = session.exec(
        select(col(Record.testcase_id), col(Record.id)).where(
            col(Record.run_id) == run.id, col(Record.error).is_not(None)
        )
    )
    failed_units = [unit_of(testcase_id, record_id) for testcase_id, record_id in crashed]
    return summarize_rows(str(run.id), run.status, run.num_records, metrics, rows, failed_units, run.error)


def figures(session: Session, run: Run) -> RunSummary:
    """The run's figures as kept with it (``scoring.figures``): the same counts, pass rates and
    averages as ``summarize`` without reading a score, but no per-testcase tallies, so no
    intervals. A run counted before the figures were kept is summarized from its scores."""
    detail = run.status_detail or {}
    kept = detail.get("metrics", [])
    if any("passed" not in m for m in kept):
        return summarize(session, run)
    if not detail:  # never counted: records may be arriving, but nothing is scored yet
        metrics = [metric_summary(str(v.metric_id), v.id, v.config) for v in run_versions(session, run)]
        return RunSummary(str(run.id), run.status, run.num_records, metrics, 0, run.error)
    failed_calls = detail["records"]["errored"]
    return RunSummary(
        str(run.id),
        run.status,
        run.num_records,
        [_kept_summary(m, failed_calls) for m in kept],
        failed_calls,
        run.error,
    )


def _kept_summary(kept: dict[str, Any], failed_calls: int) -> MetricSummary:
    summary = metric_summary(
        kept["metricId"],
        kept["metricVersionId"],
        {
            "name": kept["name"],
            "eval_type": kept["evalType"],
            "output_type": kept["outputType"],
            "passing_threshold": kept["passingThreshold"],
        },
    )
    summary.scored = kept["scored"] - kept["misfits"]
    summary.pending = kept["pending"]
    summary.errored = kept["errored"] + kept["misfits"]
    summary.passed = kept["passed"]
    summary.total = kept["valueTotal"]
    summary.failed_calls = failed_calls
    return summary


def compare(
    session: Session, run: Run, baseline: Run, alpha: float = DEFAULT_ALPHA, margins: Margins = NO_MARGIN
) -> dict[str, Any]:
    return compare_summaries(summarize(session, run), summarize(session, baseline), alpha, margins)


def history(session: Session, runs: Iterable[Run], metric_ids: set[int] | None) -> list[dict[str, Any]]:
    """Per metric, one point per run (oldest first): pass rate for boolean metrics, average for
    int and float metrics; from the figures kept with each run, so no score is read."""
    series: dict[str, dict[str, Any]] = {}
    for run in sorted(runs, key=id_of):
        for summary in figures(session, run).metrics:
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
