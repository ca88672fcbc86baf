"""Records and scores.

``POST /runs/{id}/records`` is Scorecard's one-at-a-time call; ``/records/batch`` is ours, with
an idempotency key per item (explicit, or testcaseId + trial) so retried and resumed uploads
never create duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Blueprint, request
from pydantic import Field
from sqlmodel import select

from scorecard_core import record_tags, wire
from scorecard_core import runs as run_logic
from scorecard_core import scores as score_logic
from scorecard_core.models import Record, Score
from scorecard_core.usage_queries import FINISHED as FINISHED_SCORES

from .. import database, scoring
from .parsing import Body, NumericId, paginate, parse, path_id
from .runs import load_run

bp = Blueprint("records", __name__)

MAX_RECORDS_PER_BATCH = 1000


class RecordCreate(Body):
    inputs: dict[str, Any]
    expected: dict[str, Any] = {}
    outputs: dict[str, Any]
    testcase_id: NumericId | None = None
    otel_link_id: str | None = None
    session_id: str | None = None
    error: str | None = None
    # Our extensions: what the call reported besides outputs (`model`, token `usage`), and how
    # long it took in milliseconds.
    metadata: dict[str, Any] | None = None
    duration_ms: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class BatchItem(RecordCreate):
    trial: int = Field(default=0, ge=0)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)

    def key(self) -> str | None:
        if self.idempotency_key:
            return self.idempotency_key
        if self.testcase_id is not None:
            return run_logic.trial_key(self.testcase_id, self.trial)
        return None


class RecordBatch(Body):
    items: list[BatchItem] = Field(min_length=1, max_length=MAX_RECORDS_PER_BATCH)


class ScoreUpsert(Body):
    score: dict[str, Any] | None = None  # omitted: the score stays pending for a person to grade
    user_id: str | None = None


def _record_input(item: RecordCreate, key: str | None) -> run_logic.RecordInput:
    return run_logic.RecordInput(
        inputs=item.inputs,
        expected=item.expected,
        outputs=item.outputs,
        testcase_id=item.testcase_id,
        idempotency_key=key,
        error=item.error,
        otel_link_id=item.otel_link_id,
        session_id=item.session_id,
        metadata=item.metadata,
        duration_ms=item.duration_ms,
    )


@bp.post("/runs/<run_id>/records")
def create_record(run_id: str):
    run = load_run(run_id)
    body = parse(RecordCreate)
    session = database.session()
    (record,) = run_logic.add_records(session, run.id, [_record_input(body, None)])
    session.commit()
    scoring.stored(session)
    return wire.record(record), 201


@bp.post("/runs/<run_id>/records/batch")
def create_records(run_id: str):
    run = load_run(run_id)
    body = parse(RecordBatch)
    session = database.session()
    records = run_logic.add_records(session, run.id, [_record_input(i, i.key()) for i in body.items])
    session.commit()
    scoring.stored(session)
    return {"items": [wire.record(r) for r in records]}, 201


def _with_scores(records: list[Record]) -> list[dict[str, Any]]:
    by_record: dict[int, list[Score]] = defaultdict(list)
    if records:
        ids = [r.id for r in records]
        # Pending scores are skipped here, not in SQL: with a status condition SQLite searches
        # the status index, every scored score of the database, instead of these records' scores.
        for score in database.session().exec(select(Score).where(Score.record_id.in_(ids)).order_by(Score.id)):
            if score.status in FINISHED_SCORES:
                by_record[score.record_id].append(score)
    return [wire.record(r, by_record[r.id]) for r in records]


@bp.get("/runs/<run_id>/records")
def list_records(run_id: str):
    run = load_run(run_id)
    tags = record_tags.parse_filter(request.args.getlist("tags"))
    statement = record_tags.carrying_all(select(Record).where(Record.run_id == run.id), tags)
    return paginate(database.session(), statement, Record.id, _with_scores)


@bp.delete("/records/<record_id>")
def delete_record(record_id: str):
    session = database.session()
    record = run_logic.get_record(session, path_id(record_id, "record"))
    run_logic.delete_record(session, record)
    session.commit()
    scoring.stored(session)  # the deleted record may have been the last one awaiting scores
    return {"success": True}


@bp.put("/records/<record_id>/scores/<metric_config_id>")
def upsert_score(record_id: str, metric_config_id: str):
    session = database.session()
    record = run_logic.get_record(session, path_id(record_id, "record"))
    body = parse(ScoreUpsert)
    score = score_logic.put_score(session, record, metric_config_id, body.score, body.user_id)
    session.commit()
    scoring.stored(session)
    return wire.score(score)
