"""Runs the server executes itself: a kickoff with target `scorecard` (a prompt version, against the
fake OpenAI) or `endpoint` (an HTTP endpoint on loopback) fills the run in the background, the
records are scored as usual, a cancel stops it, and a server killed halfway finishes the run after
it restarts with exactly one record per testcase and trial."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, func, select

from scorecard_core.client import ApiError, ScorecardClient
from scorecard_core.models import Record
from server import executions
from tests.conftest import wait_for_run
from tests.fakes.loopback import KeepAliveHandler, LoopbackService
from tests.fakes.openai_server import FakeOpenAI
from tests.server.test_scoring_lifecycle import make_project, metric
from tests.support.processes import create_api_key, serving

SYSTEM_MODEL = "system-model"
PROMPT = {
    "kind": "prompt",
    "model": SYSTEM_MODEL,
    "temperature": 0,
    "messages": [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Question: {{ inputs.question }}"},
    ],
}


@pytest.fixture
def client(server, client):
    """conftest's client; no execution outlives its test (the next one may reuse the database)."""
    yield client
    executions.stop(server.app)


def judged_metric(client, project) -> dict:
    return metric(client, project, name="Judge", evalType="ai", outputType="boolean", promptTemplate="VERDICT: pass")


def version_of(client, project, config, name="bot") -> str:
    system = client.post(f"/projects/{project['id']}/systems", {"name": name, "config": config})
    return system["productionVersion"]["id"]


def kickoff(client, project, testset, metric_ids, version_id, **fields) -> dict:
    body = {"testsetId": testset["id"], "metricIds": metric_ids, "systemVersionId": version_id, **fields}
    return client.post(f"/projects/{project['id']}/kickoffs", {"target": "scorecard", **body})


def fake_answer(user_message: str) -> str:
    """The fake OpenAI's answer to a prompt without a response format."""
    return f"fake answer {hashlib.sha256(user_message.encode()).hexdigest()[:8]}"


def test_a_prompt_version_runs_on_the_server_and_is_scored(client, fake_openai):
    project, testset, testcases = make_project(client, cases=50)
    judge = judged_metric(client, project)
    run = kickoff(client, project, testset, [judge["id"]], version_of(client, project, PROMPT), concurrency=8)
    assert (run["source"], run["numExpectedRecords"]) == ("kickoff", 50)

    finished = wait_for_run(client, run["id"], timeout=60)
    assert finished["status"] == "completed", finished["statusDetail"]
    assert (finished["numRecords"], finished["numScores"]) == (50, 50)

    records = list(client.paginate(f"/runs/{run['id']}/records"))
    asked = [r for r in fake_openai.requests if r["model"] == SYSTEM_MODEL]
    questions = {tc["id"]: tc["inputs"]["question"] for tc in testcases}
    assert sorted(m["messages"][1]["content"] for m in asked) == sorted(f"Question: {q}" for q in questions.values())
    assert all(m["messages"][0] == {"role": "system", "content": "Answer in one word."} for m in asked)
    assert sorted(r["testcaseId"] for r in records) == sorted(questions)
    for record in records:
        assert record["outputs"] == {"response": fake_answer(f"Question: {questions[record['testcaseId']]}")}
        assert record["error"] is None and len(record["scores"]) == 1
        assert record["metadata"]["model"] == SYSTEM_MODEL
        usage = record["metadata"]["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


class _EchoHandler(KeepAliveHandler):
    """Answers `{"data": {"answer": <the question, upper-cased>}}`."""

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.fake.seen.append(body)
        answer = json.dumps({"data": {"answer": body["q"].upper()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class EchoEndpoint(LoopbackService):
    handler = _EchoHandler
    name = "echo-endpoint"

    def __init__(self) -> None:
        self.seen: list[dict] = []


def test_an_endpoint_version_runs_each_trial_once(client):
    project, testset, testcases = make_project(client, cases=5)
    exact = client.post(
        f"/projects/{project['id']}/metrics",
        {
            "name": "Exact",
            "evalType": "heuristic",
            "outputType": "boolean",
            "guidelines": "g",
            "heuristic": {"type": "exact_match", "outputField": "output", "expectedField": "answer"},
        },
    )
    with EchoEndpoint() as endpoint:
        config = {
            "kind": "endpoint",
            "url": f"{endpoint.origin}/answer",
            "method": "POST",
            "headers": {"Content-Type": "application/json"},
            "body": '{"q": {{ inputs.question | tojson }}}',
            "responsePath": "/data/answer",
        }
        version = version_of(client, project, config, name="echo")
        run = kickoff(client, project, testset, [exact["id"]], version, target="endpoint", trials=2)
        finished = wait_for_run(client, run["id"], timeout=60)
    assert finished["numExpectedRecords"] == finished["numRecords"] == 10
    assert finished["status"] == "completed", finished["statusDetail"]
    records = list(client.paginate(f"/runs/{run['id']}/records"))
    assert Counter(r["testcaseId"] for r in records) == {tc["id"]: 2 for tc in testcases}
    assert {r["outputs"]["output"] for r in records} == {tc["inputs"]["question"].upper() for tc in testcases}
    assert len(endpoint.seen) == 10


@pytest.mark.parametrize(
    "config, target, field, problem",
    [
        ({"model": "gpt-4o"}, "scorecard", "systemVersionId", "has no `kind`"),
        (PROMPT, "endpoint", "systemVersionId", "is a `prompt` system"),
        ({**PROMPT, "temperature": 9}, "scorecard", "config.temperature", "from 0 to 2"),
        ({"kind": "endpoint", "url": "ftp://example.com"}, "endpoint", "config.url", ""),
    ],
)
def test_a_version_that_cannot_run_is_refused_before_anything_is_made(client, config, target, field, problem):
    project, testset, _testcases = make_project(client, cases=2)
    judge = judged_metric(client, project)
    version = version_of(client, project, config)
    with pytest.raises(ApiError) as refused:
        kickoff(client, project, testset, [judge["id"]], version, target=target)
    assert refused.value.status == 400 and refused.value.details["field"] == field, refused.value
    assert problem in str(refused.value)
    assert client.get(f"/projects/{project['id']}/runs")["data"] == []


def test_a_server_target_needs_a_system_version(client):
    project, testset, _testcases = make_project(client, cases=1)
    judge = judged_metric(client, project)
    with pytest.raises(ApiError) as refused:
        client.post(
            f"/projects/{project['id']}/kickoffs",
            {"target": "scorecard", "testsetId": testset["id"], "metricIds": [judge["id"]]},
        )
    assert refused.value.status == 400 and refused.value.details["field"] == "systemVersionId"


def test_a_metric_group_names_the_metrics(client):
    project, testset, _testcases = make_project(client, cases=3)
    judge = judged_metric(client, project)
    group = client.post(f"/projects/{project['id']}/metric-groups", {"name": "g", "metricIds": [judge["id"]]})
    body = {"target": "scorecard", "testsetId": testset["id"], "metricGroupId": group["id"]}
    run = client.post(
        f"/projects/{project['id']}/kickoffs", {**body, "systemVersionId": version_of(client, project, PROMPT)}
    )
    assert run["metricIds"] == [judge["id"]]
    assert wait_for_run(client, run["id"], timeout=60)["status"] == "completed"


def test_cancel_stops_the_calls_and_scores_what_was_recorded(client, fake_openai):
    project, testset, _testcases = make_project(client, cases=40)
    judge = judged_metric(client, project)
    fake_openai.delay = 0.2
    run = kickoff(client, project, testset, [judge["id"]], version_of(client, project, PROMPT), concurrency=2)
    while client.get(f"/runs/{run['id']}")["numRecords"] < 2:
        time.sleep(0.05)

    cancelled = client.post(f"/runs/{run['id']}/cancel", {})
    assert "Cancelled by api-key:" in cancelled["notes"]
    assert cancelled["status"] not in ("pending", "awaiting_execution", "running_execution")
    calls = len([r for r in fake_openai.requests if r["model"] == SYSTEM_MODEL])
    finished = wait_for_run(client, run["id"], timeout=60)
    assert finished["status"] == "completed", finished["statusDetail"]
    assert 2 <= finished["numRecords"] < 40 and finished["numScores"] == finished["numRecords"]
    time.sleep(0.5)
    assert len([r for r in fake_openai.requests if r["model"] == SYSTEM_MODEL]) == calls  # none started since

    with pytest.raises(ApiError) as again:
        client.post(f"/runs/{run['id']}/cancel", {})
    assert again.value.status == 409 and "already ended" in str(again.value)
    api_run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [judge["id"]]})
    with pytest.raises(ApiError) as foreign:
        client.post(f"/runs/{api_run['id']}/cancel", {})
    assert foreign.value.status == 409 and "not executed by this server" in str(foreign.value)


CASES = 30


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_a_server_gone_halfway_finishes_the_run_after_it_restarts(sqlite_url, tmp_path, how):
    """SIGKILL (a crash) or SIGTERM (a deploy: the run is left executing, to be resumed)."""
    key = create_api_key(sqlite_url)
    with FakeOpenAI(delay=0.1) as model:
        # Short leases: the judge calls the killed server had claimed are claimed again soon.
        env = {"OPENAI_BASE_URL": model.url, "OPENAI_API_KEY": "test-key", "SCORECARD_SCORING_LEASE_SECONDS": "2"}
        log = tmp_path / "server.log"
        with serving(sqlite_url, log, env) as first:
            client = ScorecardClient(first.api_url, key, max_retries=0)
            project, testset, _testcases = make_project(client, cases=CASES)
            judge = judged_metric(client, project)
            run = kickoff(client, project, testset, [judge["id"]], version_of(client, project, PROMPT), concurrency=2)
            while client.get(f"/runs/{run['id']}")["numRecords"] < 4:
                time.sleep(0.05)
            if how == "killed":
                first.kill()
            else:
                assert first.stop() == 0

        engine = create_engine(sqlite_url)
        with engine.connect() as conn:
            at_crash = conn.execute(select(func.count()).select_from(Record)).scalar_one()
        assert 4 <= at_crash < CASES

        with serving(sqlite_url, log, env) as second:
            client = ScorecardClient(second.api_url, key, max_retries=0)
            finished = wait_for_run(client, run["id"], timeout=90)
            assert finished["status"] == "completed", finished["statusDetail"]
            assert second.stop() == 0

        with engine.connect() as conn:
            testcase_ids = conn.execute(select(Record.testcase_id).where(Record.run_id == int(run["id"]))).scalars()
            per_testcase = Counter(testcase_ids)
        engine.dispose()
        assert len(per_testcase) == CASES and set(per_testcase.values()) == {1}
        assert "Traceback" not in log.read_text(errors="replace")


class _KeyCheckingHandler(_EchoHandler):
    """Echoes, and keeps the X-Api-Key header each request carried."""

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        self.server.fake.keys.append(self.headers.get("X-Api-Key"))
        super().do_POST()


class KeyCheckingEndpoint(EchoEndpoint):
    handler = _KeyCheckingHandler

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str | None] = []


def test_a_secret_header_is_sent_but_never_returned(client):
    project, testset, _ = make_project(client, cases=2)
    human = metric(client, project, name="Graded", evalType="human", outputType="boolean")
    with KeyCheckingEndpoint() as endpoint:
        config = {
            "kind": "endpoint",
            "url": f"{endpoint.origin}/answer",
            "headers": {"X-Api-Key": {"secret": "sk-very-secret"}, "X-Plain": "shown"},
            "body": '{"q": {{ inputs.question | tojson }}}',
            "responsePath": "/data/answer",
        }
        version = version_of(client, project, config, name="keyed")
        run = kickoff(client, project, testset, [human["id"]], version, target="endpoint")
        wait_for_run(client, run["id"], statuses=("awaiting_human_scoring",), timeout=60)
    assert endpoint.keys == ["sk-very-secret", "sk-very-secret"]
    shown = client.get(f"/systems/versions/{version}")["config"]["headers"]
    assert shown == {"X-Api-Key": {"secret": True}, "X-Plain": "shown"}
    system = client.get(f"/projects/{project['id']}/systems")["data"][0]
    assert "sk-very-secret" not in json.dumps(system)


def test_an_endpoint_nothing_answers_is_refused_before_a_run_is_made(client):
    project, testset, _ = make_project(client, cases=2)
    human = metric(client, project, name="Graded", evalType="human", outputType="boolean")
    with EchoEndpoint() as gone:
        url = f"{gone.origin}/answer"  # nothing listens there once the block ends
    version = version_of(client, project, {"kind": "endpoint", "url": url}, name="gone")
    with pytest.raises(ApiError) as refused:
        kickoff(client, project, testset, [human["id"]], version, target="endpoint")
    assert refused.value.status == 400 and refused.value.details["field"] == "config.url"
    assert "accepts no connection" in refused.value.message
    metadata = version_of(client, project, {"kind": "endpoint", "url": "http://169.254.169.254/latest"}, name="md")
    with pytest.raises(ApiError) as forbidden:
        kickoff(client, project, testset, [human["id"]], metadata, target="endpoint")
    assert "SCORECARD_ENDPOINT_ALLOW_LINK_LOCAL=true" in forbidden.value.message
    assert client.get(f"/projects/{project['id']}/runs")["data"] == []
