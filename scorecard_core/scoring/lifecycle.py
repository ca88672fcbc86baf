"""A run's scoring lifecycle: pending scores per record and metric, status, re-run scoring.

Scores are rows from the moment a record arrives (``pending``), so the database itself is the
queue: whatever is pending after a crash or restart is simply picked up again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, inspect, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from ..metrics import snapshot
from ..models import MetricVersion, Record, Run, Score, id_of, table_of, utcnow
from ..run_status import EXECUTING, FINISHED, RunStatus
from .figures import metric_figures

# Session.info key: runs this session moved into a finished status (see ``finished_runs``).
_FINISHED_HERE = "scorecard.finished_runs"


def scored_by(config: dict[str, Any]) -> str:
    """Who produces a metric's scores: "ai" (the judge), "heuristic" (built-in checks) or
    "human" (people, or the caller's own code for a heuristic metric without a built-in config;
    those arrive through ``PUT /records/{id}/scores/{metricConfigId}``)."""
    if config["eval_type"] == "heuristic" and not config.get("heuristic"):
        return "human"
    return config["eval_type"]


def run_versions(session: Session, run: Run) -> list[MetricVersion]:
    if not run.metric_version_ids:
        return []
    rows = session.exec(select(MetricVersion).where(col(MetricVersion.id).in_(run.metric_version_ids))).all()
    by_id = {v.id: v for v in rows}
    return [by_id[i] for i in run.metric_version_ids if i in by_id]


def add_pending_scores(
    session: Session, run_id: int, records: Iterable[Record], versions: list[MetricVersion], fresh: bool = False
) -> int:
    """One pending score per (record, metric version); records whose system call failed are not
    scored (they count as record errors instead). ``fresh`` scores skip the judge cache."""
    now = utcnow()
    rows = [
        {
            "run_id": run_id,
            "record_id": record.id,
            "metric_version_id": version.id,
            "scored_by": scored_by(version.config),
            "status": "pending",
            "fresh": fresh,
            "user_id": "background-job",
            "created_at": now,
            "updated_at": now,
        }
        for record in records
        if record.error is None
        for version in versions
    ]
    if rows:
        session.execute(insert(Score), rows)
    return len(rows)


def _judge_cache_hits(session: Session, run_id: int) -> int:
    """The run's scores the judge cache answered (their usage says so)."""
    cached = col(Score.usage)["cached"].as_boolean()
    statement = select(func.count()).where(col(Score.run_id) == run_id, cached.is_(True))
    return session.exec(statement).one()


def _score_counts(session: Session, run_id: int) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"scored": 0, "pending": 0, "errored": 0})
    statement = (
        select(col(Score.metric_version_id), col(Score.status), func.count())
        .where(col(Score.run_id) == run_id)
        .group_by(col(Score.metric_version_id), col(Score.status))
    )
    for version_id, status, count in session.exec(statement):
        bucket = {"scored": "scored", "error": "errored"}.get(status, "pending")
        counts[version_id][bucket] += count
    return counts


def hold_run(session: Session, run: Run) -> str:
    """Lock the run for the rest of the transaction and return its committed status.

    A request and the scoring engine may both see a run's last score land; each would finish
    the run and publish it. Writing the row first makes them take turns on both engines (a row
    lock on PostgreSQL, the write lock on SQLite), so the later one sees the earlier one's
    status and only the first records the finish. A status the caller already changed in this
    session is kept; otherwise the object takes the committed one.
    """
    table = table_of(Run)
    committed = (
        session.connection()
        .execute(update(table).where(table.c.id == run.id).values(updated_at=utcnow()).returning(table.c.status))
        .scalar_one()
    )
    if not inspect(run).attrs.status.history.has_changes():
        set_committed_value(run, "status", committed)
    return committed


def _note_transition(session: Session, run: Run, committed: str) -> bool:
    finished_now = run.status in FINISHED and committed not in FINISHED
    if finished_now:
        session.info.setdefault(_FINISHED_HERE, set()).add(run.id)
    return finished_now


def finished_runs(session: Session) -> list[int]:
    """The runs this session finished (call after committing), each reported once: exactly one
    session sees a given finish, so publishing these publishes every finished run once."""
    return sorted(session.info.pop(_FINISHED_HERE, ()))


def refresh_run(session: Session, run: Run) -> str:
    """Recompute counts, ``statusDetail`` (with each metric's figures, see ``figures``), ``error``
    and the status from the scores; returns the status. Execution must have ended before scoring
    can finish the run."""
    committed = hold_run(session, run)
    counts = _score_counts(session, id_of(run))
    record_errors = session.exec(
        select(func.count()).where(col(Record.run_id) == run.id, col(Record.error).is_not(None))
    ).one()
    metrics: list[dict[str, Any]] = []
    for version in run_versions(session, run):
        tally = counts.get(version.id, {"scored": 0, "pending": 0, "errored": 0})
        metrics.append(
            {
                "metricId": str(version.metric_id),
                "metricVersionId": version.id,
                "name": version.config["name"],
                "evalType": version.config["eval_type"],
                "scoredBy": scored_by(version.config),
                "outputType": version.config["output_type"],
                "passingThreshold": version.config.get("passing_threshold"),
                **tally,
                **metric_figures(session, id_of(run), version),
            }
        )
    run.status_detail = {
        "records": {"created": run.num_records, "expected": run.num_expected_records, "errored": record_errors},
        "metrics": metrics,
        "judgeCacheHits": _judge_cache_hits(session, id_of(run)),
    }
    run.num_scores = sum(m["scored"] for m in metrics)
    run.error = _error_summary(metrics, record_errors)
    if run.status not in EXECUTING:
        run.status = _scoring_status(metrics, run.error is not None)
    run.updated_at = utcnow()
    session.add(run)
    _note_transition(session, run, committed)
    return run.status


def fail_run(session: Session, run: Run, message: str) -> bool:
    """The run cannot finish (e.g. GitHub refused the dispatch, the workflow died before
    uploading): it ends ``error`` with the reason. True when this call finished it."""
    committed = hold_run(session, run)
    run.status = RunStatus.ERROR
    run.error = message
    run.updated_at = utcnow()
    session.add(run)
    return _note_transition(session, run, committed)


def _scoring_status(metrics: list[dict[str, Any]], has_errors: bool) -> RunStatus:
    automatic = [m for m in metrics if m["scoredBy"] != "human"]
    if any(m["pending"] for m in automatic):
        started = any(m["scored"] or m["errored"] for m in automatic)
        return RunStatus.RUNNING_SCORING if started else RunStatus.AWAITING_SCORING
    if any(m["pending"] for m in metrics if m["scoredBy"] == "human"):
        return RunStatus.AWAITING_HUMAN_SCORING
    return RunStatus.ERROR if has_errors else RunStatus.COMPLETED


def _error_summary(metrics: list[dict[str, Any]], record_errors: int) -> str | None:
    parts = [
        f"metric '{m['name']}': {m['errored']} of {m['scored'] + m['pending'] + m['errored']} scores failed"
        for m in metrics
        if m["errored"]
    ]
    if record_errors:
        parts.append(f"{record_errors} record(s) failed during execution")
    return "; ".join(parts) or None


def rescore(session: Session, run: Run, metrics: list, fresh: bool = False) -> None:
    """Score the run's existing records again with the metrics' current versions.

    Automatic scores of those metrics are replaced; completed human scores are kept (moved to the
    new version); metrics new to the run are added. ``metric_ids`` and ``metric_version_ids``
    stay parallel lists. ``fresh`` asks the judge again instead of the judge cache.
    """
    # Rescores of a run take turns (the run's lock), so one never inserts the scores another is
    # replacing; and the run's scores are locked in ID order, the order the scoring engine writes
    # them in, so the two never deadlock.
    hold_run(session, run)
    session.execute(select(col(Score.id)).where(col(Score.run_id) == run.id).order_by(col(Score.id)).with_for_update())
    records = list(session.exec(select(Record).where(col(Record.run_id) == run.id, col(Record.error).is_(None))))
    metric_ids = list(run.metric_ids)
    version_ids = list(run.metric_version_ids)
    for metric in metrics:
        version = snapshot(session, metric)
        if metric.id in metric_ids:
            index = metric_ids.index(metric.id)
            previous = version_ids[index]
            version_ids[index] = version.id
        else:
            metric_ids.append(metric.id)
            version_ids.append(version.id)
            previous = version.id
        replaced = col(Score.run_id) == run.id, col(Score.metric_version_id).in_({previous, version.id})
        if scored_by(version.config) == "human":
            session.execute(
                update(Score).where(*replaced, col(Score.status) == "scored").values(metric_version_id=version.id)
            )
            session.execute(delete(Score).where(*replaced, col(Score.status) != "scored"))
            done = set(
                session.exec(
                    select(col(Score.record_id)).where(
                        col(Score.run_id) == run.id, col(Score.metric_version_id) == version.id
                    )
                ).all()
            )
            add_pending_scores(session, id_of(run), [r for r in records if r.id not in done], [version])
        else:
            session.execute(delete(Score).where(*replaced))
            add_pending_scores(session, id_of(run), records, [version], fresh=fresh)
    run.metric_ids = metric_ids
    run.metric_version_ids = version_ids
    if run.status not in EXECUTING:
        run.status = RunStatus.AWAITING_SCORING
    refresh_run(session, run)
