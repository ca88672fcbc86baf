"""The OpenAPI document at /api/v2/openapi.json: complete, valid, and true to what the server answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from server.api.openapi import OPERATIONS

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FLASK_ARGUMENT = re.compile(r"<[^<>]+>")
OPENAPI_PARAMETER = re.compile(r"\{[^{}]+\}")


@pytest.fixture
def document(server) -> dict[str, Any]:
    response = requests.get(f"{server.api_url}/openapi.json", timeout=10)  # no API key: the document is public
    assert response.status_code == 200, response.text
    return response.json()


def _app_routes(app) -> dict[tuple[str, str], str]:
    """(method, path with `{}` for each parameter) -> endpoint, for every /api/v2 route."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            for method in set(rule.methods) & set(HTTP_METHODS):
                routes[(method, FLASK_ARGUMENT.sub("{}", rule.rule))] = f"{rule.endpoint} ({rule.rule})"
    return routes


def _documented_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    prefix = document["servers"][0]["url"]
    return {
        (method.upper(), OPENAPI_PARAMETER.sub("{}", prefix + path))
        for path, operations in document["paths"].items()
        for method in operations
    }


def test_every_route_is_documented_and_nothing_else(server, document):
    routes = _app_routes(server.app)
    documented = _documented_routes(document)
    missing = sorted(f"{method} {path} -> {routes[method, path]}" for method, path in set(routes) - documented)
    assert not missing, (
        "routes missing from /api/v2/openapi.json; add their endpoints to OPERATIONS in server/api/openapi.py:\n  "
        + "\n  ".join(missing)
    )
    phantom = sorted(f"{method} {path}" for method, path in documented - set(routes))
    assert not phantom, f"documented but not served: {phantom}"
    stale = sorted(set(OPERATIONS) - set(server.app.view_functions))
    assert not stale, f"OPERATIONS entries for endpoints that no longer exist: {stale}"


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_security_statuses_and_pagination(document):
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearerAuth": []}]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if path == "/openapi.json":
                assert operation["security"] == [], where
                assert "401" not in operation["responses"], where
                continue
            assert "security" not in operation, f"{where} must inherit the bearer requirement"
            assert "401" in operation["responses"], where
            if "{" in path:
                assert "404" in operation["responses"], where
            if "requestBody" in operation:
                assert {"400", "413"} <= set(operation["responses"]), where
    paths = document["paths"]
    assert set(paths["/projects"]["post"]["responses"]) == {"201", "400", "401", "413"}
    assert "201" in paths["/projects/{projectId}/runs"]["post"]["responses"]
    assert "201" in paths["/runs/{runId}/records/batch"]["post"]["responses"]
    assert "200" in paths["/records/{recordId}/scores/{metricConfigId}"]["put"]["responses"]
    assert {"200", "201"} <= set(paths["/projects/{projectId}/systems"]["post"]["responses"])
    limit = document["components"]["parameters"]["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 100)
    listing = paths["/runs/{runId}/records"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/cursor"} in listing
    assert {"$ref": "#/components/parameters/limit"} in listing


def test_schemas_carry_the_request_models_and_our_extensions(document):
    schemas = document["components"]["schemas"]
    assert "metricIds" in schemas["RunCreate"]["required"]
    assert {"source", "notes", "git"} <= set(schemas["RunCreate"]["properties"])
    assert "validationErrors" in schemas["Testcase"]["properties"]
    assert "validationErrors" not in schemas["Testcase"]["required"]
    assert {"source", "notes", "git", "error", "statusDetail"} <= set(schemas["Run"]["properties"])
    assert "error" in schemas["Run"]["properties"]["status"]["enum"]
    assert "error" in schemas["Record"]["properties"]
    assert set(schemas["Score"]["properties"]["status"]["enum"]) >= {"pending", "scored", "error"}
    assert set(schemas["Error"]["required"]) == {"code", "message", "details"}
    assert set(schemas["RunPage"]["required"]) == {"data", "nextCursor", "hasMore", "total"}
    batch = document["paths"]["/runs/{runId}/records/batch"]["post"]["requestBody"]
    assert batch["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RecordBatch"}
    update = document["paths"]["/runs/{runId}"]["patch"]["requestBody"]
    assert update["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RunUpdate"}


class DocumentedApi:
    """Calls the server and checks each answer against the schema the document gives for it."""

    def __init__(self, server, document: dict[str, Any], api_key: str):
        self.server = server
        self.document = document
        self.api_key = api_key

    def call(
        self,
        method: str,
        template: str,
        status: int,
        *,
        body: Any = None,
        query: dict | None = None,
        authorized: bool = True,
        **path: str,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.api_key}"} if authorized else {}
        response = requests.request(
            method,
            self.server.api_url + template.format(**path),
            json=body,
            params=query,
            headers=headers,
            timeout=30,
        )
        assert response.status_code == status, f"{method} {template}: {response.status_code} {response.text}"
        documented = self.document["paths"][template][method.lower()]["responses"].get(str(status))
        assert documented, f"{method} {template} answered {status}, which the document does not list"
        if "$ref" in documented:
            documented = self.document["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
        media_type = response.headers["Content-Type"].split(";")[0]
        assert media_type in documented["content"], f"{method} {template} answered {media_type}"
        if media_type != "application/json":
            return response.text
        schema = {**documented["content"][media_type]["schema"], "components": self.document["components"]}
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = validator.iter_errors(response.json())
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
        assert not problems, f"{method} {template} {status} does not match the document: {problems}"
        return response.json()


TESTSET_SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question", "answer"],
}


def test_real_responses_match_the_documented_schemas(server, document, api_key):
    api = DocumentedApi(server, document, api_key)
    project = api.call("POST", "/projects", 201, body={"name": "Docs", "description": "checked"})
    api.call("GET", "/projects", 200)
    p = {"projectId": project["id"]}
    testset = api.call(
        "POST",
        "/projects/{projectId}/testsets",
        201,
        **p,
        body={
            "name": "QA",
            "jsonSchema": TESTSET_SCHEMA,
            "fieldMapping": {"inputs": ["question"], "expected": ["answer"], "metadata": []},
        },
    )
    created = api.call(
        "POST",
        "/testsets/{testsetId}/testcases",
        201,
        testsetId=testset["id"],
        body={
            "items": [{"jsonData": {"question": "2+2?", "answer": "4"}}, {"jsonData": {"question": "no answer"}}],
        },
    )["items"]
    assert created[1]["validationErrors"]
    page = api.call("GET", "/testsets/{testsetId}/testcases", 200, testsetId=testset["id"], query={"limit": 1})
    assert page["hasMore"] and page["nextCursor"]
    api.call(
        "PUT",
        "/testcases/{testcaseId}",
        200,
        testcaseId=created[1]["id"],
        body={"jsonData": {"question": "3+3?", "answer": "6"}},
    )
    api.call("PATCH", "/testsets/{testsetId}", 200, testsetId=testset["id"], body={"description": "edited"})

    human = api.call(
        "POST",
        "/projects/{projectId}/metrics",
        201,
        **p,
        body={"name": "Helpful", "evalType": "human", "outputType": "int"},
    )
    check = api.call(
        "POST",
        "/projects/{projectId}/metrics",
        201,
        **p,
        body={"name": "Own check", "evalType": "heuristic", "outputType": "boolean"},
    )
    api.call("GET", "/projects/{projectId}/metrics", 200, **p)
    api.call(
        "POST",
        "/projects/{projectId}/metric-groups",
        201,
        **p,
        body={"name": "All", "metricIds": [human["id"], check["id"]]},
    )

    system = api.call("POST", "/projects/{projectId}/systems", 201, **p, body={"name": "Echo", "config": {"m": 1}})
    api.call("POST", "/projects/{projectId}/systems", 200, **p, body={"name": "Echo", "config": {"m": 2}})
    version = api.call("POST", "/systems/{systemId}/versions", 200, systemId=system["id"], body={"config": {"m": 3}})
    api.call("GET", "/systems/versions/{versionId}", 200, versionId=version["id"])
    api.call("GET", "/systems/{systemId}", 200, systemId=system["id"])

    run = api.call(
        "POST",
        "/projects/{projectId}/runs",
        201,
        **p,
        body={
            "metricIds": [human["id"], check["id"]],
            "testsetId": testset["id"],
            "systemVersionId": version["id"],
            "source": "github",
            "notes": "from a PR",
            "git": {"repo": "octo/app", "sha": "abc123", "prNumber": 7},
        },
    )
    r = {"runId": run["id"]}
    records = api.call(
        "POST",
        "/runs/{runId}/records/batch",
        201,
        **r,
        body={
            "items": [
                {"testcaseId": created[0]["id"], "inputs": {"question": "2+2?"}, "outputs": {"answer": "4"}},
                {"testcaseId": created[1]["id"], "inputs": {"question": "3+3?"}, "outputs": {}, "error": "timed out"},
            ]
        },
    )["items"]
    extra = api.call("POST", "/runs/{runId}/records", 201, **r, body={"inputs": {"q": 1}, "outputs": {"a": 1}})
    api.call(
        "PUT",
        "/records/{recordId}/scores/{metricConfigId}",
        200,
        recordId=records[0]["id"],
        metricConfigId=run["metricVersionIds"][0],
        body={"score": {"intScore": 5, "reasoning": "good"}},
    )
    api.call("GET", "/runs/{runId}/records", 200, **r)
    api.call("DELETE", "/records/{recordId}", 200, recordId=extra["id"])
    ended = api.call("PATCH", "/runs/{runId}", 200, **r, body={"status": "awaiting_scoring", "notes": "ended early"})
    assert ended["statusDetail"]["metrics"], "statusDetail's documented shape was not exercised"
    api.call("GET", "/runs/{runId}", 200, **r)
    api.call("GET", "/projects/{projectId}/runs", 200, **p)

    baseline = api.call("POST", "/projects/{projectId}/runs", 201, **p, body={"metricIds": [human["id"]]})
    api.call("GET", "/runs/{runId}/summary", 200, **r)
    api.call("GET", "/runs/{runId}/compare", 200, **r, query={"baselineRunId": baseline["id"]})
    api.call("GET", "/projects/{projectId}/history", 200, **p, query={"metricIds": human["id"], "limit": 5})
    assert api.call("GET", "/runs/{runId}/export.csv", 200, **r).strip()
    api.call("POST", "/runs/{runId}/rescore", 200, **r, body={"metricIds": [check["id"]]})

    api.call("GET", "/projects", 401, authorized=False)
    api.call("GET", "/runs/{runId}", 404, runId="999999")
    api.call("GET", "/projects", 400, query={"limit": 0})
    api.call("POST", "/projects/{projectId}/runs", 400, **p, body={"metricIds": "all"})
    api.call("POST", "/testcases/bulk-delete", 200, body={"ids": [created[0]["id"]]})
