"""Monitors over loopback HTTP: Scorecard's Python SDK (``wrap_openai``) traces chats into our
server and a monitor turns them into a scored ``monitor`` run; the JS SDK's upsert body, at the
path it builds; settings, bad input naming its field, run now, the schedule across a restart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import update
from sqlmodel import col, select

from scorecard_core.db import make_engine, session_scope
from scorecard_core.models import Monitor, MonitorCycle, utcnow
from tests.conftest import start_server, wait_for_run
from tests.support import traced_chat
from tests.support.chat_spans import chat_row, store_rows
from tests.support.waiting import eventually

ROOT = Path(__file__).parents[2]


@pytest.fixture
def project_id(client) -> str:
    return client.post("/projects", {"name": "traced"})["id"]


def test_wrap_openai_traces_become_a_scored_monitor_run(server, client, api_key, project_id, fake_openai):
    answers = traced_chat.chats_in_a_process(fake_openai.url, f"{server.url}/otel/v1/traces", api_key, project_id, 4)
    monitor = client.put(
        f"/projects/{project_id}/monitors",
        {
            "description": "capitals",
            "metrics": ["Is the answer a city?"],
            "filter": {"serviceName": "capitals"},
            "sampleRate": 100,
        },
    )
    cycle = client.post(f"/monitors/{monitor['id']}/run", {"lookbackMinutes": 10})
    assert (cycle["cycle"]["candidates"], cycle["cycle"]["sampled"], cycle["cycle"]["trigger"]) == (4, 4, "manual")
    run = wait_for_run(client, cycle["run"]["id"])
    assert (run["source"], run["status"], run["metricIds"]) == ("monitor", "completed", monitor["metrics"])
    records = client.get(f"/runs/{run['id']}/records")["data"]
    assert sorted(r["inputs"]["messages"][0]["content"] for r in records) == sorted(traced_chat.QUESTIONS[:4])
    assert sorted(r["outputs"]["response"] for r in records) == sorted(answers)
    assert all([s["status"] for s in r["scores"]] == ["scored"] for r in records)
    # The run is in the runs list's source filter, the Records page's search and the history.
    assert [r["id"] for r in client.get(f"/projects/{project_id}/runs", source="monitor")["data"]] == [run["id"]]
    found = client.get(f"/projects/{project_id}/records", q="Kenya", filter="source:monitor")["data"]
    assert [r["runId"] for r in found] == [run["id"]]
    [history] = client.get(f"/projects/{project_id}/history")["metrics"]
    assert [point["runId"] for point in history["points"]] == [run["id"]]
    # Run again over the same window: those spans were sampled; nothing is taken twice.
    again = client.post(f"/monitors/{monitor['id']}/run", {"lookbackMinutes": 10})
    assert (again["cycle"]["sampled"], again["run"]) == (0, None)
    cycles = client.get(f"/monitors/{monitor['id']}/cycles")["data"]
    assert [c["id"] for c in cycles] == [again["cycle"]["id"], cycle["cycle"]["id"]]


def test_the_js_sdks_upsert_is_accepted_at_the_path_it_builds(server, sdk, client, project_id):
    metric = client.post(
        f"/projects/{project_id}/metrics", {"name": "exact", "evalType": "heuristic", "outputType": "boolean"}
    )
    # wrapAISDK's body, sent as its client sends it: the path "/api/v2/projects/{id}/monitors"
    # joined to a base URL that already ends in /api/v2.
    body = {
        "description": "ai-sdk-app",
        "metrics": ["Check if the response is concise", metric["id"]],
        "filter": {"serviceName": "ai-sdk-app"},
    }
    created = sdk.put(f"/api/v2/projects/{project_id}/monitors", body=body, cast_to=object)
    again = client.put(f"/projects/{project_id}/monitors", body)
    assert again["id"] == created["id"]
    assert created["filter"] == {"serviceName": "ai-sdk-app", "spanName": None, "search": None}
    assert (created["active"], created["sampleRate"], created["frequencyMinutes"]) == (True, 10, 60)
    judged, exact = created["metrics"]
    assert exact == metric["id"]
    made = client.get(f"/metrics/{judged}")
    assert (made["evalType"], made["guidelines"]) == ("ai", "Check if the response is concise")
    assert len(client.get(f"/projects/{project_id}/metrics")["data"]) == 2  # the second upsert made none
    assert [m["id"] for m in client.get(f"/projects/{project_id}/monitors")["data"]] == [created["id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"frequencyMinutes": 0}, "frequencyMinutes"),
        ({"frequencyMinutes": 24 * 60 + 1}, "frequencyMinutes"),
        ({"frequencyMinutes": "5"}, "frequencyMinutes"),
        ({"sampleRate": 101}, "sampleRate"),
        ({"filter": {"spanName": "chat("}}, "filter.spanName"),
        ({"metrics": []}, "metrics"),
        ({"metrics": ["999999"]}, "metrics[0]"),
        ({"description": "  "}, "description"),
        ({"description": "taken"}, "description"),
        ({"active": "yes"}, "active"),
    ],
)
def test_bad_settings_are_refused_naming_the_field_and_nothing_changes(
    server, api_key, client, project_id, change, field
):
    client.put(f"/projects/{project_id}/monitors", {"description": "taken", "metrics": ["Polite?"]})
    monitor = client.put(f"/projects/{project_id}/monitors", {"description": "mine", "metrics": ["Polite?"]})
    answer = requests.patch(
        f"{server.api_url}/monitors/{monitor['id']}",
        json=change,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["details"]["field"] == field
    assert client.get(f"/monitors/{monitor['id']}") == monitor


def test_settings_change_pause_resume_run_now_and_delete(server, api_key, client, project_id):
    monitor = client.put(f"/projects/{project_id}/monitors", {"description": "chat", "metrics": ["Polite?"]})
    changed = client.patch(
        f"/monitors/{monitor['id']}",
        {"frequencyMinutes": 5, "sampleRate": 50, "filter": {"spanName": "^chat", "search": "refund"}},
    )
    assert (changed["frequencyMinutes"], changed["sampleRate"]) == (5, 50)
    assert changed["filter"] == {"serviceName": None, "spanName": "^chat", "search": "refund"}
    assert client.patch(f"/monitors/{monitor['id']}", {"active": False})["nextCycleAt"] is None
    assert client.patch(f"/monitors/{monitor['id']}", {"active": True})["nextCycleAt"] is not None
    headers = {"Authorization": f"Bearer {api_key}"}
    for body, field in (({"lookbackMinutes": 0}, "lookbackMinutes"), ({"lookbackMinutes": "9"}, "lookbackMinutes")):
        answer = requests.post(f"{server.api_url}/monitors/{monitor['id']}/run", json=body, headers=headers, timeout=10)
        assert (answer.status_code, answer.json()["details"]["field"]) == (400, field)
    empty = requests.post(f"{server.api_url}/monitors/{monitor['id']}/run", headers=headers, timeout=10)
    assert empty.status_code == 201 and empty.json()["run"] is None  # no spans: no run
    assert requests.get(f"{server.api_url}/monitors/999999", headers=headers, timeout=10).status_code == 404
    assert client.request("DELETE", f"/monitors/{monitor['id']}") == {"success": True}
    assert requests.get(f"{server.api_url}/monitors/{monitor['id']}", headers=headers, timeout=10).status_code == 404


def test_run_now_while_a_cycle_runs_is_a_conflict_that_says_so(server, api_key, client, project_id):
    monitor = client.put(f"/projects/{project_id}/monitors", {"description": "chat", "metrics": ["Polite?"]})
    with session_scope(server.app.extensions["scorecard.engine"]) as session:  # another process's cycle
        session.exec(
            update(Monitor)
            .where(col(Monitor.id) == int(monitor["id"]))
            .values(cycle_token="elsewhere", cycle_lease_until=utcnow() + timedelta(minutes=5))
        )
    answer = requests.post(
        f"{server.api_url}/monitors/{monitor['id']}/run", headers={"Authorization": f"Bearer {api_key}"}, timeout=10
    )
    assert answer.status_code == 409
    assert answer.json()["message"].startswith("A cycle of this monitor is running now")
    assert client.get(f"/monitors/{monitor['id']}/cycles")["data"] == []


# SQLite only: the claim's semantics on both databases are the domain tests'; this one waits for
# the embedded schedule's next check, a few seconds.
def test_a_due_cycle_missed_while_the_server_was_down_runs_once_when_it_is_back(sqlite_url, fake_openai):
    database_url = sqlite_url
    config = {"OPENAI_BASE_URL": fake_openai.url, "OPENAI_API_KEY": "test-key", "MONITOR_SETTLE_SECONDS": 0}
    first = start_server(database_url, **config)
    key = first.new_api_key()
    headers = {"Authorization": f"Bearer {key}"}
    project_id = requests.post(f"{first.api_url}/projects", json={"name": "p"}, headers=headers, timeout=10).json()[
        "id"
    ]
    body = {"description": "chat", "metrics": ["Polite?"], "sampleRate": 100, "frequencyMinutes": 60}
    monitor = requests.put(f"{first.api_url}/projects/{project_id}/monitors", json=body, headers=headers, timeout=10)
    monitor_id = int(monitor.json()["id"])
    first.stop()
    # While the server is down: spans arrive (through another process) and the cycle falls due.
    engine = make_engine(database_url)
    store_rows(engine, [chat_row(int(project_id), n, utcnow() - timedelta(minutes=1)) for n in range(1, 4)])
    with session_scope(engine) as session:
        session.exec(
            update(Monitor)
            .where(Monitor.id == monitor_id)
            .values(next_cycle_at=utcnow() - timedelta(minutes=5), sampled_through=utcnow() - timedelta(minutes=65))
        )
    back = start_server(database_url, **config)
    try:

        def cycles():
            with session_scope(engine) as session:
                return session.exec(select(MonitorCycle)).all()

        [cycle] = eventually(cycles, "the scheduled cycle")
        assert (cycle.trigger, cycle.sampled) == ("schedule", 3)
        with session_scope(engine) as session:
            assert session.get_one(Monitor, monitor_id).next_cycle_at > utcnow() + timedelta(minutes=50)
    finally:
        back.stop()
        engine.dispose()
