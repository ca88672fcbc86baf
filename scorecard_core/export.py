"""CSV export of a run: one row per record, with its call's duration and token usage and every
metric's score, verdict and reasoning.

Cells are capped at 128,000 characters and cells a spreadsheet would read as a formula are
neutralised, because outputs and testcase data are untrusted text.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .metrics import passes
from .models import Record, Run, Score, id_of
from .scoring.lifecycle import run_versions
from .scoring.shapes import SCORE_KEYS
from .usage import system_tokens

MAX_CELL_CHARS = 128_000
TRUNCATION_MARK = "…[truncated]"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
RECORDS_PER_QUERY = 500


def safe_cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    return text


def _score_cell(score: Score | None) -> str:
    if score is None or score.status != "scored":
        return ""
    body = score.score or {}
    return safe_cell(next((body[k] for k in SCORE_KEYS.values() if k in body), ""))


def _call_cells(record: Record) -> list[str]:
    """The call's duration and the system's prompt and completion tokens; blank when unreported."""
    tokens = system_tokens(record.call_metadata)
    cells = [
        "" if record.duration_ms is None else record.duration_ms,
        "" if tokens is None else tokens.prompt,
        "" if tokens is None else tokens.completion,
    ]
    return [safe_cell(cell) for cell in cells]


def rows(session: Session, run: Run) -> Iterator[list[str]]:
    versions = run_versions(session, run)
    header = [
        "recordId",
        "testcaseId",
        "inputs",
        "expected",
        "outputs",
        "error",
        "durationMs",
        "promptTokens",
        "completionTokens",
    ]
    for version in versions:
        name = version.config["name"]
        header += [f"{name} score", f"{name} passed", f"{name} reasoning", f"{name} error"]
    yield [safe_cell(h) for h in header]

    for record, scores in records_with_scores(session, id_of(run)):
        by_version = {score.metric_version_id: score for score in scores}
        row = [
            str(record.id),
            str(record.testcase_id or ""),
            safe_cell(record.inputs),
            safe_cell(record.expected),
            safe_cell(record.outputs),
            safe_cell(record.error or ""),
            *_call_cells(record),
        ]
        for version in versions:
            score = by_version.get(version.id)
            verdict = (
                passes(version.config["output_type"], version.config.get("passing_threshold"), score.score)
                # A score that does not fit its metric (validation errors) says nothing of passing.
                if score is not None and score.status == "scored" and not score.validation_errors
                else None
            )
            reasoning = (score.score or {}).get("reasoning", "") if score is not None else ""
            row += [
                _score_cell(score),
                "" if verdict is None else str(verdict).lower(),
                safe_cell(reasoning if isinstance(reasoning, str) else json.dumps(reasoning)),
                safe_cell(score.error or "") if score is not None else "",
            ]
        yield row


def records_with_scores(session: Session, run_id: int) -> Iterator[tuple[Record, list[Score]]]:
    """The run's records in ID order, each with its scores, read ``RECORDS_PER_QUERY`` at a time:
    a run of 100k records is never loaded whole."""
    last_id = 0
    while True:
        records = session.exec(
            select(Record)
            .where(col(Record.run_id) == run_id, col(Record.id) > last_id)
            .order_by(col(Record.id))
            .limit(RECORDS_PER_QUERY)
        ).all()
        if not records:
            return
        last_id = id_of(records[-1])
        by_record: dict[int, list[Score]] = defaultdict(list)
        for stored in session.exec(
            select(Score).where(col(Score.record_id).in_([r.id for r in records])).order_by(col(Score.id))
        ):
            by_record[stored.record_id].append(stored)
        for record in records:
            yield record, by_record[id_of(record)]


def stream_csv(engine: Engine, run_id: int) -> Iterator[str]:
    """The CSV text in chunks, for a streamed response. The stream owns its session: it outlives
    the request that started it, so the request's own session cannot serve it."""
    with Session(engine) as session:
        yield from csv_chunks(session, session.get_one(Run, run_id))


def csv_chunks(session: Session, run: Run) -> Iterator[str]:
    """The CSV text in chunks."""
    return csv_text(rows(session, run))


def csv_text(rows: Iterable[list[str]]) -> Iterator[str]:
    """Rows as CSV text, a chunk every 200 rows: a streamed download never holds the whole file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
