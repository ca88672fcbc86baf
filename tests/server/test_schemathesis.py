"""Schemathesis against the live server, on SQLite and PostgreSQL: every operation of our OpenAPI
document, stateless (examples, coverage, fuzzing) and stateful (sequences following the links it
infers between operations), checking that nothing answers 5xx and that every status code, content
type, header and body is one the document declares. A bounded run (a fixed seed and a few
examples per operation); its counts are printed for the test log.

Path IDs name stored rows, and IDs in bodies and query strings do three times in four, so runs,
records, scores and kickoffs are created, scored, compared and deleted too.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from scorecard_core.client import ScorecardClient
from tests.conftest import LiveServer, start_server
from tests.fakes.github_server import ACTIONS_TOKEN, FakeGitHub
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric, upload

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
EXAMPLES_PER_OPERATION = 4
SEED = 8
TIME_LIMIT_SECONDS = 300  # a run takes 1-1.5 minutes; a hang must still end
REPO, WORKFLOW = "acme/bot", "scorecard-eval.yml"
SESSION = "fuzzed-session"
# IDs in bodies and query strings: three times in four one of a stored row's, else generated.
BOUND_IDS = {
    "testsets": ["query.testsetId", "body.testsetId"],
    "testcases": ["body.testcaseId", "body.items[*].testcaseId"],
    "spare_testcases": ["body.ids[*]"],
    "metrics": ["body.metricIds[*]"],
    "versions": ["body.systemVersionId"],
    "runs": ["query.baselineRunId"],
}


@pytest.fixture
def fuzzed_server(database_url, fake_openai) -> Iterator[LiveServer]:
    """The whole server, its judge and GitHub fakes: kickoffs and AI scoring answer too."""
    with FakeGitHub() as github:
        github.add_repo(REPO)
        github.add_workflow(REPO, WORKFLOW)
        live = start_server(
            database_url,
            OPENAI_BASE_URL=fake_openai.url,
            OPENAI_API_KEY="test-key",
            GITHUB_API_URL=github.url,
            GITHUB_TOKEN=ACTIONS_TOKEN,
            GITHUB_SECONDS_BETWEEN_WRITES=0,
        )
        yield live
        live.stop()


def stored_world(client: ScorecardClient) -> tuple[dict[str, str], dict[str, list[str]], dict[str, dict[str, str]]]:
    """A project with two finished runs over heuristic, AI and human metrics and two monitors,
    connected to GitHub, and spare rows for the deleting operations: path IDs, bound IDs by kind, and each deletion's path IDs."""
    # Spares first: generated small IDs ("1", "2") deleting testcases in bulk hit them, not the others.
    _, spare_testset, spare_testcases = make_project(client, cases=2)
    project, testset, testcases = make_project(client, cases=4)
    in_project = f"/projects/{project['id']}"
    metrics = [
        metric(client, project, name="exact", evalType="heuristic", outputType="boolean", heuristic=EXACT),
        metric(client, project, name="judged", evalType="ai", outputType="boolean"),
        metric(client, project, name="graded", evalType="human", outputType="int"),
    ]
    metric_ids = [m["id"] for m in metrics]
    spare_metric = metric(client, project, name="spare", evalType="human", outputType="int")
    groups = [client.post(f"{in_project}/metric-groups", {"name": f"g{i}", "metricIds": metric_ids}) for i in range(2)]
    systems = [client.post(f"{in_project}/systems", {"name": f"s{i}", "config": {"model": "m1"}}) for i in range(2)]
    version = client.post(f"/systems/{systems[0]['id']}/versions", {"config": {"model": "m2"}})
    runs = [
        client.post(
            f"{in_project}/runs",
            {
                "metricIds": metric_ids,
                "testsetId": testset["id"],
                "systemVersionId": version["id"],
            },
        )
        for _ in range(2)
    ]
    records = [upload(client, run, testcases) for run in runs]
    attachments = [committed_attachment(client, SESSION, f"notes {i}".encode()) for i in range(2)]
    spare_project = client.post("/projects", {"name": "spare"})
    monitors = [
        client.put(f"{in_project}/monitors", {"description": f"m{i}", "metrics": [metric_ids[1]]}) for i in range(2)
    ]
    for connected in (project, spare_project):
        client.put(f"/projects/{connected['id']}/github", {"repo": REPO, "workflow": WORKFLOW})
    paths = {
        "projectId": project["id"],
        "testsetId": testset["id"],
        "testcaseId": testcases[0]["id"],
        "metricId": metric_ids[0],
        "groupId": groups[0]["id"],
        "systemId": systems[0]["id"],
        "versionId": version["id"],
        "runId": runs[0]["id"],
        "recordId": records[0][0]["id"],
        "metricConfigId": runs[0]["metricVersionIds"][0],
        "attachmentId": attachments[0],
        "sessionId": SESSION,
        "monitorId": monitors[0]["id"],
    }
    bound = {
        "testsets": [testset["id"]],
        "testcases": [t["id"] for t in testcases],
        "spare_testcases": [t["id"] for t in spare_testcases],
        "metrics": metric_ids,
        "versions": [version["id"]],
        "runs": [r["id"] for r in runs],
    }
    spared = {
        "DELETE /testsets/{testsetId}": {"testsetId": spare_testset["id"]},
        "DELETE /metrics/{metricId}": {"metricId": spare_metric["id"]},
        "DELETE /metric-groups/{groupId}": {"groupId": groups[1]["id"]},
        "DELETE /systems/{systemId}": {"systemId": systems[1]["id"]},
        "DELETE /records/{recordId}": {"recordId": records[1][0]["id"]},
        "DELETE /attachments/{attachmentId}": {"attachmentId": attachments[1]},
        "DELETE /monitors/{monitorId}": {"monitorId": monitors[1]["id"]},
        "PUT /projects/{projectId}/github": {"projectId": spare_project["id"]},
        "DELETE /projects/{projectId}/github": {"projectId": spare_project["id"]},
    }
    return paths, bound, spared


def committed_attachment(client: ScorecardClient, session_id: str, content: bytes) -> str:
    started = client.post(
        "/attachments",
        {
            "sessionId": session_id,
            "filePath": "notes.txt",
            "contentType": "text/plain",
            "sha256": hashlib.sha256(content).hexdigest(),
            "sizeBytes": len(content),
        },
    )
    requests.put(started["uploadUrl"], data=content, timeout=30).raise_for_status()
    client.post(f"/attachments/{started['id']}/commit", {})
    return started["id"]


def config_file(path: Path, client: ScorecardClient) -> Path:
    """Schemathesis's TOML configuration. Path IDs name stored rows (random ones only ever reach
    "not found"; tests/server/test_id_range.py tries those on every path), deletions spare rows."""
    paths, bound, spared = stored_world(client)

    def table(values: dict[str, str]) -> str:
        return "{ " + ", ".join(f'"path.{name}" = {json.dumps(value)}' for name, value in values.items()) + " }"

    lines = [f"[dictionaries.{kind}]\nvalues = {json.dumps(values)}\n" for kind, values in bound.items()]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {json.dumps(value)}' for name, value in paths.items()]
    lines += [
        f'"{key}" = {{ dictionary = "{kind}", probability = 0.75 }}' for kind, keys in BOUND_IDS.items() for key in keys
    ]
    lines += [
        f'\n[[operations]]\ninclude-name = "{name}"\nparameters = {table(values)}' for name, values in spared.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_schemathesis(server: LiveServer, directory: Path) -> tuple[dict, str]:
    key = server.new_api_key("schemathesis")
    config = config_file(directory / "schemathesis.toml", ScorecardClient(server.api_url, key))
    report = directory / "schemathesis.json"
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{server.api_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        # One worker: with two, Hypothesis's lambda descriptions raced in CPython's ast module (a spurious error).
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, cwd=directory, timeout=TIME_LIMIT_SECONDS)
    assert report.exists(), finished.stdout[-3000:] + finished.stderr[-3000:]
    return json.loads(report.read_text()), finished.stdout


# One database per test file, so the two runs (the suite's longest tests) go to different workers.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_schemathesis_finds_no_failures(fuzzed_server, database_url, tmp_path, capsys):
    check_schemathesis(fuzzed_server, database_url, tmp_path, capsys)


def check_schemathesis(fuzzed_server: LiveServer, database_url: str, tmp_path: Path, capsys) -> None:
    result, output = run_schemathesis(fuzzed_server, tmp_path)
    engine = database_url.split(":", 1)[0].split("+", 1)[0]
    operations, cases = result["operations"], result["test_cases"]
    with capsys.disabled():
        print(
            f"\nschemathesis on {engine}: {operations['tested']} operations, {cases['generated']} test cases, "
            f"{cases['unique_failures']} failures, {len(result['errors'])} errors, {result['running_time']:.0f} s"
        )
    failures = json.dumps(result["failures"] + result["errors"])[:5000] + output[output.find("FAILURES") :][:20000]
    assert cases["unique_failures"] == 0 and not result["errors"], failures
    assert operations["tested"] == operations["total"] > 40, operations
    phases = {name: phase["status"] for name, phase in result["phases"].items()}
    assert phases == {"examples": "skip", "coverage": "success", "fuzzing": "success", "stateful": "success"}, phases
