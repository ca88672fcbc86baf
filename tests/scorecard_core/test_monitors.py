"""Monitors, called directly: deterministic sampling, filters, metrics named by description, the
schedule, and the two guarantees (a span sampled once per monitor; one cycle at a time, none lost
or repeated when a process dies mid-cycle)."""

from __future__ import annotations

import hashlib
import math
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from scorecard_core import monitor_settings, monitors
from scorecard_core.db import session_scope
from scorecard_core.errors import InvalidField
from scorecard_core.models import Metric, Monitor, MonitorCycle, MonitorSample, Project, Record, Run, id_of
from scorecard_core.monitors import CycleTaken, MonitorCycles, sampled
from tests.support.chat_spans import chat_row, store_rows, trace_id_of
from tests.support.waiting import eventually

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def project_id(engine) -> int:
    with session_scope(engine) as session:
        project = Project(name="monitored")
        session.add(project)
        session.flush()
        return id_of(project)


def add_monitor(engine, project_id: int, description: str = "chat-app", **settings) -> int:
    with session_scope(engine) as session:
        metric_ids = monitor_settings.resolve_metrics(session, project_id, ["Is the answer polite?"])
        monitor = Monitor(project_id=project_id, description=description, metric_ids=metric_ids, **settings)
        monitor_settings.schedule_from(monitor, NOW - timedelta(minutes=monitor.frequency_minutes))
        session.add(monitor)
        session.flush()
        return id_of(monitor)


def records_of(engine, run_id: int) -> list[Record]:
    with session_scope(engine) as session:
        return list(session.exec(select(Record).where(Record.run_id == run_id).order_by(col(Record.id))).all())


def test_sampling_is_a_fixed_hash_of_the_trace_id_at_the_rate_asked():
    ids = [f"{random.Random(7).getrandbits(128) ^ n:032x}" for n in range(20_000)]
    for rate in (1, 10, 50):
        chosen = [i for i in ids if sampled(i, rate)]
        # Independently: the hash's first 8 bytes as a fraction of 2**64, below the rate.
        expected = [
            i for i in ids if int(hashlib.blake2b(i.encode(), digest_size=8).hexdigest(), 16) / 2**64 < rate / 100
        ]
        assert chosen == expected
        # A binomial count: within five standard deviations of rate% of the traces.
        mean = len(ids) * rate / 100
        assert abs(len(chosen) - mean) < 5 * math.sqrt(mean * (1 - rate / 100))
    assert all(sampled(i, 100) for i in ids)
    # The same trace, the same answer, and a trace in at 10% is in at every higher rate.
    assert all(sampled(i, 50) for i in ids if sampled(i, 10))


def test_metrics_are_ids_or_descriptions_that_make_an_ai_metric_once(engine, project_id):
    with session_scope(engine) as session:
        existing = Metric(project_id=project_id, name="exact", eval_type="heuristic", output_type="boolean")
        session.add(existing)
        session.flush()
        first = monitor_settings.resolve_metrics(session, project_id, [str(existing.id), "Check the answer is concise"])
        again = monitor_settings.resolve_metrics(session, project_id, ["Check the answer is concise", existing.id])
        assert again == [first[1], first[0]]
        made = session.get_one(Metric, first[1])
        assert (made.eval_type, made.output_type, made.guidelines) == ("ai", "boolean", "Check the answer is concise")
        assert made.eval_model_name  # the defaults every AI metric gets
        with pytest.raises(InvalidField, match=r"metrics\[0\].*999.*not in this project"):
            monitor_settings.resolve_metrics(session, project_id, ["999"])
        with pytest.raises(InvalidField, match=r"metrics\[1\]. is empty"):
            monitor_settings.resolve_metrics(session, project_id, ["ok", "  "])


def test_settings_out_of_range_are_refused_naming_the_field():
    with pytest.raises(InvalidField, match="frequencyMinutes"):
        monitor_settings.check_frequency(24 * 60 + 1)
    with pytest.raises(InvalidField, match="sampleRate"):
        monitor_settings.check_sample_rate(0)
    with pytest.raises(InvalidField, match=r"filter.spanName. is not a valid regular expression"):
        monitor_settings.check_span_name("chat(")


def test_a_cycle_turns_the_sampled_chat_spans_into_a_monitor_run(engine, project_id):
    monitor_id = add_monitor(engine, project_id, sample_rate=100)
    received = NOW - timedelta(minutes=10)
    store_rows(
        engine,
        [chat_row(project_id, n, received) for n in range(1, 6)]
        + [chat_row(project_id, 6, received, prompt="", answer="")]  # no model call: not a candidate
        + [chat_row(project_id, 7, NOW - timedelta(hours=2))],  # before the window
    )
    result = MonitorCycles(engine).run_cycle(monitor_id, None, NOW)
    assert (result.cycle.trigger, result.cycle.candidates, result.cycle.sampled) == ("schedule", 5, 5)
    assert result.run is not None and result.run.source == "monitor"
    assert result.run.status == "awaiting_scoring"
    assert result.run.notes.startswith("Monitor “chat-app”: spans received")
    records = records_of(engine, id_of(result.run))
    assert [r.inputs for r in records] == [
        {"messages": [{"role": "user", "content": f"question {n}"}]} for n in range(1, 6)
    ]
    assert [r.outputs for r in records] == [{"response": f"answer {n}"} for n in range(1, 6)]
    assert records[0].call_metadata["traceId"] == trace_id_of(1)
    assert records[0].call_metadata["usage"] == {"inputTokens": 7, "outputTokens": 2}
    with session_scope(engine) as session:
        monitor = session.get_one(Monitor, monitor_id)
        assert monitor.next_cycle_at == NOW + timedelta(minutes=60)
        assert monitor.sampled_through == NOW - timedelta(seconds=60)  # the settle time
        assert monitor.cycle_token is None
        links = session.exec(select(MonitorSample.record_id)).all()
        assert sorted(links) == [r.id for r in records]


def test_filters_and_sample_rate_choose_the_spans(engine, project_id):
    monitor_id = add_monitor(
        engine, project_id, sample_rate=50, service_name="chat-app", span_name=r"^chat\b", search="REFUND"
    )
    received = NOW - timedelta(minutes=5)
    rows = [chat_row(project_id, n, received, prompt=f"refund please {n}") for n in range(1, 201)]
    rows += [chat_row(project_id, 300, received, service="other", prompt="refund")]
    rows += [chat_row(project_id, 301, received, name="embed", prompt="refund")]
    rows += [chat_row(project_id, 302, received, prompt="hello")]
    rows += [chat_row(project_id, 303, received, prompt="x", answer="100%_refund")]  # LIKE wildcards are text
    store_rows(engine, rows)
    result = MonitorCycles(engine).run_cycle(monitor_id, None, NOW)
    matching = list(range(1, 201)) + [303]
    assert result.cycle.candidates == len(matching)
    expected = [trace_id_of(n) for n in matching if sampled(trace_id_of(n), 50)]
    assert result.run is not None
    assert [r.call_metadata["traceId"] for r in records_of(engine, id_of(result.run))] == expected
    assert 60 < len(expected) < 140


def test_a_span_is_never_sampled_twice_by_one_monitor(engine, project_id):
    monitor_id = add_monitor(engine, project_id, sample_rate=100)
    store_rows(engine, [chat_row(project_id, n, NOW - timedelta(minutes=3)) for n in range(1, 4)])
    cycles = MonitorCycles(engine)
    first = cycles.run_cycle(monitor_id, 30, NOW)
    store_rows(engine, [chat_row(project_id, 4, NOW - timedelta(minutes=1))])
    second = cycles.run_cycle(monitor_id, 30, NOW)  # the same window, and one more span
    scheduled = cycles.run_cycle(monitor_id, None, NOW + timedelta(minutes=5))
    assert (first.cycle.sampled, second.cycle.sampled, scheduled.cycle.sampled) == (3, 1, 0)
    assert scheduled.run is None
    # Another monitor samples them afresh.
    other = add_monitor(engine, project_id, "another", sample_rate=100, search="question")
    assert cycles.run_cycle(other, 30, NOW).cycle.sampled == 4


def test_the_schedule_runs_due_cycles_once_and_late_spans_in_the_next(engine, project_id):
    monitor_id = add_monitor(engine, project_id, sample_rate=100, frequency_minutes=5)
    paused = add_monitor(engine, project_id, "paused", sample_rate=100, active=False)
    cycles = MonitorCycles(engine, settle_seconds=60)
    store_rows(engine, [chat_row(project_id, 1, NOW - timedelta(minutes=2))])
    store_rows(engine, [chat_row(project_id, 2, NOW - timedelta(seconds=10))])  # still settling
    assert cycles.run_due(NOW - timedelta(minutes=1)) == []  # not due yet
    done = cycles.run_due(NOW)
    assert len(done) == 1
    with pytest.raises(CycleTaken):
        cycles.run_cycle(monitor_id, None, NOW)  # ran; the next is due in five minutes
    with pytest.raises(CycleTaken):
        cycles.run_cycle(paused, None, NOW)
    later = cycles.run_due(NOW + timedelta(minutes=5))
    with session_scope(engine) as session:
        sampled_per_cycle = [
            c.sampled for c in session.exec(select(MonitorCycle).where(col(MonitorCycle.id).in_(done + later)))
        ]
        monitor = session.get_one(Monitor, monitor_id)
    assert sampled_per_cycle == [1, 1]
    # Down for an hour: the next cycle is due at once and its window covers the whole gap.
    store_rows(engine, [chat_row(project_id, n, NOW + timedelta(minutes=20 + n)) for n in range(3, 6)])
    assert monitor.next_cycle_at == NOW + timedelta(minutes=10)
    back = cycles.run_due(NOW + timedelta(hours=1))
    with session_scope(engine) as session:
        assert session.get_one(MonitorCycle, back[0]).sampled == 3
        assert session.get_one(Monitor, monitor_id).next_cycle_at == NOW + timedelta(hours=1, minutes=5)


def test_a_cycle_claimed_by_a_process_that_died_is_run_once_after_its_lease(engine, project_id):
    monitor_id = add_monitor(engine, project_id, sample_rate=100)
    store_rows(engine, [chat_row(project_id, n, NOW - timedelta(minutes=5)) for n in range(1, 4)])
    dead = MonitorCycles(engine)
    token = dead._claim(monitor_id, scheduled=True, now=NOW)  # claimed, then the process died
    alive = MonitorCycles(engine)
    with pytest.raises(CycleTaken):
        alive.run_cycle(monitor_id, None, NOW + timedelta(minutes=1))
    assert alive.run_due(NOW + timedelta(minutes=1)) == []
    taken_over = alive.run_due(NOW + monitors.CYCLE_LEASE + timedelta(seconds=1))
    assert len(taken_over) == 1
    with session_scope(engine) as session, pytest.raises(CycleTaken, match="taken over"):
        MonitorCycles._hold(session, monitor_id, token)  # the first process, back, stores nothing
    with session_scope(engine) as session:
        assert len(session.exec(select(MonitorCycle)).all()) == 1
        assert len(session.exec(select(Run)).all()) == 1
        assert len(session.exec(select(Record)).all()) == 3


CYCLE_IN_A_CHILD = """
import sys
from datetime import datetime
from scorecard_core.db import make_engine
from scorecard_core.monitors import MonitorCycles
MonitorCycles(make_engine(sys.argv[1])).run_cycle(int(sys.argv[2]), None, datetime.fromisoformat(sys.argv[3]))
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # a table lock holds the cycle mid-way
def test_a_process_killed_mid_cycle_stores_nothing_and_the_cycle_runs_once_later(engine, database_url, project_id):
    monitor_id = add_monitor(engine, project_id, sample_rate=100)
    store_rows(engine, [chat_row(project_id, n, NOW - timedelta(minutes=5)) for n in range(1, 4)])
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE monitor_sample IN ACCESS EXCLUSIVE MODE"))
        child = subprocess.Popen(
            [sys.executable, "-c", CYCLE_IN_A_CHILD, database_url, str(monitor_id), NOW.isoformat()]
        )
        try:
            eventually(lambda: waiting_on_a_lock(engine), "the child's cycle to reach the sampled spans")
            with session_scope(engine) as session:
                assert session.get_one(Monitor, monitor_id).cycle_token is not None  # claimed, mid-cycle
        finally:
            child.kill()
            child.wait()
        blocker.rollback()
    cycles = MonitorCycles(engine)
    with session_scope(engine) as session:
        assert session.exec(select(MonitorCycle)).all() == []  # nothing of the cycle was stored
    assert cycles.run_due(NOW + timedelta(minutes=1)) == []  # its lease still holds
    assert len(cycles.run_due(NOW + monitors.CYCLE_LEASE + timedelta(seconds=1))) == 1
    with session_scope(engine) as session:
        assert [c.sampled for c in session.exec(select(MonitorCycle))] == [3]
        assert len(session.exec(select(Record)).all()) == 3


def waiting_on_a_lock(engine) -> bool:
    with engine.connect() as connection:
        query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        return bool(connection.execute(text(query)).scalar())


def test_a_full_cycle_stops_at_its_last_span_and_the_next_goes_on_from_there(engine, project_id):
    monitor_id = add_monitor(engine, project_id, sample_rate=100, frequency_minutes=5)
    same_moment = NOW - timedelta(minutes=3)
    store_rows(engine, [chat_row(project_id, n, same_moment) for n in range(1, 6)])  # five received at once
    store_rows(engine, [chat_row(project_id, 6, NOW - timedelta(minutes=2))])
    cycles = MonitorCycles(engine, max_records=4)
    first = cycles.run_cycle(monitor_id, None, NOW)
    assert (first.cycle.sampled, first.cycle.window_end) == (4, same_moment)
    second = cycles.run_cycle(monitor_id, None, NOW + timedelta(minutes=5))
    assert second.cycle.sampled == 2 and second.run is not None
    taken = [r.call_metadata["traceId"] for run in (first.run, second.run) for r in records_of(engine, id_of(run))]
    assert sorted(taken) == [trace_id_of(n) for n in range(1, 7)]
