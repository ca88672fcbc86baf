"""The runner streams the testset: the first system call starts when the first page of testcases
arrives, not after the last, and a resumed run skips the trials already recorded as pages come."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.cli import run_system
from runner.config import load
from runner.scorecard_api import RunnerApi
from tests.server.test_scoring_lifecycle import make_project, metric, upload

SYSTEM = """
import time

def run_system(inputs, system_config=None):
    with open({log!r}, "a") as log:
        log.write(f"{{time.time()}} {{inputs['question']}}\\n")
    return {{"answer": "a" + inputs["question"][1:]}}
"""
PAGE_SIZE = 2
PAGE_SECONDS = 0.2


class SlowPagedApi(RunnerApi):
    """Our server, answering in small pages, each slow: when each page arrived is kept. With
    ``fail_after``, the page after that many raises, as a network failure would."""

    def __init__(self, client, fail_after: int | None = None) -> None:
        super().__init__(client)
        self.page_times: list[float] = []
        self.fail_after = fail_after

    def testcase_pages(self, testset_id: str, page_size: int = PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        for page in super().testcase_pages(testset_id, page_size):
            if len(self.page_times) == self.fail_after:
                raise ConnectionError("the testset's next page could not be fetched")
            time.sleep(PAGE_SECONDS)
            self.page_times.append(time.time())
            yield page


def runner_config(client, workspace: Path, project, testset, **inputs):
    calls = workspace / "calls.log"
    (workspace / "logged.py").write_text(SYSTEM.format(log=str(calls)))
    config = load(
        {
            "SCORECARD_API_URL": client.base_url,
            "SCORECARD_API_KEY": client.http.headers["Authorization"][7:],
            "SCORECARD_PROJECT_ID": project["id"],
            "SCORECARD_TESTSET_ID": testset["id"],
            "SCORECARD_METRIC_IDS": metric(client, project, name="Graded", evalType="human", outputType="boolean")[
                "id"
            ],
            "SCORECARD_SYSTEM": "logged:run_system",
            "SCORECARD_PYTHON": sys.executable,
            "SCORECARD_WORKING_DIRECTORY": str(workspace),
            **{f"SCORECARD_{name.upper()}": str(value) for name, value in inputs.items()},
        }
    )
    return config, calls


def run_logged(client, workspace: Path, project, testset, **inputs) -> tuple[SlowPagedApi, list[tuple[float, str]]]:
    """Run the logging system over the testset; the API and each call's (time, question)."""
    config, calls = runner_config(client, workspace, project, testset, **inputs)
    api = SlowPagedApi(client)
    run = api.get_run(str(inputs["run_id"])) if "run_id" in inputs else api.start_run(config)
    progress, _uploader = run_system(config, api, run)
    assert progress.total == progress.ok
    logged = [line.split(" ", 1) for line in calls.read_text().splitlines()]
    return api, [(float(moment), question) for moment, question in logged]


def test_the_first_call_starts_before_the_last_page_arrives(client, tmp_path):
    project, testset, _testcases = make_project(client, cases=10)
    api, calls = run_logged(client, tmp_path, project, testset, concurrency=2)
    assert len(api.page_times) == 5
    assert sorted(question for _moment, question in calls) == sorted(f"q{i}" for i in range(10))
    assert min(moment for moment, _question in calls) < api.page_times[-1] - PAGE_SECONDS


def test_a_resumed_run_skips_the_recorded_trials(client, tmp_path):
    project, testset, testcases = make_project(client, cases=6)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": []})
    upload(client, run, testcases[:3])  # testcases q0..q2 have one of their two trials
    _api, calls = run_logged(client, tmp_path, project, testset, run_id=run["id"], trials=2)
    questions = [question for _moment, question in calls]
    assert sorted(questions) == sorted(["q0", "q1", "q2"] + [f"q{i}" for i in range(3, 6)] * 2)
    assert len(list(client.paginate(f"/runs/{run['id']}/records"))) == 12


def test_calls_made_before_a_page_fails_are_still_uploaded(client, tmp_path):
    project, testset, _testcases = make_project(client, cases=10)
    config, calls = runner_config(client, tmp_path, project, testset, concurrency=2)
    api = SlowPagedApi(client, fail_after=2)
    run = api.start_run(config)
    with pytest.raises(ConnectionError):
        run_system(config, api, run)
    called = calls.read_text().splitlines()
    assert len(called) == 4  # the two pages that arrived
    # A resumed run does not pay for these calls again: their records are on the server.
    assert len(list(client.paginate(f"/runs/{run['id']}/records"))) == 4
