"""The one Scorecard API adapter, against our live server (extended) and as hosted Scorecard sees
it (no extensions): what each call sends, and what it answers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from scorecard_core.client import ApiError, ScorecardClient
from scorecard_core.run_status import SCORING, SETTLED
from scorecard_core.scorecard_api import ScorecardApi
from tests.conftest import LiveServer, start_server, wait_for_run
from tests.fakes.loopback import KeepAliveHandler, LoopbackService
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric, upload

GIT = {"repo": "acme/bot", "ref": "feature", "sha": "abc123", "prNumber": 7}


@pytest.fixture
def live(sqlite_url) -> Iterator[LiveServer]:
    """The adapter is about the API, not the database: SQLite is enough."""
    server = start_server(sqlite_url)
    yield server
    server.stop()


@pytest.fixture
def api(live) -> ScorecardApi:
    return ScorecardApi(ScorecardClient(live.api_url, live.new_api_key(), max_retries=0))


@pytest.fixture
def evaluation(api):
    project, testset, testcases = make_project(api.client, cases=3)
    exact = metric(api.client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    return project, testset, testcases, exact


def new_run(api: ScorecardApi, evaluation, **extensions) -> dict:
    project, testset, _testcases, exact = evaluation
    return api.create_run(project["id"], testset_id=testset["id"], metric_ids=[exact["id"]], **extensions)


def finished_run(api: ScorecardApi, evaluation, ref: str) -> dict:
    run = new_run(api, evaluation, source="github", git={**GIT, "ref": ref})
    upload(api.client, run, evaluation[2])
    api.end_execution(run["id"])
    return wait_for_run(api.client, run["id"])


class NoOpenApi(LoopbackService):
    """An API without our OpenAPI document, as hosted Scorecard answers a path it lacks."""

    class handler(KeepAliveHandler):
        def do_GET(self) -> None:
            body = json.dumps({"code": "NOT_FOUND", "message": "no such path"}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


def test_our_server_is_detected_and_a_server_without_our_document_is_not(api):
    assert api.extended is True
    with NoOpenApi() as hosted:
        assert ScorecardApi(ScorecardClient(hosted.origin, "key", max_retries=0)).extended is False


def test_on_our_server_runs_carry_source_and_git_and_execution_ends_by_patch(api, evaluation):
    run = new_run(api, evaluation, source="github", git=GIT)
    assert (run["source"], run["git"]) == ("github", GIT)
    updated = api.update_git(run["id"], {"actionsRunUrl": "https://github.com/acme/bot/actions/runs/9"})
    assert updated["git"] == {**GIT, "actionsRunUrl": "https://github.com/acme/bot/actions/runs/9"}
    upload(api.client, run, evaluation[2])
    api.end_execution(run["id"])
    assert api.get_run(run["id"])["status"] in SCORING | SETTLED


def test_without_extensions_only_the_public_api_is_used(api, evaluation):
    api.extended = False  # our server, spoken to as hosted Scorecard
    run = new_run(api, evaluation, source="github", git=GIT)
    assert (run["source"], run["git"]) == ("api", None)
    assert api.update_git(run["id"], GIT) is None
    api.end_execution(run["id"])
    assert api.get_run(run["id"])["status"] not in SCORING | SETTLED
    assert api.baseline_run(evaluation[0]["id"], evaluation[1]["id"], "main") is None


def test_report_data_is_the_run_its_metrics_by_id_and_its_records(api, evaluation):
    run = finished_run(api, evaluation, "main")
    same_run, metrics, records = api.report_data(run["id"])
    assert same_run["id"] == run["id"]
    assert list(metrics) == [evaluation[3]["id"]] and metrics[evaluation[3]["id"]]["name"] == "Exact"
    assert [r["testcaseId"] for r in records] == [tc["id"] for tc in evaluation[2]]
    assert api.recorded_trials(run["id"]) == {tc["id"]: 1 for tc in evaluation[2]}
    pages = list(api.testcase_pages(evaluation[1]["id"], page_size=2))
    assert [tc["id"] for page in pages for tc in page] == [tc["id"] for tc in evaluation[2]]
    assert all(1 <= len(page) <= 2 for page in pages)


def test_the_baseline_is_the_latest_finished_run_on_the_ref_other_than_the_run_itself(api, evaluation):
    project, testset = evaluation[0]["id"], evaluation[1]["id"]
    older, newer = finished_run(api, evaluation, "main"), finished_run(api, evaluation, "main")
    finished_run(api, evaluation, "other-branch")
    new_run(api, evaluation, source="github", git={**GIT, "ref": "main"})  # not finished: never a baseline
    assert api.baseline_run(project, testset, "main")["id"] == newer["id"]
    assert api.baseline_run(project, testset, "main", excluding=newer["id"])["id"] == older["id"]
    assert api.baseline_run(project, testset, "no-such-branch") is None


def test_recent_runs_are_the_newest_first_up_to_the_count(api, evaluation):
    runs = [new_run(api, evaluation) for _ in range(3)]
    assert [r["id"] for r in api.recent_runs(evaluation[0]["id"], 2)] == [runs[2]["id"], runs[1]["id"]]


def test_errors_are_the_clients(api):
    with pytest.raises(ApiError) as missing:
        api.system_config("00000000-0000-0000-0000-000000000000")
    assert missing.value.status == 404
