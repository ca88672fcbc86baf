"""The Records page's table, shared by the page and its CSV export: one row per record across a
project's runs, with each project metric's score as the record's run scored it.

Runs keep the metric versions they were scored with, so a metric's column reads, for each record,
the score of its run's version of that metric (none when the run did not use the metric).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .export import csv_text, safe_cell
from .metrics import passes
from .models import Metric, MetricVersion, Record, Run, Score, id_of
from .records_search import RecordQuery, search_records
from .scoring.shapes import SCORE_KEYS

RECORDS_PER_QUERY = 500


def project_metrics(session: Session, project_id: int) -> list[Metric]:
    return list(session.exec(select(Metric).where(col(Metric.project_id) == project_id).order_by(col(Metric.id))))


def run_version_ids(run: Run) -> dict[int, str]:
    """The run's metric version per metric ID."""
    return dict(zip(run.metric_ids, run.metric_version_ids))


def scores_per_metric(run: Run, scores: list[Score], metrics: list[Metric]) -> list[Score | None]:
    """One score (or None) per metric, in the order of ``metrics``."""
    by_version = {s.metric_version_id: s for s in scores}
    versions = run_version_ids(run)
    return [by_version.get(versions.get(id_of(m), "")) for m in metrics]


def score_state(score: Score | None, config: dict | None) -> str:
    """pass | fail | scored (a score without a threshold) | pending | error | "" (not scored)."""
    if score is None:
        return ""
    if score.status == "error" or score.validation_errors:
        return "error"
    if score.status != "scored":
        return "pending"
    verdict = passes(config["output_type"], config.get("passing_threshold"), score.score) if config else None
    return "scored" if verdict is None else ("pass" if verdict else "fail")


def _score_value(score: Score | None, config: dict | None) -> str:
    if score is None or score.status != "scored" or not config:
        return ""
    body = score.score or {}
    value = body.get(SCORE_KEYS.get(config["output_type"], ""), "")
    return safe_cell(value) if value != "" else ""


def rows(session: Session, project_id: int, query: RecordQuery) -> Iterator[list[str]]:
    """The CSV's header and a row per record the query matches, newest first."""
    metrics = project_metrics(session, project_id)
    header = ["recordId", "runId", "testcaseId", "source", "createdAt", "inputs", "expected", "outputs", "error"]
    for metric in metrics:
        header += [f"{metric.name} result", f"{metric.name} score", f"{metric.name} reasoning"]
    yield [safe_cell(h) for h in header]
    configs: dict[str, dict] = {}
    cursor = None
    while True:
        page = search_records(session, project_id, query, RECORDS_PER_QUERY, cursor)
        wanted = {v for r in page.run_of.values() for v in r.metric_version_ids} - configs.keys()
        if wanted:
            found = session.exec(select(MetricVersion).where(col(MetricVersion.id).in_(wanted)))
            configs.update({v.id: v.config for v in found})
        for record in page.records:
            yield _row(
                record, page.run_of[id_of(record)], page.scores_by_record.get(id_of(record), []), metrics, configs
            )
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _row(record: Record, run: Run, scores: list[Score], metrics: list[Metric], configs: dict[str, dict]) -> list[str]:
    row = [
        str(record.id),
        str(record.run_id),
        str(record.testcase_id or ""),
        safe_cell(run.source),
        record.created_at.isoformat(),
        safe_cell(record.inputs),
        safe_cell(record.expected),
        safe_cell(record.outputs),
        safe_cell(record.error or ""),
    ]
    versions = run_version_ids(run)
    for metric, score in zip(metrics, scores_per_metric(run, scores, metrics)):
        config = configs.get(versions.get(id_of(metric), ""))
        reasoning = (score.score or {}).get("reasoning", "") if score is not None else ""
        error = score.error or "" if score is not None else ""
        row += [score_state(score, config), _score_value(score, config), safe_cell(error or reasoning)]
    return row


def stream_csv(engine: Engine, project_id: int, query: RecordQuery) -> Iterator[str]:
    """The CSV text in chunks, for a streamed response; the stream owns its session (it outlives
    the request that started it)."""
    with Session(engine) as session:
        yield from csv_text(rows(session, project_id, query))
