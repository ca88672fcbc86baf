"""records_search against counts computed in Python from the seeded records (tests/support/
records_world.py), on SQLite and PostgreSQL: the text search, every pill, their combinations,
paging that returns every match exactly once, the histogram, and the pills refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text

from scorecard_core import db, records_search
from scorecard_core.db import make_engine, session_scope
from scorecard_core.errors import InvalidField
from scorecard_core.models import Record
from tests.support.records_world import START, RecordsWorld, matches, seed


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def world(engine) -> RecordsWorld:
    return seed(engine)


def queries(world: RecordsWorld) -> list[tuple[str, list[str]]]:
    ok, grade, review = (world.metric_ids[name] for name in ("ok", "grade", "review"))
    run = world.run_ids[1]
    middle = (START + timedelta(minutes=37 * 20)).isoformat()
    late = (START + timedelta(minutes=37 * 50)).isoformat()
    return [
        ("", []),
        ("refund", []),
        ("REFUND", []),
        ("refu", []),
        ("follow", []),
        ("up", []),
        ("follow-up", []),
        ("where shipping", []),
        ("sorry", []),
        ("12", []),
        ("nothingmatches", []),
        *[
            ("", [f"metric.{metric}:{status}"])
            for metric in (ok, grade, review)
            for status in records_search.METRIC_STATUSES
        ],
        *[("", [f"source:{source}"]) for source in ("api", "kickoff", "github", "playground", "monitor")],
        ("", [f"run:{run}"]),
        ("", ["testcase:102"]),
        ("", [f"created>:{middle}"]),
        ("", [f"created<:{middle}"]),
        ("", [f"created>:{middle}", f"created<:{late}"]),
        ("", ["review:pending"]),
        ("invoice", [f"metric.{ok}:fail"]),
        ("about", [f"metric.{grade}:pass", "source:api"]),
        ("ticket", ["review:pending", f"created>:{middle}"]),
        ("", [f"run:{run}", f"metric.{grade}:error"]),
    ]


def all_pages(session, world: RecordsWorld, query, limit: int) -> list[int]:
    seen, cursor = [], None
    while True:
        page = records_search.search_records(session, world.project_id, query, limit, cursor)
        assert len(page.records) <= limit
        seen += [record.id for record in page.records]
        for record in page.records:
            assert page.run_of[record.id].id == record.run_id
            assert all(score.record_id == record.id for score in page.scores_by_record[record.id])
        cursor = page.next_cursor
        if cursor is None:
            return seen


def test_every_pill_and_search_agree_with_the_seeded_facts(engine, world):
    review = world.metric_ids["review"]
    with session_scope(engine) as session:
        for q, pills in queries(world):
            expected = [r.id for r in world.records if matches(r, q, pills, review)]
            query = records_search.parse_query(q, pills)
            assert all_pages(session, world, query, limit=7) == expected, (q, pills)
            assert records_search.matching_record_ids(session, world.project_id, query, 1000) == expected
            histogram = records_search.count_by_period(session, world.project_id, query, buckets=9)
            assert sum(count for _start, _end, count in histogram) == len(expected), (q, pills)


def test_the_searches_are_not_empty_so_the_comparison_means_something(world):
    review = world.metric_ids["review"]
    sizes = [sum(matches(r, q, pills, review) for r in world.records) for q, pills in queries(world)]
    assert sum(size > 0 for size in sizes) >= len(sizes) - 3  # nothingmatches, source:monitor, maybe one more
    assert all(size < len(world.records) for size in sizes[1:])


def test_paging_is_stable_when_records_arrive(engine, world):
    query = records_search.parse_query("", [])
    with session_scope(engine) as session:
        first = records_search.search_records(session, world.project_id, query, 10, None)
        session.add(Record(run_id=world.run_ids[0], inputs={}, outputs={}, expected={}))
        session.flush()
        rest = records_search.search_records(session, world.project_id, query, 1000, first.next_cursor)
    seen = [r.id for r in first.records] + [r.id for r in rest.records]
    assert seen == [r.id for r in world.records]


def test_a_histogram_period_keeps_what_its_bar_counts(engine, world):
    query = records_search.parse_query("", [])
    with session_scope(engine) as session:
        periods = records_search.count_by_period(session, world.project_id, query, buckets=6)
        assert len(periods) == 6
        for start, end, count in periods:
            pills = records_search.period_pills(start, end)
            ids = records_search.matching_record_ids(
                session, world.project_id, records_search.parse_query("", pills), 1000
            )
            assert len(ids) == count == sum(start <= r.created_at < end for r in world.records)


@pytest.mark.parametrize(
    ("pill", "named"),
    [
        ("color:blue", "unknown key `color`"),
        ("metric.1:great", "`metric.1:great`"),
        ("metric.x:pass", "`metric.x:pass`"),
        ("run:abc", "run takes a numeric ID"),
        ("testcase:-3", "testcase takes a numeric ID"),
        ("run:99999999999999999999", "run takes a numeric ID"),
        ("created>:yesterday", "ISO date"),
        ("review:done", "review takes only `pending`"),
        ("source:email", "a run's source is one of"),
        ("nocolon", "is not key:value"),
        ("source:", "is not key:value"),
    ],
)
def test_bad_pills_are_refused_naming_them(pill, named):
    with pytest.raises(InvalidField) as raised:
        records_search.parse_query("", [pill])
    assert raised.value.field == "filter"
    assert named in raised.value.message


def test_a_metric_of_another_project_is_refused(engine, world):
    with session_scope(engine) as session:
        with pytest.raises(InvalidField, match=r"`metric.999:fail` names no metric of project"):
            records_search.search_records(
                session, world.project_id, records_search.parse_query("", ["metric.999:fail"]), 10, None
            )


@pytest.mark.parametrize(
    "cursor", ["nonsense", "WyIxIiwgMV0", "W1tdLCAxXQ", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgLTFd"]
)
def test_a_cursor_not_given_by_the_search_is_refused(engine, world, cursor):
    with session_scope(engine) as session, pytest.raises(InvalidField, match="cursor"):
        records_search.search_records(session, world.project_id, records_search.parse_query("", []), 10, cursor)


def test_the_migration_indexes_existing_records_and_downgrades(database_url, engine, world):
    command.downgrade(db.alembic_config(database_url), "0009")
    with engine.begin() as conn:
        run_id = world.run_ids[0]
        conn.execute(
            text(
                "INSERT INTO record (run_id, inputs, expected, outputs, created_at)"
                f" VALUES ({run_id}, '{{\"q\": \"zebra crossing\"}}', '{{}}', '{{}}', CURRENT_TIMESTAMP)"
            )
        )
    db.upgrade(database_url)
    with session_scope(engine) as session:
        found = records_search.matching_record_ids(
            session, world.project_id, records_search.parse_query("zebra", []), 10
        )
        assert len(found) == 1
        every = records_search.matching_record_ids(session, world.project_id, records_search.parse_query("", []), 1000)
        assert len(every) == len(world.records) + 1
