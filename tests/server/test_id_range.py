"""64-bit IDs over real HTTP, on SQLite and PostgreSQL: IDs up to 2^63-1 work everywhere; one no
64-bit key can hold (above 2^63-1, negative, fractional, not ASCII digits) answers 404 in a path
and 400 naming the field in a body or query string, never a 500, in the API and in the UI. So does
a NUL in any query parameter. Every path of the OpenAPI document is tried, so new routes are too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from scorecard_core.ids import MAX_ID
from tests.server.test_bad_input import (  # noqa: F401  (fixtures)
    RECORD,
    Bad,
    assert_error,
    check_all,
    http,
    stored,
    world,
)
from tests.server.test_ui import csrf_token, data_dir, sign_in  # noqa: F401  (fixture)

# Path IDs no row can have, each in a form that once reached the database or int().
OUT_OF_RANGE_PATH_IDS = ("9223372036854775808", "99999999999999999999999", "-1", "1.5", "1e3", "%C2%B2", "abc")
# Valid IDs of rows that do not exist: a 404 like any unknown ID (PostgreSQL's INTEGER refused them).
UNKNOWN_BIG_IDS = ("2147483648", str(MAX_ID))
OUT_OF_RANGE_BODY_IDS = (2**63, "9223372036854775808", -1, "-1", 1.5, "1e3", "²", "abc", True)
# What each path parameter of the document names in the ``world`` fixture; others get "1".
WORLD_KEYS = {
    "projectId": "project",
    "testsetId": "testset",
    "testcaseId": "testcase",
    "metricId": "metric",
    "groupId": "group",
    "systemId": "system",
    "versionId": "version",
    "runId": "run",
    "recordId": "record",
    "metricConfigId": "metric_config",
    "monitorId": "monitor",
}
PARAMETER = re.compile(r"{(\w+)}")
# Path parameters that are free text, not IDs: any value names something (or nothing, harmlessly),
# e.g. deleting a tag a record does not carry answers `deleted: 0`.
TEXT_PARAMETERS = {"text", "assigneeUserId", "sessionId"}


def document_operations(http, server) -> list[tuple[str, str, dict[str, Any]]]:
    document = http.get(f"{server.api_url}/openapi.json", timeout=30).json()
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def with_ids(path: str, world: dict[str, str], bad_name: str | None = None, bad_value: str = "") -> str:
    """``path`` with every parameter naming a stored row, except ``bad_name``, which gets ``bad_value``."""
    return PARAMETER.sub(
        lambda m: bad_value if m.group(1) == bad_name else str(world.get(WORLD_KEYS.get(m.group(1), ""), "1")), path
    )


def test_out_of_range_ids_in_every_api_path_answer_404(http, server, world, stored):
    cases = [
        Bad(method, with_ids(path, world, name, value).replace("{", "{{").replace("}", "}}"), body, status=404)
        for method, path, operation in document_operations(http, server)
        for name in PARAMETER.findall(path)
        if name not in TEXT_PARAMETERS
        for value in (*OUT_OF_RANGE_PATH_IDS, *UNKNOWN_BIG_IDS)
        for body in ([{}] if "requestBody" in operation else [None])
    ]
    assert len(cases) > 300
    check_all(cases, http, server, world, stored)


def test_a_nul_in_any_query_parameter_answers_400_naming_it(http, server, world, stored):
    cases = []
    for method, path, operation in document_operations(http, server):
        names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        names += ["limit", "cursor"] if any("$ref" in p for p in operation.get("parameters", [])) else []
        for name in [*names, "anything"]:
            target = with_ids(path, world).replace("{", "{{").replace("}", "}}")
            cases.append(Bad(method, f"{target}?{name}=a%00b", {} if "requestBody" in operation else None, field=name))
    check_all(cases, http, server, world, stored)


def body_cases(world: dict[str, str]) -> list[Bad]:
    """Every ID a body carries, each with every out-of-range value."""
    runs, groups = "/projects/{project}/runs", "/projects/{project}/metric-groups"
    connection = {"repo": "acme/bot"}
    shapes = [
        ("POST", runs, lambda v: {"metricIds": [v]}, "metricIds.0"),
        ("POST", runs, lambda v: {"metricIds": [world["metric"]], "testsetId": v}, "testsetId"),
        ("POST", "/runs/{run}/records", lambda v: {**RECORD, "testcaseId": v}, "testcaseId"),
        ("POST", "/runs/{run}/records/batch", lambda v: {"items": [{**RECORD, "testcaseId": v}]}, "items.0.testcaseId"),
        ("POST", "/runs/{run}/rescore", lambda v: {"metricIds": [world["metric"], v]}, "metricIds.1"),
        ("POST", "/testcases/bulk-delete", lambda v: {"ids": [v]}, "ids.0"),
        ("POST", groups, lambda v: {"name": "g", "metricIds": [v]}, "metricIds.0"),
        ("PATCH", "/metric-groups/{group}", lambda v: {"metricIds": [v]}, "metricIds.0"),
        ("PUT", "/projects/{project}/github", lambda v: {**connection, "testsetId": v}, "testsetId"),
        ("PUT", "/projects/{project}/github", lambda v: {**connection, "metricIds": [v]}, "metricIds.0"),
        ("POST", "/projects/{project}/kickoffs", lambda v: {"testsetId": v, "metricIds": ["1"]}, "testsetId"),
        ("POST", "/projects/{project}/kickoffs", lambda v: {"testsetId": "1", "metricIds": [v]}, "metricIds.0"),
    ]
    cases = [
        Bad(method, path, shape(value), field=field)
        for method, path, shape, field in shapes
        for value in OUT_OF_RANGE_BODY_IDS
    ]
    # GitHub's installation IDs are JSON numbers, positive, and fit a 64-bit key too.
    cases += [
        Bad("PUT", "/projects/{project}/github", {**connection, "installationId": value}, field="installationId")
        for value in (2**63, 10**30, 0, -1, 1.5, "7", True)
    ]
    return cases


def test_out_of_range_ids_in_bodies_answer_400_naming_the_field(http, server, world, stored):
    check_all(body_cases(world), http, server, world, stored)


def test_out_of_range_ids_in_query_strings_answer_400_naming_the_parameter(http, server, world, stored):
    project, run = world["project"], world["run"]
    cases = [
        Bad("GET", f"{path}?{name}={value}", field=name)
        for value in OUT_OF_RANGE_PATH_IDS
        for path, name in (
            (f"/projects/{project}/runs", "testsetId"),
            (f"/projects/{project}/history", "testsetId"),
            (f"/projects/{project}/history", "metricIds"),
            (f"/runs/{run}/compare", "baselineRunId"),
        )
    ]
    cases += [Bad("GET", f"/projects/{project}/history?limit={value}", field="limit") for value in ("%C2%B2", "1e3")]
    check_all(cases, http, server, world, stored)


def test_the_largest_ids_are_valid_everywhere(http, server, world, client):
    project = world["project"]
    assert client.get(f"/projects/{project}/runs", testsetId=MAX_ID)["data"] == []
    assert client.get(f"/projects/{project}/history", testsetId=MAX_ID, metricIds=f"2147483648,{MAX_ID}") == {
        "metrics": []
    }
    assert_error(http.get(f"{server.api_url}/runs/{world['run']}/compare", params={"baselineRunId": MAX_ID}), 404)
    for installation_id in (2**31, MAX_ID):
        connection = client.put(f"/projects/{project}/github", {"repo": "acme/bot", "installationId": installation_id})
        assert (
            client.get(f"/projects/{project}/github")["installationId"]
            == connection["installationId"]
            == (installation_id)
        )
    response = http.post(f"{server.api_url}/projects/{project}/runs", json={"metricIds": [str(MAX_ID)]})
    assert_error(response, 404)


def test_the_ui_answers_out_of_range_ids_with_its_error_page(server, api_key, world):
    browser = sign_in(server, api_key)
    project, run = world["project"], world["run"]
    pages = [
        (template.format(bad), 404)
        for bad in (*OUT_OF_RANGE_PATH_IDS, *UNKNOWN_BIG_IDS)
        for template in (
            "/projects/{}",
            f"/projects/{{}}/runs/{run}",
            f"/projects/{project}/runs/{{}}",
            f"/projects/{project}/runs/{run}/records/{{}}",
            f"/projects/{{}}/runs/{run}/export.csv",
        )
    ]
    pages += [(f"/projects/{project}{query}", 400) for query in ("?cursor=9223372036854775808", "?source=a%00b")]
    pages += [(f"/projects/{project}/runs/{run}{query}", 400) for query in ("?cursor=-1", "?x=%00")]
    for path, status in pages:
        response = browser.get(f"{server.url}{path}", allow_redirects=False)
        assert response.status_code == status, (path, response.status_code, response.text[:300])
        assert response.headers["Content-Type"].startswith("text/html"), path
        assert "Internal" not in response.text, path


@pytest.fixture
def ids_from_2_to_the_62(database_url):
    """Every table's sequence starts past 2^62 (PostgreSQL's INTEGER stops at 2^31-1)."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        sequences = (
            conn.execute(
                text(
                    "SELECT pg_get_serial_sequence(quote_ident(table_name), 'id') FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND column_name = 'id' AND column_default LIKE 'nextval%'"
                )
            )
            .scalars()
            .all()
        )
        for sequence in sequences:
            conn.execute(text("SELECT setval(:sequence, :start)"), {"sequence": sequence, "start": 2**62})
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_rows_with_ids_past_2_to_the_62_work_in_every_api_get_and_ui_page(
    ids_from_2_to_the_62, http, server, api_key, world
):
    assert all(int(world[key]) > 2**62 for key in ("project", "testset", "testcase", "metric", "run", "record"))
    for method, path, _operation in document_operations(http, server):
        # Attachments have UUIDs (and the world none): their GETs take no integer ID.
        if method == "GET" and not path.endswith("/github") and "{attachmentId}" not in path:
            response = http.get(f"{server.api_url}{with_ids(path, world)}", params={"baselineRunId": world["run"]})
            assert response.status_code == 200, (path, response.text[:300])
    browser = sign_in(server, api_key)
    run_page = f"/projects/{world['project']}/runs/{world['run']}"
    for page in (
        "/",
        f"/projects/{world['project']}",
        run_page,
        f"{run_page}/records/{world['record']}",
        f"{run_page}/export.csv",
    ):
        response = browser.get(f"{server.url}{page}", allow_redirects=False)
        assert response.status_code == 200, (page, response.text[:300])
    assert world["record"] in browser.get(f"{server.url}{run_page}").text


def test_ui_forms_refuse_out_of_range_ids_with_a_message(server, api_key, client, world):
    browser = sign_in(server, api_key)
    project, run = world["project"], world["run"]
    client.put(f"/projects/{project}/github", {"repo": "acme/bot"})  # the kickoff form needs a connection
    run_url = f"{server.url}/projects/{project}/runs/{run}"
    token = csrf_token(browser.get(run_url).text)
    for bad in ("9223372036854775808", "-1", "²"):
        refused = browser.post(f"{run_url}/rescore", data={"metric_id": [world["metric"], bad], "csrf_token": token})
        assert refused.status_code == 400 and "Choose metrics from the list" in refused.text, refused.text[:300]
        refused = browser.post(
            f"{server.url}/projects/{project}/kickoff",
            allow_redirects=False,
            data={
                "testset_id": bad,
                "metric_id": world["metric"],
                "csrf_token": token,
            },
        )
        assert refused.status_code == 400 and "is not in this project" in refused.text, refused.text[:300]
