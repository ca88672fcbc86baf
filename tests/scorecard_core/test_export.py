"""CSV export of a run: one row per record with every metric's score, verdict, reasoning and
error; cells a spreadsheet would run as a formula are neutralised, long cells capped."""

from __future__ import annotations

import csv
import io

import pytest

from scorecard_core import runs
from scorecard_core.db import session_scope
from scorecard_core.export import MAX_CELL_CHARS, TRUNCATION_MARK, csv_chunks, safe_cell, stream_csv
from scorecard_core.models import Record, Run
from scorecard_core.runs import RecordInput
from scorecard_core.scores import put_score


@pytest.mark.parametrize("text", ["=SUM(A1:A9)", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(("value", "cell"), [("plain", "plain"), ("", ""), ({"a": "é"}, '{"a": "é"}'), (3, "3")])
def test_other_cells_are_text_or_json(value, cell):
    assert safe_cell(value) == cell


def test_a_long_cell_is_capped_with_a_mark():
    cell = safe_cell("x" * (MAX_CELL_CHARS + 10))
    assert len(cell) == MAX_CELL_CHARS and cell.endswith(TRUNCATION_MARK)
    assert safe_cell("=" * (MAX_CELL_CHARS + 1)).startswith("'=")  # capped, then still neutralised


def exported(world, run: Run) -> list[list[str]]:
    with session_scope(world.engine) as session:
        text = "".join(csv_chunks(session, session.get(Run, run.id)))
    return list(csv.reader(io.StringIO(text)))


def test_a_run_exports_one_row_per_record_with_each_metrics_columns(world):
    exact = world.metric("Exact")
    helpful = world.metric("+Helpful", eval_type="human", output_type="int")
    run = world.run([exact, helpful], with_testset=False)
    testcase = world.testcases[0]
    items = [
        RecordInput(inputs={"question": "q0"}, expected={"answer": "a0"}, outputs={"answer": "a0"}),
        RecordInput(inputs={}, expected={}, outputs={}, error='=HYPERLINK("http://x")', testcase_id=testcase.id),
        RecordInput(inputs={}, expected={}, outputs={"answer": "-"}),
    ]
    with session_scope(world.engine) as session:
        records = runs.add_records(session, run.id, items)
    exact_version, helpful_version = run.metric_version_ids
    with session_scope(world.engine) as session:
        first = session.get(Record, records[0].id)
        put_score(session, first, exact_version, {"binaryScore": True, "reasoning": "@same answer"}, None)
        put_score(session, first, helpful_version, {"intScore": 3, "reasoning": "-1 for tone"}, None)
    world.set_scores(run, records[2], version=exact_version, status="error", error="=judge down")

    header, *rows = exported(world, run)
    assert header == [
        "recordId",
        "testcaseId",
        "inputs",
        "expected",
        "outputs",
        "error",
        "durationMs",
        "promptTokens",
        "completionTokens",
        "Exact score",
        "Exact passed",
        "Exact reasoning",
        "Exact error",
        "'+Helpful score",
        "'+Helpful passed",
        "'+Helpful reasoning",
        "'+Helpful error",
    ]
    assert rows == [
        [
            str(records[0].id),
            "",
            '{"question": "q0"}',
            '{"answer": "a0"}',
            '{"answer": "a0"}',
            "",
            *["", "", ""],  # no duration or usage reported
            "true",
            "true",
            "'@same answer",
            "",
            "3",
            "false",
            "'-1 for tone",
            "",
        ],
        # A failed call: no scores, its error neutralised.
        [str(records[1].id), str(testcase.id), "{}", "{}", "{}", '\'=HYPERLINK("http://x")', *[""] * 11],
        # An errored score and a pending one: no value, no verdict.
        [str(records[2].id), "", "{}", "{}", '{"answer": "-"}', *[""] * 4, "", "", "", "'=judge down", *[""] * 4],
    ]


def test_a_large_run_streams_in_chunks_across_pages_of_records(world):
    run = world.run([], with_testset=False)
    items = [RecordInput(inputs={"n": n}, expected={}, outputs={}) for n in range(501)]
    with session_scope(world.engine) as session:
        runs.add_records(session, run.id, items)
    chunks = list(stream_csv(world.engine, run.id))
    assert len(chunks) == 3  # 502 rows, written out every 200
    header, *rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert header[:6] == ["recordId", "testcaseId", "inputs", "expected", "outputs", "error"]
    assert [row[2] for row in rows] == [f'{{"n": {n}}}' for n in range(501)]
    assert [int(row[0]) for row in rows] == sorted(int(row[0]) for row in rows)


def test_a_score_that_does_not_fit_its_metric_gets_no_verdict(world):
    """As in the figures (report_queries): a misfit score is an error, not a pass; 9 is above an
    int metric's 1-5, so it says nothing about the threshold of 4."""
    run = world.run([world.metric("Helpful", eval_type="human", output_type="int")], with_testset=False)
    [record] = world.upload(run, ["a0"])
    with session_scope(world.engine) as session:
        put_score(session, session.get(Record, record.id), run.metric_version_ids[0], {"intScore": 9}, None)
    _header, row = exported(world, run)
    assert row[9:11] == ["9", ""]


def test_each_row_has_its_calls_duration_and_system_tokens(world):
    run = world.run([world.metric("Exact")], with_testset=False)
    usage = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    items = [
        RecordInput(inputs={}, expected={}, outputs={}, duration_ms=1234.5, metadata={"model": "m", "usage": usage}),
        RecordInput(inputs={}, expected={}, outputs={}, duration_ms=0.0),
        RecordInput(inputs={}, expected={}, outputs={}, metadata={"usage": "not counts"}),
    ]
    with session_scope(world.engine) as session:
        runs.add_records(session, run.id, items)
    header, *rows = exported(world, run)
    assert header[6:9] == ["durationMs", "promptTokens", "completionTokens"]
    assert [row[6:9] for row in rows] == [["1234.5", "12", "3"], ["0.0", "", ""], ["", "", ""]]
