"""The Traces page's queries, called directly on SQLite and PostgreSQL: one row per trace at its
head, newest first, with its sums; each filter; keyset paging; bad filters naming their field;
and the records linked to a trace (by otel link ID or a monitor's sample) both ways."""

from __future__ import annotations

import pytest
from sqlmodel import select

from scorecard_core import trace_queries, traces
from scorecard_core.db import session_scope
from scorecard_core.errors import InvalidField
from scorecard_core.models import Record, Span
from scorecard_core.prices import DEFAULT_PRICES, ModelPrice
from scorecard_core.trace_queries import TraceFilter
from tests.support.trace_world import HOSTILE, LINK_ID, many_traces, sample, three_traces, trace_id


def store(engine, *requests) -> None:
    with session_scope(engine) as session:
        for request in requests:
            traces.store_spans(session, traces.received_spans(session, request).rows)


@pytest.fixture
def traced(world):
    store(world.engine, *three_traces(world.project.id))
    return world


def listed(engine, project_id, wanted=None, limit=50, cursor=None) -> trace_queries.TracePage:
    with session_scope(engine) as session:
        return trace_queries.trace_page(session, project_id, wanted or TraceFilter(), DEFAULT_PRICES, limit, cursor)


def parsed(engine, **args) -> TraceFilter:
    with session_scope(engine) as session:
        return trace_queries.parse_filter(session, args)


def test_one_row_per_trace_newest_first_with_its_sums(traced):
    rows = listed(traced.engine, traced.project.id).rows
    assert [row.trace_id for row in rows] == [trace_id(3), trace_id(2), trace_id(1)]
    orphans, search, checkout = rows
    assert (checkout.name, checkout.service_name, checkout.spans, checkout.duration_ms) == (
        "POST /checkout",
        "checkout",
        2,
        1000.0,
    )
    assert checkout.models == ["gpt-4o-mini-2024-07-18"] and checkout.tokens == 15 and not checkout.errored
    assert checkout.cost == trace_queries.SpanCost(DEFAULT_PRICES["gpt-4o-mini"].cost(12, 3))
    assert search.errored and search.cost == trace_queries.SpanCost(None, ("my-model",))
    # No root received: the earliest span heads the trace.
    assert orphans.name == f"retrieve {HOSTILE}" and orphans.spans == 2 and orphans.cost is None
    assert listed(traced.engine, traced.other_project().id).rows == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"service": "search"}, [3, 2]),
        ({"service": "checkout"}, [1]),
        ({"span_name": "^open"}, [1]),  # a child's name keeps its trace
        ({"span_name": "GET|POST"}, [2, 1]),
        ({"span_name": r"^(openai\.)?cha[t]{1}$|(e|x)mbed"}, [2, 1]),  # groups repeated at most once
        ({"q": "ZEBRA"}, [3]),  # in a message, any case
        ({"q": "<script>"}, [3]),  # in a span name
        ({"q": "100%"}, []),  # LIKE's wildcards are plain text
        ({"from": "2025-12-04T00:02"}, [3, 2]),
        ({"to": "2025-12-04T00:02"}, [2, 1]),
        ({"service": "search", "span_name": "embed", "to": "2025-12-04T00:05:00"}, [2]),
    ],
)
def test_filters(traced, args, expected):
    wanted = parsed(traced.engine, **args)
    assert [row.trace_id for row in listed(traced.engine, traced.project.id, wanted).rows] == [
        trace_id(n) for n in expected
    ]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"span_name": "(unclosed"}, "span_name"),
        ({"span_name": "x" * 201}, "span_name"),
        ({"span_name": "^(a+)+$"}, "span_name"),  # catastrophic backtracking
        ({"span_name": "((ab)*c)*"}, "span_name"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-13-01T00:00"}, "to"),
        ({"from": "2025-12-04T10:00", "to": "2025-12-04T09:00"}, "to"),
        ({"q": "w" * 201}, "q"),
    ],
)
def test_bad_filters_name_their_field(traced, args, field):
    with pytest.raises(InvalidField) as refused:
        parsed(traced.engine, **args)
    assert refused.value.field == field


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite matches with Python's re
def test_a_pattern_python_accepts_but_postgresql_refuses_names_the_field(traced):
    pattern = "(?P<word>chat)"  # Python's named group; PostgreSQL's regular expressions have none
    with session_scope(traced.engine) as session:
        with pytest.raises(InvalidField) as refused:
            trace_queries.parse_filter(session, {"span_name": pattern})
        assert refused.value.field == "span_name"
        assert session.execute(select(Span.id).limit(1)).first()  # the session is still usable


def test_keyset_pages_cover_every_trace_once(traced):
    store(traced.engine, many_traces(traced.project.id, 7))
    seen, cursor, pages = [], None, 0
    while True:
        page = listed(traced.engine, traced.project.id, limit=3, cursor=cursor)
        seen += [row.trace_id for row in page.rows]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 4 and len(seen) == 10 == len(set(seen))
    assert seen[0] == trace_id(16) and seen[-1] == trace_id(1)
    with pytest.raises(InvalidField) as refused:
        listed(traced.engine, traced.project.id, cursor="not-a-cursor")
    assert refused.value.field == "cursor"


def test_services_are_listed_once_each(traced):
    with session_scope(traced.engine) as session:
        assert trace_queries.service_names(session, traced.project.id) == ["checkout", "search"]


def test_cost_is_unknown_for_a_span_without_a_priced_model():
    prices = {"m": ModelPrice(1.0, 2.0)}
    assert trace_queries.cost_of([("m", 1_000_000, 1_000_000)], prices).usd == 3.0
    assert trace_queries.cost_of([(None, 5, 0), ("m", 1, 1)], prices).unpriced == ("(no model)",)
    assert trace_queries.cost_of([("unknown", 0, 0)], prices) is None


def test_records_linked_by_otel_link_id_or_a_monitor_sample(traced):
    by_link, unlinked, sampled = traced.upload(traced.run([traced.metric("Exact")]), ["a0", "a1", "a2"])
    with session_scope(traced.engine) as session:
        session.get(Record, by_link.id).otel_link_id = LINK_ID
    sample(traced.engine, traced.project.id, "embed", sampled.id)
    project_id = traced.project.id
    with session_scope(traced.engine) as session:
        for trace, record, how in ((1, by_link, "otel link ID"), (2, sampled, "monitor sample")):
            spans = trace_queries.trace_spans(session, project_id, trace_id(trace))
            found = trace_queries.linked_records(session, project_id, spans)
            assert [(r.id, why) for r, why in found] == [(record.id, how)]
            stored = session.get(Record, record.id)
            assert trace_queries.trace_of_record(session, project_id, stored) == trace_id(trace)
        assert trace_queries.trace_of_record(session, project_id, session.get(Record, unlinked.id)) is None
        orphans = trace_queries.trace_spans(session, project_id, trace_id(3))
        assert len(orphans) == 2 and trace_queries.linked_records(session, project_id, orphans) == []
