"""One run filled by several jobs: the Action's `create`, `shard` and `report` modes. The split of
the testcases, the inputs' checks, and ``python -m runner`` in each mode against our live server."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import pytest

from runner.cli import check_records, run_system
from runner.config import ConfigError, load
from runner.scorecard_api import RunnerApi
from runner.shards import Gaps, Shard, find_gaps, shard_of, tally_records
from tests.runner.test_config import BASE
from tests.runner.test_runner_cli import CRASHY_SYSTEM, run_runner
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric

# -- which testcases a shard runs ----------------------------------------------------------------


def test_a_testcase_shard_is_fixed_by_its_id():
    """Pinned: jobs of one workflow, and a shard re-run by a newer runner, must agree."""
    assert [shard_of(str(i), 3) for i in range(1, 9)] == [1, 1, 3, 1, 2, 2, 3, 2]
    assert shard_of("1", 1) == 1 and shard_of("12345", 7) == shard_of("12345", 7)


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_the_shards_split_the_testcases_into_a_partition(count):
    ids = [str(i) for i in range(1, 2001)]
    holders = {i: [s for s in range(1, count + 1) if Shard(s, count).holds(i)] for i in ids}
    assert all(len(found) == 1 for found in holders.values())  # every testcase in exactly one shard
    sizes = Counter(found[0] for found in holders.values())
    assert sorted(sizes) == list(range(1, count + 1))
    assert max(sizes.values()) - min(sizes.values()) < 2000 / count * 0.25  # and roughly even


@pytest.mark.parametrize(("text", "shard"), [("2/3", Shard(2, 3)), (" 1 / 1 ", Shard(1, 1)), ("3/3", Shard(3, 3))])
def test_a_shard_is_written_i_of_n(text, shard):
    assert Shard.parse(text) == shard and str(shard) == text.replace(" ", "")


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "2", "1/0", "-1/3", "1/3/3", "1.5/3"])
def test_a_malformed_shard_is_refused(text):
    assert Shard.parse(text) is None


# -- what the report job finds missing -----------------------------------------------------------

PAGES = [[{"id": i} for i in range(1, 6)], [{"id": i} for i in range(6, 10)]]


def recorded(*testcase_ids: int) -> Counter[str]:
    return Counter(str(t) for t in testcase_ids)


def test_a_complete_run_has_no_gaps():
    assert find_gaps(PAGES, recorded(*range(1, 10)), trials=1).problems(3) == []


def test_the_missing_testcases_are_put_down_to_their_shards():
    lost = [t for t in range(1, 10) if shard_of(str(t), 3) == 2]
    gaps = find_gaps(PAGES, recorded(*(t for t in range(1, 10) if t not in lost)), trials=1)
    assert gaps.missing == [str(t) for t in lost]
    assert gaps.problems(3) == [
        f"shard 2/3 failed: {len(lost)} of its {len(lost)} testcases have no record; re-run it to fill them"
    ]


def test_without_a_shard_count_the_missing_testcases_are_named():
    gaps = find_gaps(PAGES, recorded(1, 2), trials=1)
    [problem] = gaps.problems(None)
    assert problem.startswith("the run is incomplete: 7 of 9 testcases have no record (testcase 3, 4, 5, 6, 7, ...)")
    assert "`shard-count`" in problem


def test_with_trials_a_testcase_needs_every_trial():
    gaps = find_gaps(PAGES, recorded(*range(1, 10), *range(1, 9)), trials=2)
    assert gaps.missing == ["9"]
    assert gaps.problems(1) == [
        "shard 1/1 failed: 1 of its 9 testcases have fewer than 2 records; re-run it to fill them"
    ]
    assert Gaps(["1"], [], 2).problems(None) == []


def test_on_hosted_scorecard_failed_calls_are_known_by_their_outputs():
    records = [
        {"id": 1, "outputs": {"error": "RuntimeError: down"}},  # as a shard uploads a failed call
        {"id": 2, "outputs": {"answer": "a2"}},
        {"id": 3, "outputs": {"error": "no such city", "answer": "?"}},  # the system's own field
        {"id": 4, "outputs": {"error": {"code": 3}}},
        {"id": 5, "outputs": {"error": "x"}, "error": "x"},  # our server keeps the error itself
    ]
    assert tally_records(records) == (Counter(), {"1"})
    assert tally_records(iter([{"id": 1, "testcaseId": 7}, {"id": 2, "testcaseId": "7"}])) == (Counter({"7": 2}), set())


# -- the inputs ----------------------------------------------------------------------------------


def test_the_default_mode_is_full_and_runs_no_shard():
    config = load(BASE)
    assert (config.mode, config.shard, config.shard_count) == ("full", None, None)


def test_the_modes_and_their_inputs():
    shard = load({**BASE, "SCORECARD_MODE": "shard", "SCORECARD_SHARD": "2/3", "SCORECARD_RUN_ID": "9"})
    assert (shard.mode, shard.shard, shard.run_id) == ("shard", Shard(2, 3), "9")
    report = load({**BASE, "SCORECARD_MODE": "Report", "SCORECARD_RUN_ID": "9", "SCORECARD_SHARD_COUNT": "3"})
    assert (report.mode, report.shard_count) == ("report", 3)
    # Neither creating nor reporting calls the system, so neither needs it.
    assert load({**BASE, "SCORECARD_MODE": "create", "SCORECARD_SYSTEM": ""}).system == ""
    assert load({**BASE, "SCORECARD_MODE": "report", "SCORECARD_RUN_ID": "9", "SCORECARD_SYSTEM": ""}).mode == "report"


def test_a_kickoff_payload_cannot_change_the_mode(tmp_path):
    path = tmp_path / "event.json"
    path.write_text('{"client_payload": {"mode": "create", "shard": "1/2"}}')
    config = load({**BASE, "GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_EVENT_PATH": str(path)})
    assert (config.mode, config.shard) == ("full", None)


SHARDED = {**BASE, "SCORECARD_MODE": "shard", "SCORECARD_RUN_ID": "9"}


@pytest.mark.parametrize(
    ("env", "name", "needle"),
    [
        ({**BASE, "SCORECARD_MODE": "all"}, "mode", "must be one of `full`, `create`, `shard`, `report`, not 'all'"),
        ({**SHARDED, "SCORECARD_SHARD": "0/3"}, "shard", "must be `i/N` with i from 1 to N, e.g. `2/3`"),
        ({**SHARDED, "SCORECARD_SHARD": "4/3"}, "shard", "not '4/3'"),
        ({**SHARDED, "SCORECARD_SHARD": "x"}, "shard", "not 'x'"),
        (SHARDED, "shard", "is required with `mode: shard`"),
        ({**BASE, "SCORECARD_SHARD": "1/3"}, "shard", "is only used with `mode: shard`, not `mode: full`"),
        ({**SHARDED, "SCORECARD_SHARD": "1/3", "SCORECARD_SHARD_COUNT": "3"}, "shard-count", "`mode: report`"),
        ({**SHARDED, "SCORECARD_MODE": "report", "SCORECARD_SHARD_COUNT": "none"}, "shard-count", "whole number"),
        ({**SHARDED, "SCORECARD_SHARD": "1/3", "SCORECARD_RUN_ID": ""}, "run-id", "needs.create.outputs.run-id"),
        ({**BASE, "SCORECARD_MODE": "report"}, "run-id", "is required with `mode: report`"),
        ({**SHARDED, "SCORECARD_SHARD": "1/3", "SCORECARD_SYSTEM": ""}, "system", "is required"),
    ],
)
def test_a_bad_sharding_input_names_the_input_and_the_fix(env, name, needle):
    with pytest.raises(ConfigError) as caught:
        load(env)
    assert caught.value.input == name
    assert caught.value.message.startswith(f"input `{name}` ") and needle in caught.value.message, caught.value.message


def test_a_bad_shard_fails_the_step_with_one_error_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "GITHUB_ACTIONS": "true", **SHARDED, "SCORECARD_SHARD": "4/3"}
    result = subprocess.run(
        [sys.executable, "-m", "runner"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stdout.startswith("::error::input `shard` must be `i/N`"), result.stdout + result.stderr
    assert len(result.stdout.splitlines()) == 1 and "Traceback" not in result.stderr


# -- create, shards, report against our server ---------------------------------------------------

SHARDS = 3
RIGHT = """
def run_system(inputs, system_config=None):
    return {"answer": "a" + inputs["question"][1:]}
"""


@pytest.fixture
def database_url(sqlite_url) -> str:
    """Sharding does not depend on the database engine; the server tests cover both."""
    return sqlite_url


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "bot.py").write_text(RIGHT)
    return tmp_path


@pytest.fixture
def evaluation(client):
    project, testset, testcases = make_project(client, cases=12)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    return {"project": project, "testset": testset, "testcases": testcases, "metric": exact}


def create(client, evaluation, workspace) -> str:
    result, out = run_runner(client, evaluation, workspace, mode="create", system="")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "run the system" not in result.stdout  # creating calls nothing
    assert client.get(f"/runs/{out['run-id']}")["numRecords"] == 0
    return out["run-id"]


def run_shard(client, evaluation, workspace, run_id: str, shard: int) -> subprocess.CompletedProcess:
    result, out = run_runner(client, evaluation, workspace, mode="shard", run_id=run_id, shard=f"{shard}/{SHARDS}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" not in out and out["summary"] == ""  # no scores, no summary, no gate
    return result


def report(client, evaluation, workspace, run_id: str):
    return run_runner(client, evaluation, workspace, mode="report", run_id=run_id, shard_count=SHARDS, fail_under="0.9")


def records_per_testcase(client, run_id: str) -> Counter[str]:
    return Counter(r["testcaseId"] for r in client.paginate(f"/runs/{run_id}/records"))


def test_create_then_shards_then_report_fill_one_run(client, evaluation, workspace):
    run_id = create(client, evaluation, workspace)
    for shard in range(1, SHARDS + 1):
        run_shard(client, evaluation, workspace, run_id, shard)
    every = {tc["id"] for tc in evaluation["testcases"]}
    assert records_per_testcase(client, run_id) == Counter(every)  # every testcase once

    again = run_shard(client, evaluation, workspace, run_id, 2)
    assert ", 0 to run" in again.stdout and "(shard 2/3)" in again.stdout
    assert records_per_testcase(client, run_id) == Counter(every)  # the re-run added nothing

    result, out = report(client, evaluation, workspace, run_id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(every)} of {len(every)} testcases have their records" in result.stdout
    assert (out["run-id"], out["passed"], out["pass-rate"]) == (run_id, "true", "1.0000")
    assert out["summary"].startswith("### ✅") and "::error" not in result.stdout
    assert [r["id"] for r in client.get(f"/projects/{evaluation['project']['id']}/runs")["data"]] == [run_id]


def test_a_failed_shard_fails_the_report_which_names_it_until_it_is_run_again(client, evaluation, workspace):
    run_id = create(client, evaluation, workspace)
    lost_shard = shard_of(evaluation["testcases"][0]["id"], SHARDS)
    for shard in range(1, SHARDS + 1):
        if shard != lost_shard:
            run_shard(client, evaluation, workspace, run_id, shard)
    lost = sum(shard_of(tc["id"], SHARDS) == lost_shard for tc in evaluation["testcases"])

    result, out = report(client, evaluation, workspace, run_id)
    assert result.returncode == 1, result.stdout + result.stderr
    problem = f"shard {lost_shard}/{SHARDS} failed: {lost} of its {lost} testcases have no record; re-run it"
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert [line for line in errors if "title=Scorecard%3A incomplete run" in line and problem in line], errors
    assert out["passed"] == "false" and out["pass-rate"] == "1.0000"  # what is there passes; the run is not all there
    assert out["summary"].startswith("### ❌") and problem in out["summary"]
    heading = out["summary"].splitlines()[0]
    assert heading.endswith(": the run is incomplete") and "threshold" not in heading, heading

    run_shard(client, evaluation, workspace, run_id, lost_shard)  # "Re-run failed jobs": the shard, then the report
    result, out = report(client, evaluation, workspace, run_id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert out["passed"] == "true" and len(records_per_testcase(client, run_id)) == len(evaluation["testcases"])


def test_against_hosted_scorecard_the_report_finds_the_failed_calls_the_shards_uploaded(client, workspace):
    """Hosted Scorecard keeps no record error, and the report job did not upload the records: it
    must still count the shards' failed calls as failed (2 of 4 here)."""
    (workspace / "crashy.py").write_text(CRASHY_SYSTEM)
    project, testset, _testcases = make_project(client, cases=4)
    graded = metric(client, project, name="Graded", evalType="human", outputType="boolean")
    inputs = {
        "SCORECARD_API_URL": client.base_url,
        "SCORECARD_API_KEY": "unused: the client below is already signed in",
        "SCORECARD_PROJECT_ID": project["id"],
        "SCORECARD_TESTSET_ID": testset["id"],
        "SCORECARD_METRIC_IDS": graded["id"],
        "SCORECARD_SYSTEM": "crashy:half",
        "SCORECARD_PYTHON": sys.executable,
        "SCORECARD_WORKING_DIRECTORY": str(workspace),
    }
    api = RunnerApi(client)
    api.extended = False  # speak to our server as to hosted Scorecard: one POST per record, no record errors
    run = api.start_run(load({**inputs, "SCORECARD_MODE": "create"}))
    sharded = {**inputs, "SCORECARD_MODE": "shard", "SCORECARD_RUN_ID": str(run["id"])}
    for shard in ("1/2", "2/2"):
        run_system(load({**sharded, "SCORECARD_SHARD": shard}), api, run)

    reporting = load({**sharded, "SCORECARD_MODE": "report", "SCORECARD_SHARD_COUNT": "2"})
    gaps, failed_calls = check_records(reporting, api, run)
    assert gaps == []
    records = {str(r["id"]): r for r in client.paginate(f"/runs/{run['id']}/records")}
    assert len(records) == 4 and all(r["error"] is None for r in records.values())
    crashed = sorted(records[i]["inputs"]["question"] for i in failed_calls)
    assert crashed == ["q1", "q3"]  # crashy:half fails on odd questions


def test_a_report_with_no_shard_run_names_every_shard(client, evaluation, workspace):
    run_id = create(client, evaluation, workspace)
    result, out = report(client, evaluation, workspace, run_id)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    named = sorted(int(m[1]) for line in errors if (m := re.search(r"::shard (\d)/3 failed: (\d+) of its \2 ", line)))
    assert named == [1, 2, 3], errors
    assert out["passed"] == "false" and out["summary"].startswith("### ❌"), out["summary"]
