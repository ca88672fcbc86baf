"""One process executes a server run at a time: two servers on one database, both looking for
runs to resume while one of them executes a kickoff, call the system once per testcase."""

from __future__ import annotations

from scorecard_core.client import ScorecardClient
from server import executions
from tests.conftest import start_server, wait_for_run
from tests.server.test_scoring_lifecycle import make_project
from tests.server.test_server_runs import PROMPT, SYSTEM_MODEL, judged_metric, kickoff, version_of

CASES = 20


def test_two_servers_on_one_database_execute_a_run_once(database_url, fake_openai):
    settings = {"OPENAI_BASE_URL": fake_openai.url, "OPENAI_API_KEY": "test-key", "SCORING_LEASE_SECONDS": 0.6}
    first = start_server(database_url, **settings)
    second = None
    try:
        client = ScorecardClient(first.api_url, first.new_api_key(), max_retries=0)
        project, testset, _testcases = make_project(client, cases=CASES)
        judge = judged_metric(client, project)
        fake_openai.delay = 0.1
        run = kickoff(client, project, testset, [judge["id"]], version_of(client, project, PROMPT), concurrency=2)
        # The second server resumes lapsed runs at start and every 0.6 s: this one is leased.
        second = start_server(database_url, **settings)
        finished = wait_for_run(client, run["id"], timeout=60)
    finally:
        for live in (first, second):
            if live is not None:
                executions.stop(live.app)
                live.stop()
    assert finished["status"] == "completed", finished["statusDetail"]
    assert finished["numRecords"] == CASES
    assert len([r for r in fake_openai.requests if r["model"] == SYSTEM_MODEL]) == CASES
