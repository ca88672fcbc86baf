"""Seeding straight into the database for the benches that need more rows than the API would
take in a bench's time: a project's metric versions, and runs awaiting scoring."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from scorecard_core.metrics import apply_rules, snapshot
from scorecard_core.models import Metric, Run
from scorecard_core.run_status import RunStatus

# (metric version ID, metric ID, its config), as the seeded rows need them.
VersionInfo = list[tuple[str, int, dict[str, Any]]]


def metric_versions(session: Session, project_id: int, metrics: Iterable[tuple[str, str, str, Any]]) -> VersionInfo:
    """A metric per (name, eval type, output type, heuristic), each with its first version."""
    versions = []
    for name, eval_type, output_type, heuristic in metrics:
        metric = Metric(
            project_id=project_id, name=name, eval_type=eval_type, output_type=output_type, heuristic=heuristic
        )
        apply_rules(metric)
        session.add(metric)
        session.flush()
        versions.append(snapshot(session, metric))
    return [(v.id, v.metric_id, v.config) for v in versions]


def awaiting_scoring(
    session: Session, project_id: int, version_info: VersionInfo, records: int, testset_id: int | None = None
) -> Run:
    """A run of ``records`` records with these metrics, its execution over (flushed: it has an ID)."""
    run = Run(
        project_id=project_id,
        testset_id=testset_id,
        metric_ids=[m for _, m, _ in version_info],
        metric_version_ids=[v for v, _, _ in version_info],
        num_records=records,
        status=RunStatus.AWAITING_SCORING,
        source="api",
    )
    session.add(run)
    session.flush()
    return run
