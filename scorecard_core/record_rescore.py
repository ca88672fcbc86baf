"""Re-scoring chosen records (from any runs of a project) with the metrics' latest versions.

A run holds one version per metric, so records are grouped by run. Where a run already uses a
metric's latest version, only the chosen records are scored again. Where the metric changed since
the run was scored, the whole run moves to the new version (``lifecycle.rescore``), because a
run whose records were scored by two versions of one metric would mix two questions in one
figure; the outcome says which runs that happened to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from .metrics import snapshot
from .models import Metric, MetricVersion, Record, Run, Score, id_of
from .run_status import EXECUTING, RunStatus
from .scoring.lifecycle import add_pending_scores, hold_run, refresh_run, rescore, scored_by


@dataclass
class RescoreOutcome:
    """What a bulk re-score queued: pending scores, the runs touched, and the runs re-scored whole
    (with the names of the metrics that changed since they were scored)."""

    queued: int = 0
    runs: int = 0
    whole_runs: dict[int, list[str]] = field(default_factory=dict)


def rescore_records(
    session: Session, project_id: int, record_ids: Iterable[int], metrics: list[Metric], fresh: bool = False
) -> RescoreOutcome:
    """Queue the chosen records' scores of ``metrics`` again. Each run is re-scored for the
    metrics it was scored with only (a metric is not added to a run from here); records of other
    projects and records whose system call failed are skipped."""
    by_run: dict[int, list[Record]] = defaultdict(list)
    wanted = list(dict.fromkeys(record_ids))
    for start in range(0, len(wanted), 500):  # bounded IN lists
        statement = (
            select(Record)
            .join(Run, col(Run.id) == col(Record.run_id))
            .where(col(Record.id).in_(wanted[start : start + 500]), col(Run.project_id) == project_id)
        )
        for record in session.exec(statement):
            by_run[record.run_id].append(record)
    outcome = RescoreOutcome()
    for run_id in sorted(by_run):  # one lock order for every bulk re-score
        run = session.get_one(Run, run_id)
        queued = _rescore_in_run(session, run, by_run[run_id], metrics, fresh, outcome)
        if queued:
            outcome.queued += queued
            outcome.runs += 1
    return outcome


def _rescore_in_run(
    session: Session, run: Run, records: list[Record], metrics: list[Metric], fresh: bool, outcome: RescoreOutcome
) -> int:
    hold_run(session, run)
    # Locked in ID order, the order the scoring engine writes them in (as lifecycle.rescore does).
    session.execute(select(col(Score.id)).where(col(Score.run_id) == run.id).order_by(col(Score.id)).with_for_update())
    scorable = [r for r in records if r.error is None]
    queued = 0
    for metric in metrics:
        if metric.id not in run.metric_ids:
            continue
        version = snapshot(session, metric)
        if run.metric_version_ids[run.metric_ids.index(metric.id)] != version.id:
            rescore(session, run, [metric], fresh=fresh)
            outcome.whole_runs.setdefault(id_of(run), []).append(metric.name)
            queued += _pending_count(session, run, version.id)
        else:
            queued += _requeue(session, run, scorable, version.id, scored_by(version.config) == "human", fresh)
    if queued:
        if run.status not in EXECUTING:
            run.status = RunStatus.AWAITING_SCORING
        refresh_run(session, run)
    return queued


def _requeue(session: Session, run: Run, records: list[Record], version_id: str, human: bool, fresh: bool) -> int:
    """The records' scores of one version back to pending; people's finished scores are kept."""
    if not records:
        return 0
    ids = [id_of(r) for r in records]
    chosen = col(Score.record_id).in_(ids), col(Score.metric_version_id) == version_id
    if human:
        session.execute(delete(Score).where(*chosen, col(Score.status) != "scored"))
        kept = set(session.exec(select(col(Score.record_id)).where(*chosen)).all())
        records = [r for r in records if r.id not in kept]
    else:
        session.execute(delete(Score).where(*chosen))
    version = session.get_one(MetricVersion, version_id)
    return add_pending_scores(session, id_of(run), records, [version], fresh=fresh)


def _pending_count(session: Session, run: Run, version_id: str) -> int:
    statement = select(func.count()).where(
        col(Score.run_id) == run.id, col(Score.metric_version_id) == version_id, col(Score.status) == "pending"
    )
    return session.exec(statement).one()
