"""A monitor's settings as clients send them (the API's JSON, the UI's form): checked, with
metrics named by ID or by a description of what to judge, and the schedule they imply."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from .bodies import Body
from .errors import InvalidField
from .ids import parse_id
from .metrics import apply_rules
from .models import Metric, Monitor, id_of, utcnow
from .name_patterns import check_name_pattern

MIN_FREQUENCY_MINUTES = 1
MAX_FREQUENCY_MINUTES = 24 * 60
MAX_LOOKBACK_MINUTES = 7 * 24 * 60
DEFAULT_FREQUENCY_MINUTES = 60
# Production traffic can be large and every sampled span is judged: a tenth by default.
DEFAULT_SAMPLE_RATE = 10
METRIC_NAME_LENGTH = 80
DESCRIPTION_LENGTH = 500


class MonitorFilter(Body):
    service_name: str | None = None
    span_name: str | None = None
    search: str | None = None


class MonitorChanges(Body):
    """What a PATCH (or the UI's edit form) may change; what is left out stays as it is."""

    description: str | None = None
    metrics: list[str | int] | None = None
    frequency_minutes: int | None = None
    sample_rate: int | None = None
    filter: MonitorFilter | None = None
    active: bool | None = None


class MonitorUpsert(MonitorChanges):
    """``PUT /projects/{id}/monitors``: the monitor with this description, made or changed (the
    JS SDK sends ``{description, metrics, filter: {serviceName}}``)."""

    description: str  # required here


def check_span_name(pattern: str | None, field: str = "filter.spanName") -> None:
    if pattern is not None:
        check_name_pattern(pattern, field)


def check_frequency(minutes: int, field: str = "frequencyMinutes") -> None:
    if not MIN_FREQUENCY_MINUTES <= minutes <= MAX_FREQUENCY_MINUTES:
        raise InvalidField(field, f"must be from {MIN_FREQUENCY_MINUTES} to {MAX_FREQUENCY_MINUTES} (one day)")


def check_lookback(minutes: int, field: str = "lookbackMinutes") -> None:
    if not 1 <= minutes <= MAX_LOOKBACK_MINUTES:
        raise InvalidField(field, f"must be from 1 to {MAX_LOOKBACK_MINUTES} minutes (one week)")


def check_sample_rate(percent: int, field: str = "sampleRate") -> None:
    if not 1 <= percent <= 100:
        raise InvalidField(field, "must be a percentage from 1 to 100")


def resolve_metrics(session: Session, project_id: int, entries: Iterable[str | int]) -> list[int]:
    """Metric IDs for ``entries``, each a metric ID of the project or a description of what to
    judge: a description reuses the project's AI metric with it as guidelines, or creates one
    (as Scorecard's SDKs let a monitor name its metrics)."""
    ids: list[int] = []
    for index, entry in enumerate(entries):
        text = str(entry).strip()
        if not text:
            raise InvalidField(f"metrics[{index}]", "is empty: give a metric ID or a description of what to judge")
        metric_id = parse_id(text)
        if metric_id is not None:
            metric = session.get(Metric, metric_id)
            if metric is None or metric.project_id != project_id:
                raise InvalidField(f"metrics[{index}]", f"names metric {metric_id}, which is not in this project")
        else:
            metric = _metric_described(session, project_id, text)
        if id_of(metric) not in ids:
            ids.append(id_of(metric))
    return ids


def _metric_described(session: Session, project_id: int, description: str) -> Metric:
    found = session.exec(
        select(Metric).where(
            col(Metric.project_id) == project_id, col(Metric.eval_type) == "ai", col(Metric.guidelines) == description
        )
    ).first()
    if found is not None:
        return found
    name = description if len(description) <= METRIC_NAME_LENGTH else description[: METRIC_NAME_LENGTH - 1] + "…"
    metric = Metric(
        project_id=project_id,
        name=name,
        description=description,
        eval_type="ai",
        output_type="boolean",
        guidelines=description,
    )
    apply_rules(metric)
    session.add(metric)
    session.flush()
    return metric


def schedule_from(monitor: Monitor, now: datetime) -> None:
    """Start the schedule afresh from ``now``: the first cycle covers one period back from its
    due time (a new monitor, or one turned on again, samples nothing from before)."""
    monitor.sampled_through = now
    monitor.next_cycle_at = now + timedelta(minutes=monitor.frequency_minutes)


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _description(session: Session, project_id: int, text: str, monitor_id: int | None) -> str:
    description = text.strip()
    if not description:
        raise InvalidField("description", "is empty: name the monitor, e.g. after the service it watches")
    if len(description) > DESCRIPTION_LENGTH:
        raise InvalidField("description", f"is longer than {DESCRIPTION_LENGTH} characters")
    taken = session.exec(
        select(Monitor.id).where(col(Monitor.project_id) == project_id, col(Monitor.description) == description)
    ).first()
    if taken is not None and taken != monitor_id:
        raise InvalidField("description", f"is already monitor {taken}'s in this project: choose another")
    return description


def new_monitor(session: Session, project_id: int, body: MonitorChanges, now: datetime | None = None) -> Monitor:
    """A monitor as ``body`` describes it (description and metrics required), added to the session."""
    if body.description is None:
        raise InvalidField("description", "is required")
    if not body.metrics:
        raise InvalidField("metrics", "must name at least one metric: an ID, or a description of what to judge")
    monitor = Monitor(
        project_id=project_id,
        description=body.description,
        metric_ids=[],
        frequency_minutes=DEFAULT_FREQUENCY_MINUTES,
        sample_rate=DEFAULT_SAMPLE_RATE,
    )
    change_monitor(session, monitor, body, now)
    return monitor


def change_monitor(session: Session, monitor: Monitor, body: MonitorChanges, now: datetime | None = None) -> None:
    """Apply the settings ``body`` gives; a new frequency or turning the monitor on restarts its schedule."""
    now = now or utcnow()
    given = body.model_fields_set
    restart = monitor.id is None
    if body.description is not None:
        monitor.description = _description(session, monitor.project_id, body.description, monitor.id)
    if body.metrics is not None:
        if not body.metrics:
            raise InvalidField("metrics", "must name at least one metric: an ID, or a description of what to judge")
        monitor.metric_ids = resolve_metrics(session, monitor.project_id, body.metrics)
    if body.frequency_minutes is not None:
        check_frequency(body.frequency_minutes)
        restart |= body.frequency_minutes != monitor.frequency_minutes
        monitor.frequency_minutes = body.frequency_minutes
    if body.sample_rate is not None:
        check_sample_rate(body.sample_rate)
        monitor.sample_rate = body.sample_rate
    if "filter" in given:
        wanted = body.filter or MonitorFilter()
        check_span_name(_text(wanted.span_name))
        monitor.service_name = _text(wanted.service_name)
        monitor.span_name = _text(wanted.span_name)
        monitor.search = _text(wanted.search)
    if body.active is not None:
        restart |= body.active and not monitor.active
        monitor.active = body.active
    if restart:
        schedule_from(monitor, now)
    monitor.updated_at = now
    session.add(monitor)
    session.flush()


def upsert_monitor(session: Session, project_id: int, body: MonitorUpsert) -> tuple[Monitor, bool]:
    """The project's monitor with ``body.description``, changed, or made (True) when there is none."""
    description = body.description.strip()
    monitor = session.exec(
        select(Monitor).where(col(Monitor.project_id) == project_id, col(Monitor.description) == description)
    ).first()
    if monitor is None:
        return new_monitor(session, project_id, body), True
    change_monitor(session, monitor, body)
    return monitor, False
