"""A small world for the domain tests: a project with a question/answer testset, its metrics,
runs and records, built on a real database (SQLite and PostgreSQL, see ``database_url``) through
the same domain functions the server calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import select

from scorecard_core import runs
from scorecard_core.db import make_engine, session_scope
from scorecard_core.metrics import apply_rules
from scorecard_core.models import Metric, Project, Record, Run, Score, Testcase, Testset
from scorecard_core.runs import RecordInput
from scorecard_core.testsets import TestcaseValidator, normalize_field_mapping

SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}, "topic": {"type": "string"}},
    "required": ["question", "answer"],
}
EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}
CALL_FAILED = "RuntimeError: the system is down"


class World:
    """One project, one testset of ``cases`` testcases (question qN, answer aN); builders for
    metrics, runs and records, each committed in its own transaction as a request would."""

    def __init__(self, engine: Engine, cases: int = 3):
        self.engine = engine
        with session_scope(engine) as session:
            self.project = self.add(session, Project(name="world"))
            self.testset = self.add_testset(session, self.project.id, cases)
        with session_scope(engine) as session:
            self.testcases = list(session.exec(_testcases_of(self.testset.id)))

    @staticmethod
    def add(session, row):
        """Add ``row`` and flush, so its ID is known."""
        session.add(row)
        session.flush()
        return row

    def add_testset(self, session, project_id: int, cases: int) -> Testset:
        mapping = normalize_field_mapping({"inputs": ["question"], "expected": ["answer"]}, SCHEMA)
        testset = self.add(
            session, Testset(project_id=project_id, name="qa", json_schema=SCHEMA, field_mapping=mapping)
        )
        validator = TestcaseValidator(SCHEMA)
        for index in range(cases):
            data = {"question": f"q{index}", "answer": f"a{index}"}
            session.add(Testcase(testset_id=testset.id, json_data=data, validation_errors=validator.errors(data)))
        return testset

    def other_project(self) -> Project:
        with session_scope(self.engine) as session:
            return self.add(session, Project(name="elsewhere"))

    def metric(self, name: str, eval_type: str = "heuristic", output_type: str = "boolean", **fields: Any) -> Metric:
        """A metric as the API stores one: Scorecard's defaults filled, thresholds checked.
        A heuristic metric compares answers exactly unless told otherwise (``heuristic=None``
        leaves it to people, as a human metric)."""
        if eval_type == "heuristic":
            fields.setdefault("heuristic", EXACT)
        project_id = fields.pop("project_id", self.project.id)
        metric = Metric(project_id=project_id, name=name, eval_type=eval_type, output_type=output_type, **fields)
        apply_rules(metric)
        with session_scope(self.engine) as session:
            return self.add(session, metric)

    def run(self, metrics: list[Metric], with_testset: bool = True, **options: Any) -> Run:
        with session_scope(self.engine) as session:
            return runs.create_run(
                session,
                self.project.id,
                [m.id for m in metrics],
                testset_id=self.testset.id if with_testset else None,
                **options,
            )

    def upload(self, run: Run, answers: list[str | None], keys: list[str] | None = None) -> list[Record]:
        """One record per answer, for the testcases in order; ``None`` is a failed system call."""
        items = [
            RecordInput(
                inputs={"question": testcase.json_data["question"]},
                expected={"answer": testcase.json_data["answer"]},
                outputs={} if answer is None else {"answer": answer},
                error=CALL_FAILED if answer is None else None,
                testcase_id=testcase.id,
                idempotency_key=keys[index] if keys else None,
            )
            for index, (testcase, answer) in enumerate(zip(self.testcases, answers))
        ]
        with session_scope(self.engine) as session:
            return runs.add_records(session, run.id, items)

    def reload(self, run: Run) -> Run:
        with session_scope(self.engine) as session:
            return session.get(Run, run.id)

    def scores(self, run: Run) -> list[Score]:
        with session_scope(self.engine) as session:
            return list(session.exec(_scores_of(run.id)))

    def set_scores(self, run: Run, record: Record | None = None, version: str | None = None, **values: Any) -> None:
        """Score rows (the run's, or one record's or metric version's) as another actor left them:
        the scoring engine, or a process that died holding them."""
        where = [Score.run_id == run.id]
        if record is not None:
            where.append(Score.record_id == record.id)
        if version is not None:
            where.append(Score.metric_version_id == version)
        with session_scope(self.engine) as session:
            session.execute(update(Score).where(*where).values(**values))


def _testcases_of(testset_id: int):
    return select(Testcase).where(Testcase.testset_id == testset_id).order_by(Testcase.id)


def _scores_of(run_id: int):
    return select(Score).where(Score.run_id == run_id).order_by(Score.record_id, Score.id)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a freshly migrated, empty database (``database_url`` copies or truncates one)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def world(engine: Engine) -> World:
    return World(engine)
