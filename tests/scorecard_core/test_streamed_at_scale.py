"""A run of 100k records stays streamed: the CSV export sends its first rows after reading one
page of records, a run's summary reads its score rows streamed and no record's JSON, and a report
reads each run's records once, as they arrive, keeping only the worst failing cases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from scorecard_core import report_queries, runs
from scorecard_core.db import session_scope
from scorecard_core.export import RECORDS_PER_QUERY, stream_csv
from scorecard_core.gate import GatePolicy
from scorecard_core.markdown import FAILING_KEPT, render, report_context
from scorecard_core.models import Run
from scorecard_core.report_wire import failing_cases, summarize_wire
from scorecard_core.runs import RecordInput

METRIC = {"id": "7", "name": "Exact", "evalType": "heuristic", "outputType": "int", "passingThreshold": 4}
RUN = {"id": "1", "status": "completed", "metricIds": ["7"], "metricVersionIds": ["v7"]}


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement run on ``engine`` in the block, with its execution options."""
    seen: list[tuple[str, Any]] = []

    def keep(_conn, _cursor, statement, _parameters, context, _executemany) -> None:
        seen.append((statement, context.execution_options))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def test_the_csv_export_sends_its_first_rows_after_one_page_of_records(world):
    run = world.run([], with_testset=False)
    items = [RecordInput(inputs={"n": n}, expected={}, outputs={}) for n in range(3 * RECORDS_PER_QUERY)]
    with session_scope(world.engine) as session:
        runs.add_records(session, run.id, items)
    with statements(world.engine) as seen:
        chunks = stream_csv(world.engine, run.id)
        first = next(chunks)
        pages = [sql for sql, _ in seen if "FROM record" in sql]
        chunks.close()
    assert first.startswith("recordId,") and first.count("\n") > 100
    assert len(pages) == 1


def test_a_runs_summary_reads_its_score_rows_streamed_and_no_records_json(world):
    run = world.run([world.metric("Exact"), world.metric("Helpful", eval_type="human")])
    world.upload(run, ["a0", "wrong", None])
    with session_scope(world.engine) as session, statements(world.engine) as seen:
        summary = report_queries.summarize(session, session.get_one(Run, run.id))
    assert summary.records == 3 and summary.failed_calls == 1
    assert not any("record.inputs" in sql or "record.outputs" in sql for sql, _ in seen)
    score_reads = [options for sql, options in seen if "FROM score" in sql]
    assert score_reads and all(options.get("yield_per") for options in score_reads)


def wire_record(n: int) -> dict[str, Any]:
    """Record n: every 10th a failed call, the rest scored n % 5 + 1 (fails below 4)."""
    record: dict[str, Any] = {"id": str(n), "testcaseId": str(n), "inputs": {"q": n}, "outputs": {"a": n}}
    if n % 10 == 0:
        return {**record, "error": "boom", "durationMs": 5.0}
    score = {"metricConfigId": "v7", "status": "scored", "score": {"intScore": n % 5 + 1, "reasoning": f"r{n}"}}
    return {**record, "scores": [score], "durationMs": 5.0}


def test_a_report_reads_each_runs_records_once_and_keeps_the_worst_failing_cases():
    count = 2 * FAILING_KEPT
    records = (wire_record(n) for n in range(count))  # one pass only, as pages stream in
    baseline = (wire_record(n) for n in range(count))
    context = report_context(RUN, {"7": METRIC}, records, GatePolicy(), "3", baseline=({**RUN, "id": "0"}, baseline))
    every = [wire_record(n) for n in range(count)]
    all_failing = failing_cases(summarize_wire(RUN, {"7": METRIC}, every), every)
    assert context.summary.records == count and context.usage is not None and context.usage.calls_timed == count
    assert context.comparison is not None and context.baseline_usage is not None
    assert context.failing_count == len(all_failing) > FAILING_KEPT
    assert context.failing == all_failing[:FAILING_KEPT]  # errors first, then the lowest scores
    comment = render(context, max_chars=65_536)
    assert f"{len(all_failing)} failing cases" in comment and "more — see the full run" in comment
