"""Runs and their records: creation, batch ingestion with idempotency, and automatic status.

Status moves on its own: ``awaiting_execution`` -> ``running_execution`` on the first record ->
``awaiting_scoring`` once records reach ``numExpectedRecords`` (or when execution is ended
explicitly).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from .errors import InvalidField, NotFound
from .metrics import snapshot
from .models import Metric, Record, Run, System, SystemVersion, Testcase, Testset, table_of, utcnow
from .run_status import EXECUTING, RunStatus
from .scoring.lifecycle import add_pending_scores, refresh_run, run_versions

STATUSES = tuple(status.value for status in RunStatus)
SOURCES = ("api", "kickoff", "playground", "monitor", "github")


@dataclass
class RecordInput:
    inputs: dict[str, Any]
    expected: dict[str, Any]
    outputs: dict[str, Any]
    testcase_id: int | None = None
    idempotency_key: str | None = None
    error: str | None = None
    otel_link_id: str | None = None
    session_id: str | None = None
    metadata: dict[str, Any] | None = None
    duration_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def trial_key(testcase_id: int | str, trial: int) -> str:
    """The idempotency key of a testcase's record in one trial: an upload retried or resumed
    (by the Action or by the server's own execution) stores it once."""
    return f"testcase:{testcase_id}:trial:{trial}"


def create_run(
    session: Session,
    project_id: int,
    metric_ids: list[int],
    testset_id: int | None = None,
    system_version_id: str | None = None,
    source: str = "api",
    notes: str = "",
    git: dict | None = None,
) -> Run:
    testset = None
    if testset_id is not None:
        testset = session.get(Testset, testset_id)
        if testset is None or testset.project_id != project_id:
            raise NotFound.of("testset", testset_id, field="testsetId")
    version = None
    if system_version_id is not None:
        version = session.get(SystemVersion, system_version_id)
        system = session.get(System, version.system_id) if version is not None else None
        if system is None or system.project_id != project_id:  # another project's is not ours to name
            raise NotFound.of("system version", system_version_id, field="systemVersionId")
    metrics = load_metrics(session, project_id, metric_ids)
    expected = None
    if testset is not None:
        expected = session.exec(select(func.count()).where(col(Testcase.testset_id) == testset.id)).one()
    run = Run(
        project_id=project_id,
        testset_id=testset_id,
        system_id=version.system_id if version else None,
        system_version_id=system_version_id,
        metric_ids=[m.id for m in metrics],
        metric_version_ids=[snapshot(session, m).id for m in metrics],
        num_expected_records=expected,
        source=source,
        notes=notes,
        git=git,
    )
    session.add(run)
    session.flush()
    return run


def load_metrics(session: Session, project_id: int, metric_ids: Iterable[int]) -> list[Metric]:
    ids = list(dict.fromkeys(metric_ids))
    found = {m.id: m for m in session.exec(select(Metric).where(col(Metric.id).in_(ids))).all()} if ids else {}
    for metric_id in ids:
        metric = found.get(metric_id)
        if metric is None or metric.project_id != project_id:
            raise NotFound(f"metric {metric_id} not found in project {project_id}", {"field": "metricIds"})
    return [found[i] for i in ids]


def get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound.of("run", run_id)
    return run


def add_records(session: Session, run_id: int, items: list[RecordInput]) -> list[Record]:
    """Insert records, returning one per item in order; items whose idempotency key the run
    already holds (or that repeat a key within the batch) return the stored record instead."""
    # Lock the run first: on SQLite this takes the write lock before any read, on PostgreSQL
    # a row lock, so concurrent uploads of the same keys cannot both insert.
    # (Core statements here and below: the ORM's per-statement work showed in profiles.)
    runs = table_of(Run)
    locked = session.exec(update(runs).where(runs.c.id == run_id).values(updated_at=utcnow()))
    if locked.rowcount == 0:
        raise NotFound.of("run", run_id)
    _check_testcases(session, run_id, items)

    keys = [i.idempotency_key for i in items if i.idempotency_key]
    by_key: dict[str, Record] = {}
    if keys:
        stored = session.exec(
            select(Record).where(col(Record.run_id) == run_id, col(Record.idempotency_key).in_(keys))
        ).all()
        by_key = {r.idempotency_key: r for r in stored if r.idempotency_key is not None}  # all: found by key

    fresh_rows: list[dict[str, Any]] = []
    seen = set(by_key)
    for item in items:
        key = item.idempotency_key
        if key in seen:
            continue
        if key:
            seen.add(key)
        fresh_rows.append(_row(run_id, item))

    created: list[Record] = []
    if fresh_rows:
        created = _insert(session, fresh_rows)
        run = session.get_one(Run, run_id, populate_existing=True)
        add_pending_scores(session, run_id, created, run_versions(session, run))
        _count_new_records(session, run, created)

    fresh = iter(created)
    result: list[Record] = []
    for item in items:
        key = item.idempotency_key
        if not key:
            result.append(next(fresh))
            continue
        if key not in by_key:
            by_key[key] = next(fresh)
        result.append(by_key[key])
    return result


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[Record]:
    """Insert rows with multi-row INSERTs and return their records in the same order.

    A Core INSERT returning only ids and timestamps: the ORM's bulk insert and loading the JSON
    columns back would cost more than the database work. On SQLite, SQLAlchemy keeps RETURNING
    in parameter order only by inserting row by row; when every row has an idempotency key
    (unique in the run, and in ``rows``), the keys put the returned rows back in order instead.
    """
    table = table_of(Record)
    returning = (table.c.idempotency_key, table.c.id, table.c.created_at)
    if all(row["idempotency_key"] for row in rows):
        by_key = {key: (id_, at) for key, id_, at in session.execute(insert(table).returning(*returning), rows)}
        stored = [by_key[row["idempotency_key"]] for row in rows]
    else:
        ordered = insert(table).returning(*returning, sort_by_parameter_order=True)
        stored = [(id_, at) for _key, id_, at in session.execute(ordered, rows)]
    return [_inserted_record(row, id_, at) for row, (id_, at) in zip(rows, stored)]


def _inserted_record(row: dict[str, Any], record_id: int, created_at: Any) -> Record:
    """A record built from the values just inserted, rather than loaded back.

    Made the way loading makes one (``__new__``, where SQLModel sets up pydantic's state, then
    the column values), without the per-field work of ``model_construct``. It belongs to no
    session: read it; to change a record, load it.
    """
    record = Record.__new__(Record)
    record.__dict__.update(row, id=record_id, created_at=created_at)
    return record


def _row(run_id: int, item: RecordInput) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "testcase_id": item.testcase_id,
        "inputs": item.inputs,
        "expected": item.expected,
        "outputs": item.outputs,
        "error": item.error,
        "idempotency_key": item.idempotency_key,
        "otel_link_id": item.otel_link_id,
        "session_id": item.session_id,
        "call_metadata": item.metadata,
        "duration_ms": item.duration_ms,
        "created_at": utcnow(),
    }


def _check_testcases(session: Session, run_id: int, items: list[RecordInput]) -> None:
    ids = {i.testcase_id for i in items if i.testcase_id is not None}
    if not ids:
        return
    testcases = table_of(Testcase)
    known = set(session.scalars(select(testcases.c.id).where(testcases.c.id.in_(ids))))
    missing = sorted(ids - known)
    if missing:
        raise NotFound(f"testcase {missing[0]} not found", {"field": "testcaseId", "id": str(missing[0])})


def _count_new_records(session: Session, run: Run, created: list[Record]) -> None:
    run.num_records += len(created)
    if run.status in EXECUTING:
        run.status = RunStatus.RUNNING_EXECUTION
        if run.num_expected_records and run.num_records >= run.num_expected_records:
            end_execution(session, run)
            return
    if any(r.error is not None for r in created) or run.status not in EXECUTING:
        refresh_run(session, run)
    else:
        session.add(run)


def end_execution(session: Session, run: Run) -> None:
    """Records are complete (or the uploader gave up on the rest): scoring may finish."""
    if run.status in EXECUTING:
        run.status = RunStatus.AWAITING_SCORING
    refresh_run(session, run)


def update_run(
    session: Session, run: Run, notes: str | None = None, status: str | None = None, git: dict | None = None
) -> Run:
    if status is not None:
        if status != RunStatus.AWAITING_SCORING:
            raise InvalidField("status", "can only be set to `awaiting_scoring` (ends execution)")
        end_execution(session, run)
    if git:
        run.git = {**(run.git or {}), **git}
        run.updated_at = utcnow()
        session.add(run)
    if notes is not None:
        run.notes = notes
        run.updated_at = utcnow()
        session.add(run)
    return run


def get_record(session: Session, record_id: int) -> Record:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound.of("record", record_id)
    return record


def delete_record(session: Session, record: Record) -> None:
    run = session.get_one(Run, record.run_id)
    session.delete(record)
    session.flush()
    run.num_records = max(0, run.num_records - 1)
    refresh_run(session, run)
