"""API keys over real HTTP: who gets in, who gets 401, and the real ``scorecard api-key`` CLI.

The CLI runs as a subprocess against the live server's own database (SQLite and PostgreSQL), so
a key it creates or revokes takes effect on the running server at once.
"""

from __future__ import annotations

import hashlib

import requests
from sqlalchemy import create_engine, select
from sqlmodel import SQLModel

from scorecard_core import models
from tests.support.processes import run_cli

from .test_bad_input import assert_error

PROTECTED = [
    ("GET", "/projects", None),
    ("POST", "/projects", {"name": "intruder"}),
    ("GET", "/projects/1/runs", None),
    ("GET", "/runs/1", None),
    ("POST", "/runs/1/records/batch", {"items": [{"inputs": {}, "outputs": {}}]}),
    ("PUT", "/records/1/scores/x", {"score": {}}),
    ("DELETE", "/testsets/1", None),
]


def refused_headers(valid_key: str) -> dict[str, dict[str, str]]:
    return {
        "no header": {},
        "empty header": {"Authorization": ""},
        "wrong key": {"Authorization": "Bearer ak_" + "x" * 43},
        "no key": {"Authorization": "Bearer"},
        "blank key": {"Authorization": "Bearer    "},
        "basic scheme": {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="},
        "other scheme": {"Authorization": f"Token {valid_key}"},
        "no scheme": {"Authorization": valid_key},
        "no space": {"Authorization": f"Bearer{valid_key}"},
        "trailing junk": {"Authorization": f"Bearer {valid_key} extra"},
        "truncated key": {"Authorization": f"Bearer {valid_key[:-1]}"},
        "key as query": {},  # sent below as ?api_key=..., which is not a way to authenticate
    }


def test_requests_without_a_valid_key_get_401_and_change_nothing(server, api_key):
    for label, headers in refused_headers(api_key).items():
        for method, path, body in PROTECTED:
            params = {"api_key": api_key} if label == "key as query" else None
            response = requests.request(
                method, server.api_url + path, headers=headers, json=body, params=params, timeout=30
            )
            try:
                assert_error(response, 401)
            except AssertionError as exc:
                raise AssertionError(f"{label}: {method} {path}: {exc}") from None
    valid = {"Authorization": f"Bearer {api_key}"}
    projects = requests.get(f"{server.api_url}/projects", headers=valid, timeout=30)
    assert projects.status_code == 200 and projects.json()["data"] == []


def test_missing_key_message_says_how_to_get_one(server):
    body = assert_error(requests.get(f"{server.api_url}/projects", timeout=30), 401)
    assert "Authorization: Bearer" in body["message"] and "scorecard api-key create" in body["message"]


def test_a_valid_key_works_with_any_scheme_case(server, api_key):
    for scheme in ("Bearer", "bearer", "BEARER"):
        headers = {"Authorization": f"{scheme} {api_key}"}
        created = requests.post(f"{server.api_url}/projects", json={"name": scheme}, headers=headers, timeout=30)
        assert created.status_code == 201, created.text
    listed = requests.get(f"{server.api_url}/projects", headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
    assert [p["name"] for p in listed.json()["data"]] == ["Bearer", "bearer", "BEARER"]


def test_openapi_document_needs_no_key(server):
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        response = requests.get(f"{server.api_url}/openapi.json", headers=headers, timeout=30)
        assert response.status_code == 200, response.text[:300]
        assert response.json()["openapi"].startswith("3.")


def stored_text(database_url: str) -> str:
    """Every value in every table, as one string to search."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return "\n".join(
                repr(tuple(row)) for table in SQLModel.metadata.sorted_tables for row in conn.execute(select(table))
            )
    finally:
        engine.dispose()


def test_cli_created_key_works_at_once_and_only_its_hash_is_stored(server, database_url):
    created = run_cli("api-key", "create", "--name", "ci-bot", "--database-url", database_url)
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ak_"), created.stdout
    key = lines[0]

    response = requests.get(f"{server.api_url}/projects", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert response.status_code == 200, response.text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(models.ApiKey.__table__).where(models.ApiKey.name == "ci-bot")).mappings().all()
    finally:
        engine.dispose()
    assert len(rows) == 1
    assert rows[0]["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert rows[0]["prefix"] == key[:10] and rows[0]["revoked_at"] is None
    assert key not in stored_text(database_url)


def test_cli_revocation_takes_effect_on_the_running_server(server, database_url, api_key):
    key = run_cli("api-key", "create", "--name", "leaked", "--database-url", database_url).stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    assert requests.get(f"{server.api_url}/projects", headers=headers, timeout=30).status_code == 200

    revoked = run_cli("api-key", "revoke", "leaked", database_url=database_url)  # URL from the environment
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked 1 key(s)" in revoked.stdout

    body = assert_error(requests.get(f"{server.api_url}/projects", headers=headers, timeout=30), 401)
    assert "revoked" in body["message"]
    write = requests.post(f"{server.api_url}/projects", json={"name": "after revoke"}, headers=headers, timeout=30)
    assert_error(write, 401)
    # Other keys are untouched.
    others = requests.get(f"{server.api_url}/projects", headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
    assert others.status_code == 200 and others.json()["total"] == 0

    listed = run_cli("api-key", "list", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    states = {line.split("\t")[0]: line.split("\t")[-1] for line in listed.stdout.splitlines()}
    assert states["leaked"].startswith("revoked") and states["test"] == "active"
    assert key not in listed.stdout

    again = run_cli("api-key", "revoke", "leaked", database_url=database_url)
    assert again.returncode == 1
    assert again.stderr.startswith("error: ") and "Traceback" not in again.stderr
