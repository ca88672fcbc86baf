"""Search a project's records across its runs: full text over inputs, outputs and expected, and
filter pills ``key:value``, newest first, paged by keyset cursors.

Pills (AND-ed): ``metric.<metricId>:pass|fail|pending|error``, ``source:<source>``, ``run:<runId>``,
``testcase:<testcaseId>``, ``created>:<ISO date>`` (at or after), ``created<:<ISO date>`` (before),
``review:pending`` (a human metric awaiting its score).

The text search uses each database's own index (migration 0010): SQLite's FTS5 table ``record_fts``
and PostgreSQL's ``record.search_vector`` (a generated tsvector). Both index the string and number
values of the three JSON columns as lower-cased words; every word of ``q`` must start a word of the
record (``refun`` finds "Refund"). Words are runs of letters and digits, as both tokenizers cut them.

Metric pills judge a score as the run page does: ``pass``/``fail`` for a scored, valid score by its
metric version's output type and threshold; ``error`` for a scoring error, a score that does not
fit its metric, or a record whose system call failed in a run with that metric; ``pending`` for a
score not yet given (queued, being scored, or awaiting a person).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, and_, case, exists, false, func, literal_column, or_, table
from sqlmodel import Session, col, select

from .errors import InvalidField
from .models import Metric, MetricVersion, Record, Run, Score
from .runs import SOURCES
from .scoring.shapes import DEFAULT_THRESHOLDS, SCORE_KEYS

METRIC_STATUSES = ("pass", "fail", "pending", "error")
PILL_KEYS = ("metric.<metricId>", "source", "run", "testcase", "created>", "created<", "review")
MAX_QUERY_LENGTH = 500
MAX_TERMS = 16
MAX_ID = 2**63 - 1
WORD = re.compile(r"[^\W_]+")

# Schema objects of migration 0010 that no model describes; autogenerate must leave them alone.
FTS_TABLE = "record_fts"  # FTS5 keeps shadow tables beside it: record_fts_data, record_fts_idx, ...
SEARCH_VECTOR = "search_vector"
SEARCH_INDEX = "ix_record_search"


def outside_the_models(name: str | None, type_: str) -> bool:
    """Alembic's ``include_name`` hook, negated: the search index's tables, column and index."""
    if name is None:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    return (type_, name) in {("column", SEARCH_VECTOR), ("index", SEARCH_INDEX)}


@dataclass(frozen=True)
class Filter:
    """One pill: ``key`` as typed (``metric`` for ``metric.<id>``), its checked ``argument``."""

    key: str
    value: str
    argument: int | datetime | str

    @property
    def pill(self) -> str:
        key = f"metric.{self.argument}" if self.key == "metric" else self.key
        return f"{key}:{self.value}"


@dataclass
class RecordQuery:
    q: str = ""
    filters: list[Filter] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        return [word.lower() for word in WORD.findall(self.q)]


@dataclass
class RecordPage:
    records: list[Record]
    scores_by_record: dict[int, list[Score]]
    run_of: dict[int, Run]
    next_cursor: str | None


def parse_query(q: str, filters: list[str]) -> RecordQuery:
    """Check ``q`` and each ``key:value`` pill; a bad one raises InvalidField naming it."""
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidField("q", f"is {len(q)} characters long; search with at most {MAX_QUERY_LENGTH}")
    query = RecordQuery(q=q, filters=[parse_pill(pill) for pill in filters])
    if len(query.terms) > MAX_TERMS:
        raise InvalidField("q", f"has {len(query.terms)} words; search with at most {MAX_TERMS}")
    return query


def parse_pill(pill: str) -> Filter:
    key, colon, value = pill.strip().partition(":")
    if not colon or not value.strip():
        raise InvalidField("filter", f"`{pill}` is not key:value; write e.g. metric.12:fail or source:api")
    value = value.strip()
    if key.startswith("metric."):
        metric_id = _id(pill, key.removeprefix("metric."), "metric.<metricId>")
        if value not in METRIC_STATUSES:
            raise InvalidField("filter", f"`{pill}`: a metric is {' | '.join(METRIC_STATUSES)}, not `{value}`")
        return Filter("metric", value, metric_id)
    if key in ("run", "testcase"):
        return Filter(key, value, _id(pill, value, key))
    if key in ("created>", "created<"):
        return Filter(key, value, _moment(pill, value))
    if key == "source":
        if value not in SOURCES:
            raise InvalidField("filter", f"`{pill}`: a run's source is one of {', '.join(SOURCES)}")
        return Filter(key, value, value)
    if key == "review":
        if value != "pending":
            raise InvalidField("filter", f"`{pill}`: review takes only `pending` (review:pending)")
        return Filter(key, value, value)
    raise InvalidField("filter", f"`{pill}` has an unknown key `{key}`; use one of {', '.join(PILL_KEYS)}")


def _id(pill: str, text_id: str, key: str) -> int:
    if not text_id.isascii() or not text_id.isdigit() or not 0 < int(text_id) <= MAX_ID:
        raise InvalidField("filter", f"`{pill}`: {key} takes a numeric ID such as 12, not `{text_id}`")
    return int(text_id)


def _moment(pill: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidField(
            "filter", f"`{pill}`: write an ISO date or time such as 2026-01-31 or 2026-01-31T12:00:00Z"
        ) from None


def search_records(session: Session, project_id: int, query: RecordQuery, limit: int, cursor: str | None) -> RecordPage:
    """One page of the matching records, newest first, with their scores and runs."""
    conditions = _conditions(session, project_id, query)
    if cursor is not None:
        created_at, record_id = _decode_cursor(cursor)
        conditions.append(
            or_(
                col(Record.created_at) < created_at,
                and_(col(Record.created_at) == created_at, col(Record.id) < record_id),
            )
        )
    rows = list(
        session.exec(
            select(Record)
            .where(*conditions)
            .order_by(col(Record.created_at).desc(), col(Record.id).desc())
            .limit(limit + 1)
        )
    )
    records = rows[:limit]
    ids = [record.id for record in records]
    scores_by_record: dict[int, list[Score]] = {record_id: [] for record_id in ids if record_id is not None}
    for score in session.exec(select(Score).where(col(Score.record_id).in_(ids)).order_by(col(Score.id))):
        scores_by_record[score.record_id].append(score)
    runs = {run.id: run for run in session.exec(select(Run).where(col(Run.id).in_({r.run_id for r in records})))}
    run_of = {record_id: runs[record.run_id] for record_id, record in zip(ids, records, strict=True) if record_id}
    next_cursor = _encode_cursor(records[-1]) if len(rows) > limit else None
    return RecordPage(records, scores_by_record, run_of, next_cursor)


def matching_record_ids(session: Session, project_id: int, query: RecordQuery, limit: int) -> list[int]:
    """The IDs of up to ``limit`` matching records, newest first (bulk re-score, CSV export)."""
    statement = (
        select(Record.id)
        .where(*_conditions(session, project_id, query))
        .order_by(col(Record.created_at).desc(), col(Record.id).desc())
        .limit(limit)
    )
    return [record_id for record_id in session.exec(statement) if record_id is not None]


def count_by_period(
    session: Session, project_id: int, query: RecordQuery, buckets: int = 30
) -> list[tuple[datetime, datetime, int]]:
    """The matching records over time: ``buckets`` equal periods [start, end) from the first to
    the last match, each with its count (empty when nothing matches)."""
    conditions = _conditions(session, project_id, query)
    created = col(Record.created_at)
    first, last = session.exec(select(func.min(created), func.max(created)).where(*conditions)).one()
    if first is None or last is None:
        return []
    first, last = first.astimezone(timezone.utc), last.astimezone(timezone.utc)
    step = (last - first) / buckets + timedelta(microseconds=1)  # the last period holds the last match
    edges = [first + step * index for index in range(buckets + 1)]
    periods = list(zip(edges, edges[1:], strict=False))
    counts = session.exec(
        select(*(func.sum(case((and_(created >= start, created < end), 1), else_=0)) for start, end in periods)).where(
            *conditions
        )
    ).one()
    return [(start, end, int(count or 0)) for (start, end), count in zip(periods, counts, strict=True)]


def _conditions(session: Session, project_id: int, query: RecordQuery) -> list[ColumnElement[bool]]:
    runs_of_project = select(Run.id).where(col(Run.project_id) == project_id)
    conditions: list[ColumnElement[bool]] = []
    for pill in query.filters:
        if pill.key == "source":
            runs_of_project = runs_of_project.where(col(Run.source) == pill.argument)
        elif pill.key == "run":
            conditions.append(col(Record.run_id) == pill.argument)
        elif pill.key == "testcase":
            conditions.append(col(Record.testcase_id) == pill.argument)
        elif pill.key == "created>":
            conditions.append(col(Record.created_at) >= pill.argument)
        elif pill.key == "created<":
            conditions.append(col(Record.created_at) < pill.argument)
        elif pill.key == "review":
            conditions.append(_has_score(col(Score.scored_by) == "human", col(Score.status) == "pending"))
        else:
            conditions.append(_metric_condition(session, project_id, pill))
    conditions.insert(0, col(Record.run_id).in_(runs_of_project))
    if query.terms:
        conditions.append(_text_match(session, query.terms))
    return conditions


def _has_score(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(col(Score.record_id) == col(Record.id), *conditions)


def _text_match(session: Session, terms: list[str]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "sqlite":
        match = " AND ".join(f'"{term}"*' for term in terms)
        fts: ColumnElement[Any] = literal_column(FTS_TABLE)
        matched: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(table(FTS_TABLE))
            .where(fts.op("MATCH", is_comparison=True)(match))
        )
        return col(Record.id).in_(matched)
    tsquery = " & ".join(f"'{term}':*" for term in terms)  # quoted: a term is a lexeme, never an operator
    vector: ColumnElement[Any] = literal_column(f"record.{SEARCH_VECTOR}")
    return vector.op("@@", is_comparison=True)(func.to_tsquery(literal_column("'simple'"), tsquery))


def _metric_condition(session: Session, project_id: int, pill: Filter) -> ColumnElement[bool]:
    metric_id = pill.argument
    runs = session.exec(select(Run.id, Run.metric_ids).where(col(Run.project_id) == project_id)).all()
    runs_with_metric = [run_id for run_id, metric_ids in runs if metric_id in metric_ids]
    metric = session.get(Metric, metric_id)
    if not runs_with_metric and (metric is None or metric.project_id != project_id):
        raise InvalidField(
            "filter", f"`{pill.pill}` names no metric of project {project_id}; use a metric ID the project has"
        )
    versions = session.exec(select(MetricVersion).where(col(MetricVersion.metric_id) == metric_id)).all()
    of_metric = col(Score.metric_version_id).in_([version.id for version in versions])
    # A score without validation errors holds SQL NULL or JSON null, depending on how it was written.
    valid = or_(col(Score.validation_errors).is_(None), col(Score.validation_errors) == JSON.NULL)
    if pill.value == "pending":
        return _has_score(of_metric, col(Score.status).in_(("pending", "running")))
    if pill.value == "error":
        failed_call = and_(col(Record.error).is_not(None), col(Record.run_id).in_(runs_with_metric))
        return or_(
            _has_score(of_metric, or_(col(Score.status) == "error", and_(col(Score.status) == "scored", ~valid))),
            failed_call,
        )
    verdicts = [_verdict(version.id, version.config, passing=pill.value == "pass") for version in versions]
    return _has_score(of_metric, col(Score.status) == "scored", valid, or_(false(), *verdicts))


def _verdict(version_id: str, config: dict[str, Any], passing: bool) -> ColumnElement[bool]:
    """A score of this metric version that passes (or fails), as ``scoring.shapes.passes`` judges."""
    output_type = config.get("output_type", "boolean")
    value = col(Score.score)[SCORE_KEYS.get(output_type, "binaryScore")]
    if output_type == "boolean":
        verdict = value.as_boolean() == passing
    else:
        threshold = config.get("passing_threshold")
        threshold = DEFAULT_THRESHOLDS.get(output_type, 0) if threshold is None else threshold
        verdict = value.as_float() >= threshold if passing else value.as_float() < threshold
    return and_(col(Score.metric_version_id) == version_id, verdict)


def _encode_cursor(record: Record) -> str:
    position = [record.created_at.astimezone(timezone.utc).isoformat(), record.id]
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        created_at, record_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(created_at)
        if type(record_id) is not int or not 0 < record_id <= MAX_ID or moment.tzinfo is None:
            raise ValueError(cursor)
        return moment.astimezone(timezone.utc), record_id
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise InvalidField("cursor", "is not one this listing gave; pass `nextCursor` back unchanged") from None


def period_pills(start: date | datetime, end: date | datetime) -> list[str]:
    """The pills that keep one histogram period [start, end)."""
    return [f"created>:{start.isoformat()}", f"created<:{end.isoformat()}"]
