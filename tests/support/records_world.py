"""A project's records for the records-search tests, written straight to the database, with what
each record was built to be (its words, its verdict per metric), so tests count the matches in
Python without asking the database how it judged them.

Three metrics: ``ok`` (AI, boolean), ``grade`` (AI, int; two versions, threshold 3 and 5, used by
different runs) and ``review`` (human, boolean). Some records' system calls failed (no scores);
two records share a creation time (the cursor's tie-break). Another project holds records with
the same words, which no search of this one may return. Nothing is left for the scoring engine
to claim: AI scores are scored, errored, or running under a lease that outlasts the test.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.engine import Engine

from scorecard_core.db import session_scope
from scorecard_core.models import Metric, MetricVersion, Project, Record, Run, Score

WORDS = ["refund", "shipping", "invoice", "password", "delivery", "warranty", "follow-up", "refurbished", "ticket"]
SOURCES = ["api", "kickoff", "github", "playground"]
START = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
OK_VERDICTS = ["pass", "fail", "error", "invalid", "running", "pass", "fail"]


@dataclass
class SeededRecord:
    id: int
    run_id: int
    source: str
    testcase_id: int | None
    created_at: datetime
    text: str
    failed_call: bool
    verdicts: dict[int, str] = field(default_factory=dict)  # metric ID -> pass | fail | pending | error

    @property
    def words(self) -> list[str]:
        return [word.lower() for word in re.findall(r"[^\W_]+", self.text)]


@dataclass
class RecordsWorld:
    project_id: int
    metric_ids: dict[str, int]
    run_ids: list[int]
    records: list[SeededRecord]  # newest first, as the search answers


def _version(session, metric: Metric, threshold: float | None) -> MetricVersion:
    config = {"name": metric.name, "eval_type": metric.eval_type, "output_type": metric.output_type}
    config["passing_threshold"] = threshold
    version = MetricVersion(metric_id=metric.id, config_hash=uuid.uuid4().hex, config=config)
    session.add(version)
    session.flush()
    return version


def _score(run_id: int, record_id: int, version: MetricVersion, verdict: str, index: int) -> Score:
    """A score that the search should judge ``verdict``; ``invalid`` is scored but misfit (error)."""
    output_type = version.config["output_type"]
    scored_by = "human" if version.config["eval_type"] == "human" else "ai"
    score = Score(run_id=run_id, record_id=record_id, metric_version_id=version.id, scored_by=scored_by)
    if verdict in ("pass", "fail"):
        score.status = "scored"
        if output_type == "boolean":
            score.score = {"binaryScore": verdict == "pass", "reasoning": "because"}
        else:
            threshold = version.config["passing_threshold"]
            score.score = {
                "intScore": (5 if index % 2 else int(threshold)) if verdict == "pass" else int(threshold) - 1
            }
    elif verdict == "invalid":
        score.status, score.score = "scored", {"binaryScore": "yes"}
        score.validation_errors = [{"path": "/binaryScore", "message": "must be true or false"}]
    elif verdict == "error":
        score.status, score.error = "error", "the judge answered nothing"
    elif verdict == "running":
        score.status, score.lease_until = "running", datetime.now(timezone.utc) + timedelta(days=1)
    return score


def seed(engine: Engine, count: int = 70) -> RecordsWorld:
    with session_scope(engine) as session:
        project = Project(name="records search")
        elsewhere = Project(name="elsewhere")
        session.add_all([project, elsewhere])
        session.flush()
        ok = Metric(project_id=project.id, name="ok", eval_type="ai", output_type="boolean")
        grade = Metric(project_id=project.id, name="grade", eval_type="ai", output_type="int")
        review = Metric(project_id=project.id, name="review", eval_type="human", output_type="boolean")
        session.add_all([ok, grade, review])
        session.flush()
        ok_v, review_v = _version(session, ok, None), _version(session, review, None)
        grade_versions = [_version(session, grade, 3), _version(session, grade, 5)]
        runs = []
        for index in range(6):
            versions = [ok_v, grade_versions[index % 2], review_v]
            run = Run(
                project_id=project.id,
                metric_ids=[ok.id, grade.id, review.id],
                metric_version_ids=[v.id for v in versions],
                status="completed",
                source=SOURCES[index % len(SOURCES)],
            )
            session.add(run)
            session.flush()
            runs.append((run, versions))
        other_run = Run(project_id=elsewhere.id, metric_ids=[], metric_version_ids=[], status="completed")
        session.add(other_run)
        session.flush()

        seeded = []
        for index in range(count):
            run, (ok_version, grade_version, review_version) = runs[index % len(runs)]
            words = [WORDS[index % len(WORDS)], WORDS[(index * 5 + 2) % len(WORDS)]]
            created_at = START + timedelta(minutes=37 * (index - (index == 11)))  # 10 and 11 tie
            failed_call = index % 13 == 5
            record = Record(
                run_id=run.id,
                testcase_id=100 + index % 5 if index % 4 else None,
                inputs={"question": f"Where is my {words[0]}?", "n": index},
                outputs={"answer": f"About your {words[1]}: see {index % 7}"},
                expected={"answer": "Sorry" if index % 3 else "Thanks"},
                error="the system is down" if failed_call else None,
                created_at=created_at,
            )
            session.add(record)
            session.flush()
            text = " ".join(
                [record.inputs["question"], str(index), record.outputs["answer"], record.expected["answer"]]
            )
            item = SeededRecord(record.id, run.id, run.source, record.testcase_id, created_at, text, failed_call)
            if failed_call:
                item.verdicts = {ok.id: "error", grade.id: "error", review.id: "error"}
            else:
                planned = {
                    ok.id: (ok_version, OK_VERDICTS[index % len(OK_VERDICTS)]),
                    grade.id: (grade_version, ["pass", "fail", "error"][index % 3]),
                    review.id: (review_version, "pending" if index % 2 else ["pass", "fail"][index // 2 % 2]),
                }
                for metric_id, (version, verdict) in planned.items():
                    if verdict != "pending":
                        session.add(_score(run.id, record.id, version, verdict, index))
                    else:
                        session.add(Score(run_id=run.id, record_id=record.id, metric_version_id=version.id))
                    item.verdicts[metric_id] = {"invalid": "error", "running": "pending"}.get(verdict, verdict)
            seeded.append(item)
            session.add(
                Record(run_id=other_run.id, inputs={"question": record.inputs["question"]}, outputs={}, expected={})
            )
        session.flush()
        world = RecordsWorld(
            project_id=project.id,
            metric_ids={"ok": ok.id, "grade": grade.id, "review": review.id},
            run_ids=[run.id for run, _ in runs],
            records=sorted(seeded, key=lambda r: (r.created_at, r.id), reverse=True),
        )
    return world


def matches(record: SeededRecord, q: str, pills: list[str], review_metric_id: int) -> bool:
    """Whether ``record`` answers ``q`` and every pill, judged from what it was built to be."""
    terms = [term.lower() for term in re.findall(r"[^\W_]+", q)]
    if not all(any(word.startswith(term) for word in record.words) for term in terms):
        return False
    return all(_pill_keeps(record, pill, review_metric_id) for pill in pills)


def _pill_keeps(record: SeededRecord, pill: str, review_metric_id: int) -> bool:
    key, _, value = pill.partition(":")
    checks: dict[str, Any] = {
        "source": lambda: record.source == value,
        "run": lambda: record.run_id == int(value),
        "testcase": lambda: record.testcase_id == int(value),
        "created>": lambda: record.created_at >= datetime.fromisoformat(value),
        "created<": lambda: record.created_at < datetime.fromisoformat(value),
        "review": lambda: record.verdicts.get(review_metric_id) == "pending",
    }
    if key.startswith("metric."):
        return record.verdicts.get(int(key.removeprefix("metric."))) == value
    return checks[key]()
