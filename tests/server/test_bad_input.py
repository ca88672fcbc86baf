"""Bad input over real HTTP: every mistake a client can make gets a clear 4xx in Scorecard's error
shape, never a 500, and leaves everything already stored exactly as it was.

Runs on SQLite and PostgreSQL (the ``server`` fixture). Each resource family sends its bad
requests against a small stored world; after every request the whole database is compared with
a snapshot taken before.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlmodel import SQLModel

from scorecard_core import models  # noqa: F401  (registers every table on the metadata)

BODY_LIMIT = 15 * 1024 * 1024
UNKNOWN = "987654321"
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"
TOO_BIG_ID = 10**30
CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    500: "INTERNAL_ERROR",
}
SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question"],
}
MAPPING = {"inputs": ["question"], "expected": ["answer"], "metadata": []}


def assert_error(response: requests.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is ``status`` in Scorecard's error shape; a 400 about a field names it."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:300]}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["code"] == CODES[status], body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["details"], dict), body
    if field is not None:
        assert f"`{field}`" in body["message"], body
        assert body["details"].get("field") == field, body
    return body


@dataclass(frozen=True)
class Bad:
    """One bad request: ``path`` is formatted with the world's IDs; ``body`` is JSON, or raw bytes."""

    method: str
    path: str
    body: Any = None
    status: int = 400
    field: str | None = None

    def send(self, http: requests.Session, api_url: str, world: dict[str, str]) -> requests.Response:
        url = api_url + self.path.format(**world)
        if isinstance(self.body, bytes) or self.body is None:
            return http.request(self.method, url, data=self.body, timeout=60)
        return http.request(self.method, url, json=self.body, timeout=60)

    def __str__(self) -> str:
        return f"{self.method} {self.path} {str(self.body)[:80]}"


@pytest.fixture
def http(server, api_key) -> Iterator[requests.Session]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"
    yield session
    session.close()


@pytest.fixture
def world(client) -> dict[str, str]:
    """One of everything, through the API: the data that bad requests must not disturb."""
    project = client.post("/projects", {"name": "Kept", "description": "must survive"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {"name": "Capitals", "description": "", "jsonSchema": SCHEMA, "fieldMapping": MAPPING},
    )
    testcases = client.post(
        f"/testsets/{testset['id']}/testcases",
        {"items": [{"jsonData": {"question": f"q{i}", "answer": f"a{i}"}} for i in range(3)]},
    )["items"]
    # Human metrics: nothing scores them in the background, so the stored world stays still.
    in_project = f"/projects/{project['id']}"
    metric = client.post(f"{in_project}/metrics", {"name": "Judged", "evalType": "human", "outputType": "boolean"})
    rated = client.post(f"{in_project}/metrics", {"name": "Rated", "evalType": "human", "outputType": "int"})
    group = client.post(f"{in_project}/metric-groups", {"name": "All", "metricIds": [metric["id"], rated["id"]]})
    system = client.post(f"{in_project}/systems", {"name": "Echo", "config": {"model": "echo-1"}})
    version = client.post(f"/systems/{system['id']}/versions", {"config": {"model": "echo-2"}, "name": "v2"})
    run = client.post(
        f"{in_project}/runs",
        {"metricIds": [metric["id"], rated["id"]], "testsetId": testset["id"], "systemVersionId": version["id"]},
    )
    record = client.post(
        f"/runs/{run['id']}/records",
        {
            "inputs": {"question": "q0"},
            "expected": {"answer": "a0"},
            "outputs": {"answer": "a0"},
            "testcaseId": testcases[0]["id"],
        },
    )
    client.post(
        f"/runs/{run['id']}/records/batch",
        {"items": [{"inputs": {"question": "q1"}, "outputs": {"answer": "?"}, "testcaseId": testcases[1]["id"]}]},
    )
    metric_config = run["metricVersionIds"][0]
    client.put(f"/records/{record['id']}/scores/{metric_config}", {"score": {"binaryScore": True, "reasoning": "s"}})
    monitor = client.put(f"{in_project}/monitors", {"description": "Watch", "metrics": [metric["id"]]})
    return {
        "project": project["id"],
        "testset": testset["id"],
        "testcase": testcases[0]["id"],
        "metric": metric["id"],
        "rated": rated["id"],
        "group": group["id"],
        "system": system["id"],
        "version": version["id"],
        "run": run["id"],
        "record": record["id"],
        "metric_config": metric_config,
        "monitor": monitor["id"],
    }


@pytest.fixture
def stored(database_url) -> Iterator[Callable[[], dict[str, list[dict[str, Any]]]]]:
    """A function returning every stored row of every table but the API keys, in key order."""
    engine = create_engine(database_url)
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name != "api_key"]

    def snapshot() -> dict[str, list[dict[str, Any]]]:
        with engine.connect() as conn:
            return {
                t.name: [dict(row._mapping) for row in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in tables
            }

    yield snapshot
    engine.dispose()


def check_all(cases: list[Bad], http, server, world, stored) -> None:
    """Send every case; collect each wrong answer or data change, then fail once with them all."""
    before = stored()
    assert sum(len(rows) for rows in before.values()) > 10
    failures = []
    for case in cases:
        response = case.send(http, server.api_url, world)
        try:
            assert_error(response, case.status, case.field)
        except AssertionError as exc:
            failures.append(f"{case}: {exc}")
        if stored() != before:
            failures.append(f"{case}: stored data changed")
            before = stored()
    assert not failures, "\n".join(failures)


def cursor_of(raw: bytes) -> str:
    """A cursor in the server's encoding around arbitrary JSON text."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def pagination_cases(path: str) -> list[Bad]:
    return [
        Bad("GET", f"{path}?limit=0", field="limit"),
        Bad("GET", f"{path}?limit=101", field="limit"),
        Bad("GET", f"{path}?limit=abc", field="limit"),
        Bad("GET", f"{path}?limit=-1", field="limit"),
        Bad("GET", f"{path}?limit=%C2%B2", field="limit"),  # a Unicode digit int() cannot read
        Bad("GET", f"{path}?cursor=not-a-cursor!", field="cursor"),
        *(
            Bad("GET", f"{path}?cursor={cursor_of(raw)}", field="cursor")
            for raw in (b"[" * 5000 + b"]" * 5000, b'"a\\u0000"', str(10**30).encode(), b"true", b"null", b"{}")
        ),
    ]


def unknown_id_cases(method: str, template: str, body: Any = None) -> list[Bad]:
    """``template`` has one ``{}`` for the ID: unknown numeric, non-numeric and oversized all 404."""
    ids = (UNKNOWN, "abc", "12abc", "%C2%B2", "99999999999999999999999", "a%00b")
    return [Bad(method, template.replace("{}", i), body, status=404) for i in ids]


TESTSETS = "/projects/{project}/testsets"
TESTSET = {"name": "t", "jsonSchema": SCHEMA, "fieldMapping": MAPPING}
CASES = "/testsets/{testset}/testcases"
METRICS = "/projects/{project}/metrics"
AI_INT = {"name": "m", "evalType": "ai", "outputType": "int"}
HUMAN_INT = {"evalType": "human", "outputType": "int"}
GROUPS = "/projects/{project}/metric-groups"
RUNS = "/projects/{project}/runs"
RECORD = {"inputs": {}, "outputs": {}}
BATCH = "/runs/{run}/records/batch"

FAMILIES: dict[str, list[Bad]] = {
    "projects": [
        Bad("POST", "/projects", {"description": "no name"}, field="name"),
        Bad("POST", "/projects", {"name": 5}, field="name"),
        Bad("POST", "/projects", {"name": None}, field="name"),
        Bad("POST", "/projects", {"name": "x", "description": ["a"]}, field="description"),
        *pagination_cases("/projects"),
        *unknown_id_cases("GET", "/projects/{}/testsets"),
    ],
    "testsets": [
        Bad("POST", TESTSETS, {"jsonSchema": SCHEMA, "fieldMapping": MAPPING}, field="name"),
        Bad("POST", TESTSETS, {"name": "t", "fieldMapping": MAPPING}, field="jsonSchema"),
        Bad("POST", TESTSETS, {"name": "t", "jsonSchema": SCHEMA}, field="fieldMapping"),
        Bad("POST", TESTSETS, {**TESTSET, "jsonSchema": "object"}, field="jsonSchema"),
        Bad("POST", TESTSETS, {**TESTSET, "jsonSchema": {"type": "nope"}}, field="jsonSchema"),
        Bad("POST", TESTSETS, {**TESTSET, "fieldMapping": {"inputs": "question"}}, field="fieldMapping.inputs"),
        Bad("POST", TESTSETS, {**TESTSET, "fieldMapping": {"outputs": []}}, field="fieldMapping.outputs"),
        Bad("PATCH", "/testsets/{testset}", {"name": 5}, field="name"),
        Bad("PATCH", "/testsets/{testset}", {"jsonSchema": {"pattern": "("}}, field="jsonSchema"),
        *unknown_id_cases("POST", "/projects/{}/testsets", TESTSET),
        *unknown_id_cases("GET", "/testsets/{}"),
        *unknown_id_cases("PATCH", "/testsets/{}", {"name": "t"}),
        *unknown_id_cases("DELETE", "/testsets/{}"),
        *pagination_cases(TESTSETS),
    ],
    "testcases": [
        Bad("POST", CASES, {}, field="items"),
        Bad("POST", CASES, {"items": []}, field="items"),
        Bad("POST", CASES, {"items": [{"jsonData": {}}] * 101}, field="items"),
        Bad("POST", CASES, {"items": [{}]}, field="items.0.jsonData"),
        Bad("POST", CASES, {"items": [{"jsonData": {}}, {"jsonData": "text"}]}, field="items.1.jsonData"),
        Bad("PUT", "/testcases/{testcase}", {"jsonData": []}, field="jsonData"),
        Bad("PUT", "/testcases/{testcase}", {}, field="jsonData"),
        Bad("POST", "/testcases/bulk-delete", {"ids": []}, field="ids"),
        Bad("POST", "/testcases/bulk-delete", {"ids": ["x"]}, field="ids.0"),
        Bad("POST", "/testcases/bulk-delete", {"ids": [TOO_BIG_ID]}, field="ids.0"),
        *unknown_id_cases("POST", "/testsets/{}/testcases", {"items": [{"jsonData": {}}]}),
        *unknown_id_cases("GET", "/testsets/{}/testcases"),
        *unknown_id_cases("GET", "/testcases/{}"),
        *unknown_id_cases("PUT", "/testcases/{}", {"jsonData": {}}),
        *pagination_cases(CASES),
    ],
    "metrics": [
        Bad("POST", METRICS, HUMAN_INT, field="name"),
        Bad("POST", METRICS, {"name": "m", "outputType": "int"}, field="evalType"),
        Bad("POST", METRICS, {**AI_INT, "evalType": "robot"}, field="evalType"),
        Bad("POST", METRICS, {"name": "m", "evalType": "ai"}, field="outputType"),
        Bad("POST", METRICS, {**AI_INT, "passingThreshold": 7}, field="passingThreshold"),
        Bad("POST", METRICS, {**AI_INT, "outputType": "float", "passingThreshold": 10**400}, field="passingThreshold"),
        Bad("POST", METRICS, {**AI_INT, "temperature": "hot"}, field="temperature"),
        Bad("POST", METRICS, {**AI_INT, "temperature": 3}, field="temperature"),
        Bad("PATCH", "/metrics/{metric}", {"name": "renamed"}, field="evalType"),
        Bad("PATCH", "/metrics/{metric}", {"evalType": "human"}, field="outputType"),
        Bad("PATCH", "/metrics/{rated}", {**HUMAN_INT, "passingThreshold": 9}, field="passingThreshold"),
        Bad("PATCH", "/metrics/{rated}", {**HUMAN_INT, "guidelines": 5}, field="guidelines"),
        *unknown_id_cases("POST", "/projects/{}/metrics", {**HUMAN_INT, "name": "m"}),
        *unknown_id_cases("GET", "/metrics/{}"),
        *unknown_id_cases("PATCH", "/metrics/{}", HUMAN_INT),
        *unknown_id_cases("DELETE", "/metrics/{}"),
        *pagination_cases(METRICS),
    ],
    "metric-groups": [
        Bad("POST", GROUPS, {"metricIds": ["1"]}, field="name"),
        Bad("POST", GROUPS, {"name": "g", "metricIds": "1"}, field="metricIds"),
        Bad("POST", GROUPS, {"name": "g", "metricIds": ["abc"]}, field="metricIds.0"),
        Bad("POST", GROUPS, {"name": "g", "metricIds": [1, True]}, field="metricIds.1"),
        Bad("POST", GROUPS, {"name": "g", "metricIds": [TOO_BIG_ID]}, field="metricIds.0"),
        Bad("POST", GROUPS, {"name": "g", "metricIds": [UNKNOWN]}, status=404),
        Bad("PATCH", "/metric-groups/{group}", {"metricIds": [None]}, field="metricIds.0"),
        Bad("PATCH", "/metric-groups/{group}", {"metricIds": [UNKNOWN]}, status=404),
        Bad("PATCH", "/metric-groups/{group}", {"name": 5}, field="name"),
        *unknown_id_cases("GET", "/metric-groups/{}"),
        *unknown_id_cases("PATCH", "/metric-groups/{}", {"name": "g"}),
        *unknown_id_cases("DELETE", "/metric-groups/{}"),
        *pagination_cases(GROUPS),
    ],
    "systems": [
        Bad("POST", "/projects/{project}/systems", {"name": "s"}, field="config"),
        Bad("POST", "/projects/{project}/systems", {"config": "model=x"}, field="config"),
        Bad("POST", "/projects/{project}/systems", {"config": {}, "name": 3}, field="name"),
        Bad("PATCH", "/systems/{system}", {"productionVersionId": "nope"}, field="productionVersionId"),
        Bad("PATCH", "/systems/{system}", {"description": []}, field="description"),
        Bad("POST", "/systems/{system}/versions", {"config": 5}, field="config"),
        Bad("POST", "/systems/{system}/versions", {"name": "v"}, field="config"),
        *unknown_id_cases("POST", "/projects/{}/systems", {"config": {}}),
        *(Bad("GET", f"/systems/{i}", status=404) for i in ("nope", UNKNOWN_UUID, UNKNOWN, "a%00b")),
        Bad("PATCH", f"/systems/{UNKNOWN_UUID}", {"name": "s"}, status=404),
        Bad("DELETE", f"/systems/{UNKNOWN_UUID}", status=404),
        Bad("POST", f"/systems/{UNKNOWN_UUID}/versions", {"config": {}}, status=404),
        *(Bad("GET", f"/systems/versions/{i}", status=404) for i in ("nope", UNKNOWN_UUID, "a%00b")),
        *pagination_cases("/projects/{project}/systems"),
        Bad("GET", "/projects/{project}/systems?cursor=" + cursor_of(b"5"), field="cursor"),  # system IDs are strings
    ],
    "runs": [
        Bad("POST", RUNS, {}, field="metricIds"),
        Bad("POST", RUNS, {"metricIds": "1"}, field="metricIds"),
        Bad("POST", RUNS, {"metricIds": ["abc"]}, field="metricIds.0"),
        Bad("POST", RUNS, {"metricIds": [1.5]}, field="metricIds.0"),
        Bad("POST", RUNS, {"metricIds": [TOO_BIG_ID]}, field="metricIds.0"),
        Bad("POST", RUNS, {"metricIds": [UNKNOWN]}, status=404),
        Bad("POST", RUNS, {"metricIds": [], "testsetId": TOO_BIG_ID}, field="testsetId"),
        Bad("POST", RUNS, {"metricIds": [], "testsetId": UNKNOWN}, status=404),
        Bad("POST", RUNS, {"metricIds": [], "systemVersionId": UNKNOWN_UUID}, status=404),
        Bad("POST", RUNS, {"metricIds": [], "source": "fax"}, field="source"),
        Bad("POST", RUNS, {"metricIds": [], "git": {"prNumber": "12"}}, field="git.prNumber"),
        Bad("PATCH", "/runs/{run}", {"status": "completed"}, field="status"),
        Bad("PATCH", "/runs/{run}", {"status": 5}, field="status"),
        Bad("PATCH", "/runs/{run}", {"notes": ["n"]}, field="notes"),
        *unknown_id_cases("POST", "/projects/{}/runs", {"metricIds": []}),
        *unknown_id_cases("GET", "/runs/{}"),
        *unknown_id_cases("PATCH", "/runs/{}", {"notes": "n"}),
        *pagination_cases(RUNS),
        Bad("GET", f"{RUNS}?cursor=" + cursor_of(b'"abc"'), field="cursor"),  # run IDs are integers
    ],
    "records": [
        Bad("POST", "/runs/{run}/records", {"inputs": {}}, field="outputs"),
        Bad("POST", "/runs/{run}/records", {"inputs": "q", "outputs": {}}, field="inputs"),
        Bad("POST", "/runs/{run}/records", {**RECORD, "expected": 5}, field="expected"),
        Bad("POST", "/runs/{run}/records", {**RECORD, "testcaseId": "abc"}, field="testcaseId"),
        Bad("POST", "/runs/{run}/records", {**RECORD, "testcaseId": TOO_BIG_ID}, field="testcaseId"),
        Bad("POST", "/runs/{run}/records", {**RECORD, "testcaseId": UNKNOWN}, status=404),
        Bad("POST", BATCH, {}, field="items"),
        Bad("POST", BATCH, {"items": []}, field="items"),
        Bad("POST", BATCH, {"items": [{"inputs": {}, "outputs": 5}]}, field="items.0.outputs"),
        Bad("POST", BATCH, {"items": [{**RECORD, "trial": -1}]}, field="items.0.trial"),
        Bad("POST", BATCH, {"items": [{**RECORD, "idempotencyKey": ""}]}, field="items.0.idempotencyKey"),
        # One bad item refuses the whole batch: the good first item is not stored either.
        Bad("POST", BATCH, {"items": [RECORD, {**RECORD, "testcaseId": UNKNOWN}]}, status=404),
        *unknown_id_cases("POST", "/runs/{}/records", RECORD),
        *unknown_id_cases("POST", "/runs/{}/records/batch", {"items": [RECORD]}),
        *unknown_id_cases("GET", "/runs/{}/records"),
        *unknown_id_cases("DELETE", "/records/{}"),
        *pagination_cases("/runs/{run}/records"),
    ],
    "scores": [
        Bad("PUT", "/records/{record}/scores/" + UNKNOWN_UUID, {"score": {"binaryScore": False}}, status=404),
        Bad("PUT", "/records/{record}/scores/nope", {"score": {"binaryScore": False}}, status=404),
        Bad("PUT", "/records/{record}/scores/a%00b", {"score": {"binaryScore": False}}, status=404),
        Bad("PUT", "/records/{record}/scores/{metric_config}", {"score": "true"}, field="score"),
        Bad("PUT", "/records/{record}/scores/{metric_config}", {"score": {}, "userId": 7}, field="userId"),
        *unknown_id_cases("PUT", "/records/{}/scores/{metric_config}", {"score": {"binaryScore": False}}),
    ],
    "routes": [
        Bad("GET", "/nope", status=404),
        Bad("POST", "/projects/{project}/nope", {}, status=404),
        Bad("DELETE", "/projects", status=405),
        Bad("PUT", "/runs/{run}", {"notes": "n"}, status=405),
        Bad("POST", "/metrics/{metric}", {}, status=405),
        Bad("DELETE", "/runs/{run}/records", status=405),
    ],
}


@pytest.mark.parametrize("family", FAMILIES)
def test_bad_requests_are_refused_and_change_nothing(family, http, server, world, stored):
    check_all(FAMILIES[family], http, server, world, stored)


def test_unknown_routes_and_methods_answer_json(http, server, world):
    assert_error(http.get(f"{server.url}/api/v2/no/such/route", timeout=30), 404)
    response = http.delete(f"{server.api_url}/projects", timeout=30)
    assert_error(response, 405)
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


WRITES = [
    ("POST", "/projects"),
    ("POST", "/projects/{project}/testsets"),
    ("PATCH", "/testsets/{testset}"),
    ("POST", "/testsets/{testset}/testcases"),
    ("PUT", "/testcases/{testcase}"),
    ("POST", "/testcases/bulk-delete"),
    ("POST", "/projects/{project}/metrics"),
    ("PATCH", "/metrics/{metric}"),
    ("POST", "/projects/{project}/metric-groups"),
    ("PATCH", "/metric-groups/{group}"),
    ("POST", "/projects/{project}/systems"),
    ("PATCH", "/systems/{system}"),
    ("POST", "/systems/{system}/versions"),
    ("POST", "/projects/{project}/runs"),
    ("PATCH", "/runs/{run}"),
    ("POST", "/runs/{run}/records"),
    ("POST", BATCH),
    ("PUT", "/records/{record}/scores/{metric_config}"),
]


def test_bodies_over_15_mb_get_413(http, server, world, stored):
    oversized = b'{"name": "' + b"x" * BODY_LIMIT + b'"}'
    cases = [Bad(method, path, oversized, status=413) for method, path in WRITES]
    check_all(cases, http, server, world, stored)
    message = http.post(f"{server.api_url}/projects", data=oversized, timeout=60).json()["message"]
    assert "15 MB" in message


def test_chunked_body_over_15_mb_gets_413(http, server, world, stored):
    """Without a Content-Length the server stops reading at the limit."""
    before = stored()

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(16):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    assert_error(http.post(f"{server.api_url}/projects", data=chunks(), timeout=60), 413)
    assert stored() == before


def test_body_just_under_15_mb_is_accepted(http, server, world):
    description = "d" * (BODY_LIMIT - 100)
    response = http.post(f"{server.api_url}/projects", json={"name": "big", "description": description}, timeout=60)
    assert response.status_code == 201, response.text[:300]
    assert len(response.json()["description"]) == len(description)


def test_malformed_json_says_so(http, server, world, stored):
    cases = [
        Bad(method, path, raw)
        for method, path in WRITES
        for raw in (b'{"name": "x",', b"{name: 'x'}", b"\xff\xfe{}", b'{"name": NaN}', b'{"a": Infinity}')
    ]
    check_all(cases, http, server, world, stored)
    for raw in (b'{"name": "x",', b"\xff\xfe{}", b'{"name": NaN}'):
        message = http.post(f"{server.api_url}/projects", data=raw, timeout=30).json()["message"]
        assert "not valid JSON" in message, message
    message = http.post(f"{server.api_url}/projects", data=b"", timeout=30).json()["message"]
    assert "empty" in message, message


DEEP = 5000
NASTY_BODIES = {
    "array": b"[]",
    "null": b"null",
    "string": b'"projects"',
    "number": b"12",
    "array of objects": json.dumps([{"name": "x", "config": {}, "metricIds": []}]).encode(),
    "nested past the parser": b"[" * DEEP + b"]" * DEEP,
    "nested past the limit": b'{"name": "x", "a": ' + b"[" * 150 + b"]" * 150 + b"}",
    "huge int": b'{"name": ' + b"9" * 5000 + b"}",
    "overflowing float": b'{"name": "x", "config": {"a": 1e999}, "jsonData": {"a": -1e999}}',
    "not UTF-8": b'{"name": "caf\xe9"}',
    "binary": bytes(range(256)),
    "UTF-16": json.dumps({"name": "x"}).encode("utf-16"),
}


def test_nasty_payloads_never_get_5xx(http, server, world, stored):
    """Whatever the bytes, every write endpoint answers 400 and stores nothing."""
    cases = [Bad(method, path, raw) for method, path in WRITES for raw in NASTY_BODIES.values()]
    check_all(cases, http, server, world, stored)


def test_values_no_database_can_store_are_named(http, server, world):
    testcases_url = f"{server.api_url}/testsets/{world['testset']}/testcases"
    raw = b'{"items": [{"jsonData": {"q": "ok"}}, {"jsonData": {"q": [1e999]}}]}'
    assert_error(http.post(testcases_url, data=raw, timeout=30), 400, "items.1.jsonData.q.0")


def test_text_no_database_can_store_is_kept_with_a_replacement_character(http, server, world):
    """NUL and lone surrogates, in values and keys, are stored as U+FFFD on both databases rather
    than refused: one odd character in a system's output must not lose its batch of records."""
    project_url = f"{server.api_url}/projects/{world['project']}"
    testcases_url = f"{server.api_url}/testsets/{world['testset']}/testcases"
    project = http.post(f"{server.api_url}/projects", data=b'{"name": "a\\u0000b"}', timeout=30)
    assert project.status_code == 201, project.text
    listed = http.get(f"{server.api_url}/projects", timeout=30).json()["data"]
    assert [p["name"] for p in listed if p["id"] == project.json()["id"]] == ["a\ufffdb"]
    raw = b'{"name": "s", "config": {"model": {"k\\u0000": "\\u0000", "pair": "\\ud83d\\ude00", "tab": "\\t"}}}'
    system = http.post(f"{project_url}/systems", data=raw, timeout=30)
    assert system.status_code == 201, system.text
    fetched = http.get(f"{server.api_url}/systems/{system.json()['id']}", timeout=30).json()
    assert fetched["productionVersion"]["config"] == {"model": {"k\ufffd": "\ufffd", "pair": "\U0001f600", "tab": "\t"}}
    raw = b'{"items": [{"jsonData": {"q": "\\udc00", "answer": "\\ud800x"}}]}'
    created = http.post(testcases_url, data=raw, timeout=30)
    assert created.status_code == 201, created.text
    testcase = http.get(f"{server.api_url}/testcases/{created.json()['items'][0]['id']}", timeout=30).json()
    assert testcase["jsonData"] == {"q": "\ufffd", "answer": "\ufffdx"}


def test_big_numbers_inside_json_data_are_kept_exactly(http, server, world):
    """Beyond 64 bits but valid JSON: stored and returned unchanged on both databases."""
    url = f"{server.api_url}/testsets/{world['testset']}/testcases"
    data = {"question": "q", "big": 10**40, "negative": -(10**30), "tiny": 5e-324}
    created = http.post(url, json={"items": [{"jsonData": data}]}, timeout=30)
    assert created.status_code == 201, created.text
    fetched = http.get(f"{server.api_url}/testcases/{created.json()['items'][0]['id']}", timeout=30)
    assert fetched.json()["jsonData"] == data


CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "",
]


def test_wrong_content_type_never_gets_5xx(http, server, world):
    """We read the body as JSON whatever its label; a label never turns a request into a 500."""
    for content_type in CONTENT_TYPES:
        headers = {"Content-Type": content_type}
        good = http.post(f"{server.api_url}/projects", data=b'{"name": "labelled"}', headers=headers, timeout=30)
        assert good.status_code == 201, (content_type, good.text)
        form = http.post(f"{server.api_url}/projects", data=b"name=x&description=y", headers=headers, timeout=30)
        assert_error(form, 400)
