"""GET /api/v2/projects/{projectId}/records over HTTP, against counts computed in Python from the
seeded records (tests/support/records_world.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from scorecard_core.db import make_engine
from tests.support.records_world import START, matches, seed


@pytest.fixture
def world(database_url, server):
    engine = make_engine(database_url)
    try:
        return seed(engine)
    finally:
        engine.dispose()


def get(server, api_key, project_id, **params):
    return requests.get(
        f"{server.api_url}/projects/{project_id}/records",
        params=params,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30,
    )


def all_pages(server, api_key, project_id, q, pills, limit=9):
    records, cursor = [], None
    while True:
        params = {"q": q, "filter": pills, "limit": limit} | ({"cursor": cursor} if cursor else {})
        answer = get(server, api_key, project_id, **params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["hasMore"] == (body["nextCursor"] is not None)
        records += body["data"]
        cursor = body["nextCursor"]
        if cursor is None:
            return records


def test_filters_and_search_agree_with_counts_from_the_seed(server, api_key, world):
    ok, grade, review = (world.metric_ids[name] for name in ("ok", "grade", "review"))
    middle = (START + timedelta(minutes=37 * 30)).isoformat()
    cases = [
        ("", []),
        ("refund", []),
        ("deliv", [f"metric.{ok}:pass"]),
        ("", [f"metric.{grade}:fail", "source:kickoff"]),
        ("", [f"metric.{ok}:error"]),
        ("", [f"metric.{ok}:pending"]),
        ("", ["review:pending", f"created<:{middle}"]),
        ("", [f"run:{world.run_ids[2]}", "testcase:103"]),
        ("warranty about", [f"created>:{middle}"]),
    ]
    for q, pills in cases:
        expected = [r for r in world.records if matches(r, q, pills, review)]
        found = all_pages(server, api_key, world.project_id, q, pills)
        assert [r["id"] for r in found] == [str(r.id) for r in expected], (q, pills)
        for body, seeded in zip(found, expected, strict=True):
            assert body["runId"] == str(seeded.run_id)
            assert len(body["scores"]) == (0 if seeded.failed_call else 3)


def test_scores_carry_their_status_and_body(server, api_key, world):
    ok = world.metric_ids["ok"]
    passing = [r for r in world.records if r.verdicts.get(ok) == "pass"]
    body = get(server, api_key, world.project_id, filter=f"metric.{ok}:pass", limit=1).json()
    record = body["data"][0]
    assert record["id"] == str(passing[0].id)
    assert {"binaryScore": True, "reasoning": "because"} in [score["score"] for score in record["scores"]]


@pytest.mark.parametrize(
    ("params", "field", "named"),
    [
        ({"filter": "color:blue"}, "filter", "unknown key `color`"),
        ({"filter": ["source:api", "metric.1:great"]}, "filter", "metric.1:great"),
        ({"filter": "created>:soon"}, "filter", "created>:soon"),
        ({"limit": "0"}, "limit", "from 1"),
        ({"cursor": "garbage"}, "cursor", "nextCursor"),
        ({"q": "x" * 501}, "q", "at most 500"),
    ],
)
def test_bad_parameters_are_400s_naming_them(server, api_key, world, params, field, named):
    answer = get(server, api_key, world.project_id, **params)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["details"]["field"] == field
    assert named in body["message"]


def test_an_unknown_project_is_404_and_a_key_is_required(server, api_key, world):
    assert get(server, api_key, 999_999).status_code == 404
    assert requests.get(f"{server.api_url}/projects/{world.project_id}/records", timeout=30).status_code == 401
