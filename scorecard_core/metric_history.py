"""A metric's history: its versions numbered in order with what changed between them, whether its
current settings are a version yet, and the runs that scored with it.

Versions are snapshotted when a run or a re-score uses a metric (``metrics.snapshot``), not when it
is edited; an edit that no run has used yet is the *next* version here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from .hashing import content_hash
from .metrics import VERSIONED_FIELDS, metric_config
from .models import Metric, MetricVersion, Run, id_of

# Values longer than this (or with line breaks) are compared line by line rather than whole.
INLINE_CHARS = 80
# Fields a snapshot leaves out at their default (see ``metrics.metric_config``).
ABSENT_MEANS: dict[str, Any] = {"judge_cache": True}
# Runs read per query while scanning for the ones that used a metric, newest first.
RUN_BATCH = 500


@dataclass(frozen=True)
class TextLine:
    kind: str  # "added", "removed", "same" or "gap" (unchanged lines left out)
    text: str


@dataclass(frozen=True)
class Change:
    """One field that differs from the previous version: short values whole, long text as lines."""

    field: str
    before: Any
    after: Any
    lines: tuple[TextLine, ...] = ()


@dataclass(frozen=True)
class VersionView:
    number: int
    version: MetricVersion | None  # None for the next version: settings no run has used yet
    config: dict[str, Any]
    changes: tuple[Change, ...]
    current: bool

    @property
    def created_at(self) -> datetime | None:
        return self.version.created_at if self.version else None


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[Change, ...]:
    """Field-by-field differences of two config snapshots, in the order versions list fields."""
    extra = sorted((set(before) | set(after)) - set(VERSIONED_FIELDS))
    found = []
    for name in (*VERSIONED_FIELDS, *extra):
        old, new = before.get(name, ABSENT_MEANS.get(name)), after.get(name, ABSENT_MEANS.get(name))
        if old == new:
            continue
        found.append(Change(name, old, new, _text_lines(old, new)))
    return tuple(found)


def _text_lines(old: Any, new: Any) -> tuple[TextLine, ...]:
    if not (isinstance(old, str | None) and isinstance(new, str | None)):
        return ()
    old, new = old or "", new or ""
    if "\n" not in old + new and max(len(old), len(new)) <= INLINE_CHARS:
        return ()
    lines = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(TextLine("gap", "…"))
        else:
            kind = {"+": "added", "-": "removed"}.get(line[:1], "same")
            lines.append(TextLine(kind, line[1:]))
    return tuple(lines[1:] if lines and lines[0].kind == "gap" else lines)


def metric_versions(session: Session, metric: Metric) -> list[MetricVersion]:
    """The metric's versions, oldest first (the order that numbers them)."""
    statement = (
        select(MetricVersion)
        .where(col(MetricVersion.metric_id) == metric.id)
        .order_by(col(MetricVersion.created_at), col(MetricVersion.id))
    )
    return list(session.exec(statement))


def version_views(metric: Metric, versions: list[MetricVersion]) -> list[VersionView]:
    """Every version with its changes against the one before, newest first, led by the next
    version when the metric's current settings differ from every snapshot."""
    config = metric_config(metric)
    digest = content_hash(config)
    views = []
    previous: dict[str, Any] | None = None
    for number, version in enumerate(versions, start=1):
        diff = changes(previous, version.config) if previous is not None else ()
        views.append(VersionView(number, version, version.config, diff, version.config_hash == digest))
        previous = version.config
    if not any(view.current for view in views):
        diff = changes(previous, config) if previous is not None else ()
        views.append(VersionView(len(versions) + 1, None, config, diff, True))
    return views[::-1]


@dataclass
class RunUse:
    run: Run
    version_number: int


@dataclass
class RunsUsing:
    runs: list[RunUse] = field(default_factory=list)
    more: bool = False  # more runs used it than the cap shows


def _runs_newest_first(session: Session, project_id: int) -> Iterator[Run]:
    statement = select(Run).where(col(Run.project_id) == project_id).order_by(col(Run.id).desc())
    yield from session.exec(statement.execution_options(yield_per=RUN_BATCH))


def runs_using(session: Session, metric: Metric, versions: list[MetricVersion], limit: int) -> RunsUsing:
    """The project's runs whose metric versions include one of this metric's, newest first."""
    numbers = {version.id: number for number, version in enumerate(versions, start=1)}
    found = RunsUsing()
    for run in _runs_newest_first(session, metric.project_id):
        used = [numbers[v] for v in run.metric_version_ids if v in numbers]
        if not used:
            continue
        if len(found.runs) == limit:
            found.more = True
            break
        found.runs.append(RunUse(run, used[0]))
    return found


def last_used(session: Session, project_id: int, metric_ids: Iterable[int]) -> dict[int, datetime]:
    """When each metric was last used by a run, for those ever used; stops once all are found."""
    waiting = set(metric_ids)
    found: dict[int, datetime] = {}
    statement = (
        select(col(Run.metric_ids), col(Run.created_at))
        .where(col(Run.project_id) == project_id)
        .order_by(col(Run.id).desc())
    )
    for ids, created_at in session.exec(statement.execution_options(yield_per=RUN_BATCH)):
        for metric_id in waiting.intersection(ids):
            found[metric_id] = created_at
        waiting.difference_update(ids)
        if not waiting:
            break
    return found


def current_versions(session: Session, metrics: list[Metric]) -> dict[int, VersionView]:
    """Per metric, the version its settings are: a snapshot, or the next one if no run used them."""
    ids = [id_of(metric) for metric in metrics]
    by_metric: dict[int, list[MetricVersion]] = {metric_id: [] for metric_id in ids}
    if ids:
        statement = (
            select(MetricVersion)
            .where(col(MetricVersion.metric_id).in_(ids))
            .order_by(col(MetricVersion.created_at), col(MetricVersion.id))
        )
        for version in session.exec(statement):
            by_metric[version.metric_id].append(version)
    return {
        id_of(metric): next(view for view in version_views(metric, by_metric[id_of(metric)]) if view.current)
        for metric in metrics
    }
